"""Batch jobs: every input format, every kind of bad record, resume after SIGKILL, refusing mixed
settings, rank sharding (in process and under torchrun), and the Ray Data predictor."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stance.batch import JobConfig, JobError, part_name, read_manifest, run_job, settings_differences
from stance.batch_io import looks_dutch

from fixture_corpus import make_corpus

ROOT = Path(__file__).resolve().parents[1]
CLI = "from stance.cli import app; app()"


@pytest.fixture(scope="session")
def analyzer(model_dir):
    from stance.inference import load

    return load(str(model_dir), device="cpu")


def texts(n: int = 12, seed: int = 3) -> list[str]:
    return [a.text for a in make_corpus(n, seed=seed)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def job(inputs, out, model_dir, analyzer, **kw):
    cfg = JobConfig(inputs=tuple(str(i) for i in inputs), output_dir=str(out), model=str(model_dir), device="cpu",
                    progress=kw.pop("progress", False), **kw)
    return run_job(cfg, analyzer=analyzer)


def output(out: Path) -> list[dict]:
    """All output records, in part order."""
    rows = []
    for part in sorted((out / "parts").glob("*.jsonl")):
        rows += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    return rows


def errors(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]


def core(rows: list[dict]) -> list[tuple]:
    return [(r["id"], r["text"], json.dumps(r["claims"], sort_keys=True)) for r in rows]


# ---------------------------------------------------------------------------
# Formats


def test_every_input_format_gives_the_same_records(tmp_path, model_dir, analyzer, monkeypatch):
    rows = [{"id": f"n{i}", "text": t} for i, t in enumerate(texts())]
    write_jsonl(tmp_path / "in.jsonl", rows)
    with open(tmp_path / "in.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["id", "text"])
        writer.writeheader()
        writer.writerows(rows)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=5)
    results = {}
    for name in ("in.jsonl", "in.csv", "in.parquet"):
        summary = job([tmp_path / name], tmp_path / name.replace(".", "-"), model_dir, analyzer, part_size=5, chunk_size=3)
        assert summary.complete and summary.articles == len(rows) and summary.parts_done == 3
        results[name] = core(output(tmp_path / name.replace(".", "-")))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "in.jsonl").read_bytes())))
    job(["-"], tmp_path / "stdin", model_dir, analyzer, part_size=5, chunk_size=3)
    results["stdin"] = core(output(tmp_path / "stdin"))
    assert sorted(p.name for p in (tmp_path / "stdin" / "parts").iterdir()) == [f"stdin.s000.p0000{i}.jsonl" for i in range(3)]
    assert results["in.jsonl"] == results["in.csv"] == results["in.parquet"] == results["stdin"]
    # Chunking changes nothing: the records are those of one analyze_many call.
    expected = analyzer.analyze_many([r["text"] for r in rows], ids=[r["id"] for r in rows])
    assert [len(r[2]) > 2 for r in results["stdin"]] == [bool(a.claims) for a in expected]
    assert [json.loads(r[2])[0]["stance_probs"] for r in results["in.jsonl"]] == [dict(a.claims[0].stance_probs) for a in expected]


def test_parquet_output_parts_concatenate_into_one_table(tmp_path, model_dir, analyzer):
    import pyarrow.parquet as pq

    rows = [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(9))] + [{"id": "empty", "text": ""}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    job([tmp_path / "in.jsonl"], tmp_path / "pq", model_dir, analyzer, part_size=4, output_format="parquet")
    job([tmp_path / "in.jsonl"], tmp_path / "js", model_dir, analyzer, part_size=4)
    table = pq.read_table(tmp_path / "pq" / "parts")
    assert table.num_rows == len(rows) and len(list((tmp_path / "pq" / "parts").glob("*.parquet"))) == 3
    got = {r["id"]: r for r in table.to_pylist()}
    for ref in output(tmp_path / "js"):
        claims = got[ref["id"]]["claims"]
        assert [(c["start"], c["end"], c["stance"], c["stance_probs"], c["speaker"]["text"]) for c in claims] == \
               [(c["start"], c["end"], c["stance"], c["stance_probs"], c["speaker"]["text"]) for c in ref["claims"]]


# ---------------------------------------------------------------------------
# Bad records


def test_bad_jsonl_records_go_to_errors_and_the_rest_is_processed(tmp_path, model_dir, analyzer):
    huge = "De minister waarschuwt voor Huawei. " * 30_000  # ~1 MB
    lines = [
        b"\xef\xbb\xbf" + json.dumps({"id": "bom", "text": "De minister waarschuwt voor spionage."}).encode(),  # 1
        b'{"id": "x", "text": ',                                                       # 2 invalid JSON
        b'{"id": "notext"}',                                                           # 3 no text
        b'{"id": "num", "text": 42}',                                                  # 4 text not a string
        json.dumps({"text": "Zonder id zegt hij dit."}).encode(),                      # 5 no id
        bytes(range(128, 256)),                                                        # 6 binary garbage
        b'{"id": "latin1", "text": "caf\xe9 zegt dit."}',                              # 7 invalid UTF-8
        json.dumps({"id": "huge", "text": huge}).encode(),                             # 8 1 MB article
        b'{"id": "empty", "text": ""}',                                                # 9 empty text
        b'{"id": "crlf", "text": "Eerste zin.\\r\\nTweede zin, zei hij."}\r',         # 10 CRLF line and text
        json.dumps({"id": "en", "text": "The minister warned that the company is a risk to the network and that it should be banned."}).encode(),
        b"[1, 2, 3]",                                                                  # 12 not an object
        b'{"id": "sur", "text": "\\ud800 abc"}',                                       # 13 unpaired surrogate
        b'{"id": "null", "text": null}',                                               # 14 null text
        b"   ",                                                                        # 15 blank: not a record
        json.dumps({"id": "ok", "text": "Huawei ontkent alles, zegt de woordvoerder."}).encode(),  # 16
    ]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    t0 = time.perf_counter()
    summary = job([tmp_path / "in.jsonl"], tmp_path / "out", model_dir, analyzer, part_size=5, chunk_size=3, max_claims=50)
    assert time.perf_counter() - t0 < 60
    assert summary.complete and summary.errors == 8 and summary.articles == 7
    reasons = {e["line"]: e["reason"] for e in errors(tmp_path / "out")}
    assert sorted(reasons) == [2, 3, 4, 6, 7, 12, 13, 14]
    assert all(e["file"] == str(tmp_path / "in.jsonl") for e in errors(tmp_path / "out"))
    for line, fragment in {2: "invalid JSON", 3: "no 'text' field", 4: "got int", 6: "invalid UTF-8", 7: "invalid UTF-8",
                           12: "JSON object", 13: "surrogate", 14: "got null"}.items():
        assert fragment in reasons[line]
    assert len(list((tmp_path / "out" / "errors").glob("*.jsonl"))) == 3  # per part, merged into errors.jsonl
    got = {r["id"]: r for r in output(tmp_path / "out")}
    assert list(got) == ["bom", "in.jsonl:5", "huge", "empty", "crlf", "en", "ok"]
    assert got["bom"]["text"].startswith("De") and got["bom"]["claims"][0]["start"] == 0
    assert got["empty"]["claims"] == []
    crlf = got["crlf"]
    assert [crlf["text"][c["start"] : c["end"]] for c in crlf["claims"]] == ["Eerste zin.", "Tweede zin, zei hij."]
    assert got["en"]["flags"] == ["not_dutch"] and got["en"]["claims"]
    assert "flags" not in got["ok"] and got["ok"]["input"] == {"file": str(tmp_path / "in.jsonl"), "line": 16}
    assert got["huge"]["flags"] == ["claims_capped"] and len(got["huge"]["claims"]) == 50
    assert got["huge"]["analysed_chars"] == got["huge"]["claims"][-1]["end"] < len(huge)
    assert read_manifest(tmp_path / "out")["totals"] == {"records": 15, "articles": 7, "claims": sum(len(r["claims"]) for r in got.values()), "errors": 8}


def test_a_1mb_article_takes_bounded_time_with_the_default_cap(tmp_path, model_dir, analyzer):
    text = "Volgens de AIVD is het risico reëel, zei de minister. " * 20_000
    write_jsonl(tmp_path / "in.jsonl", [{"id": "huge", "text": text}])
    t0 = time.perf_counter()
    job([tmp_path / "in.jsonl"], tmp_path / "out", model_dir, analyzer)
    assert time.perf_counter() - t0 < 90
    (record,) = output(tmp_path / "out")
    assert len(record["claims"]) == 1000 and record["flags"] == ["claims_capped"] and len(record["text"]) == len(text)


def test_bad_csv_records(tmp_path, model_dir, analyzer):
    long_text = "Huawei zegt dat er geen risico is. " * 6000  # > csv's default 128 KiB field limit
    body = ("id,text\r\n"
            'a,"Eerste zin.\r\nTweede zin, zei hij."\r\n'
            ",Zonder id zegt hij dit.\r\n"
            "c,De minister waarschuwt.,extra\r\n"
            "e,\r\n"
            f"long,{long_text}\r\n").encode()
    bad = b"d,caf\xe9 zegt dit.\r\n"
    (tmp_path / "in.csv").write_bytes(b"\xef\xbb\xbf" + body + bad + b"f,Het kabinet waarschuwt.\r\n")
    summary = job([tmp_path / "in.csv"], tmp_path / "out", model_dir, analyzer, part_size=3)
    assert summary.complete and summary.articles == 5 and summary.errors == 2
    reasons = {e["row"]: e["reason"] for e in errors(tmp_path / "out")}
    assert "3 fields" in reasons[3] and "invalid UTF-8" in reasons[6]
    got = {r["id"]: r for r in output(tmp_path / "out")}
    assert list(got) == ["a", "in.csv:2", "e", "long", "f"]
    assert len(got["a"]["claims"]) == 2 and got["e"]["claims"] == [] and got["a"]["input"]["line"] == 3


def test_bad_parquet_records(tmp_path, model_dir, analyzer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["a", None, "c"], "text": ["De minister waarschuwt.", "Zonder id.", None]}), tmp_path / "s.parquet")
    pq.write_table(pa.table({"text": pa.array([b"Huawei ontkent.", b"caf\xe9"], pa.binary())}), tmp_path / "b.parquet")
    summary = job([tmp_path / "s.parquet", tmp_path / "b.parquet"], tmp_path / "out", model_dir, analyzer)
    assert summary.complete and summary.articles == 3 and summary.errors == 2
    assert [r["id"] for r in output(tmp_path / "out")] == ["b.parquet:1", "a", "s.parquet:2"]  # parts sort by name
    assert {(Path(e["file"]).name, e["row"]) for e in errors(tmp_path / "out")} == {("s.parquet", 3), ("b.parquet", 2)}


def test_a_missing_text_column_fails_before_any_work(tmp_path, model_dir, analyzer):
    (tmp_path / "in.csv").write_text("id,body\n1,Tekst.\n")
    with pytest.raises(JobError, match="no column 'text'.*--text-column"):
        job([tmp_path / "in.csv"], tmp_path / "out", model_dir, analyzer)
    job([tmp_path / "in.csv"], tmp_path / "out", model_dir, analyzer, text_column="body")
    assert [r["id"] for r in output(tmp_path / "out")] == ["1"]


# ---------------------------------------------------------------------------
# Resume and settings


class Crashing:
    """An analyzer that dies (as a kill would) on its n-th call."""

    def __init__(self, inner, n):
        self.inner, self.n, self.calls, self.device = inner, n, 0, inner.device

    def analyze_many(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.inner.analyze_many(*args, **kwargs)


def test_resume_skips_finished_parts_and_redoes_the_rest(tmp_path, model_dir, analyzer):
    write_jsonl(tmp_path / "in.jsonl", [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(20))])
    job([tmp_path / "in.jsonl"], tmp_path / "ref", model_dir, analyzer, part_size=4, chunk_size=2)
    crashing = Crashing(analyzer, 6)  # dies in the middle of the third part
    with pytest.raises(KeyboardInterrupt):
        job([tmp_path / "in.jsonl"], tmp_path / "out", model_dir, crashing, part_size=4, chunk_size=2)
    assert sorted(read_manifest(tmp_path / "out")["parts"]) == [part_name("in.jsonl", 0, p) for p in (0, 1)]
    assert list((tmp_path / "out" / "parts").glob(".*.tmp"))  # the torn part never became a part
    counting = Crashing(analyzer, 0)
    summary = job([tmp_path / "in.jsonl"], tmp_path / "out", model_dir, counting, part_size=4, chunk_size=2)
    assert (summary.parts_done, summary.parts_skipped, counting.calls) == (3, 2, 6)
    assert summary.complete and not list((tmp_path / "out" / "parts").glob(".*.tmp"))
    assert output(tmp_path / "out") == output(tmp_path / "ref")
    again = job([tmp_path / "in.jsonl"], tmp_path / "out", model_dir, analyzer, part_size=4, chunk_size=2)
    assert (again.parts_done, again.parts_skipped) == (0, 5)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path, model_dir, analyzer):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from kill_resume import kill_resume

    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(240, seed=5))])
    job([inp], tmp_path / "reference", model_dir, analyzer, part_size=12, chunk_size=6)  # uninterrupted, in process
    args = ["--model", str(model_dir), "--device", "cpu", "--part-size", "12", "--chunk-size", "6"]
    # SIGKILL once two parts are finished (of 20), then resume to the end in a second process.
    result = kill_resume(inp, tmp_path, args, kills=1, after_parts=2, reference=tmp_path / "reference", say=lambda line: None)
    assert result["complete"] and result["killed_mid_run"] >= 1
    assert (result["lost"], result["duplicated"], result["changed"]) == (0, 0, 0)
    assert result["got"] == result["reference"] == 240


def test_other_settings_are_refused_with_advice(tmp_path, model_dir, analyzer):
    from typer.testing import CliRunner

    from stance.cli import app

    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(4))])
    job([inp], tmp_path / "out", model_dir, analyzer, part_size=2)
    for change in ({"precision": "bf16"}, {"part_size": 3}, {"text_column": "body"}, {"max_claims": 7}):
        with pytest.raises(JobError, match=f"(?s){next(iter(change))}.*--overwrite"):
            job([inp], tmp_path / "out", model_dir, analyzer, **{"part_size": 2, **change})
    result = CliRunner().invoke(app, ["predict", str(inp), "-o", str(tmp_path / "out"), "--model", str(model_dir),
                                      "--device", "cpu", "--part-size", "5", "--no-progress"])
    assert result.exit_code == 2 and "part_size: 2 -> 5" in result.output and "--overwrite" in result.output
    os.utime(inp, ns=(1, 1))  # a new timestamp alone is no change
    assert job([inp], tmp_path / "out", model_dir, analyzer, part_size=2).parts_skipped == 2
    with open(inp, "a") as fh:
        fh.write(json.dumps({"id": "new", "text": "Nog een zin."}) + "\n")
    with pytest.raises(JobError, match="changed since the job started"):
        job([inp], tmp_path / "out", model_dir, analyzer, part_size=2)
    summary = job([inp], tmp_path / "out", model_dir, analyzer, part_size=3, overwrite=True)
    assert summary.parts_done == 2 and read_manifest(tmp_path / "out")["settings"]["part_size"] == 3
    assert sorted(p.name for p in (tmp_path / "out" / "parts").iterdir()) == ["in.s000.p00000.jsonl", "in.s000.p00001.jsonl"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(JobError, match="not empty"):
        job([inp], tmp_path / "other", model_dir, analyzer)


def test_settings_differences_name_each_change():
    base = {"model": {"name": "a", "sha256": "1"}, "precision": "fp32", "inputs": [{"path": "/x", "size": 1, "mtime_ns": 1, "head_sha256": "h"}]}
    moved = {**base, "model": {"name": "b", "sha256": "1"}}
    assert settings_differences(base, moved) == []  # the same weights under another path
    assert settings_differences(base, {**base, "model": {"name": "a", "sha256": "2"}})[0].startswith("model:")
    assert "inputs" in settings_differences(base, {**base, "inputs": []})[0]


# ---------------------------------------------------------------------------
# Scale-out


def test_two_ranks_split_the_parts_and_together_equal_one_run(tmp_path, model_dir, analyzer):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": t} for i, t in enumerate(texts(10, seed=1))])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": f"b{i}", "text": t} for i, t in enumerate(texts(7, seed=2))])
    job([a, b], tmp_path / "one", model_dir, analyzer, part_size=3)
    cfg = dict(inputs=(str(a), str(b)), output_dir=str(tmp_path / "two"), model=str(model_dir), device="cpu", progress=False, part_size=3)
    first = run_job(JobConfig(**cfg), analyzer=analyzer, rank=0, world_size=2)
    assert not first.complete and not (tmp_path / "two" / "errors.jsonl").exists()
    second = run_job(JobConfig(**cfg), analyzer=analyzer, rank=1, world_size=2)
    assert second.complete and (first.parts_done, second.parts_done) == (4, 3)
    assert output(tmp_path / "two") == output(tmp_path / "one")
    assert {p["rank"] for p in read_manifest(tmp_path / "two")["parts"].values()} == {0, 1}


@pytest.mark.slow
def test_torchrun_two_processes(tmp_path, model_dir, analyzer):
    rows = [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(30, seed=4))]
    inp = write_jsonl(tmp_path / "in.jsonl", rows)
    job([inp], tmp_path / "one", model_dir, analyzer, part_size=4)
    script = tmp_path / "stance_cli.py"
    script.write_text(CLI + "\n")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           "predict", str(inp), "-o", str(tmp_path / "two"), "--model", str(model_dir), "--device", "cpu", "--part-size", "4",
           "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = read_manifest(tmp_path / "two")
    assert manifest["complete"] and {p["rank"] for p in manifest["parts"].values()} == {0, 1}
    assert output(tmp_path / "two") == output(tmp_path / "one")


@pytest.mark.slow
def test_ray_data_predictor(model_dir, analyzer):
    ray = pytest.importorskip("ray")
    from stance.ray_predictor import StancePredictor

    rows = [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(6))] + [{"id": "bad", "text": None}]
    expected = analyzer.analyze_many([r["text"] for r in rows[:-1]])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        ds = ray.data.from_items(rows)
        for fmt in ("pandas", "pyarrow"):
            got = ds.map_batches(StancePredictor, fn_constructor_kwargs={"model": str(model_dir), "device": "cpu"},
                                 batch_size=4, batch_format=fmt, concurrency=1).take_all()
            got = sorted(got, key=lambda r: r["id"])
            by_id = {r["id"]: r for r in got}
            assert by_id["bad"]["error"] and len(by_id["bad"]["claims"]) == 0
            for row, article in zip(rows, expected):
                claims = list(by_id[row["id"]]["claims"])
                assert [(c["start"], c["end"], c["stance"]) for c in claims] == [(c.start, c.end, c.stance) for c in article.claims]
                assert by_id[row["id"]]["error"] is None
    finally:
        ray.shutdown()


def test_ray_predictor_without_ray(analyzer):
    import pandas as pd
    import pyarrow as pa

    from stance.ray_predictor import StancePredictor

    predictor = StancePredictor(analyzer=analyzer)
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["De minister waarschuwt voor Huawei.", None]})
    out = predictor(frame)
    assert list(out["id"]) == ["a", "b"] and out["error"][1] and len(out["claims"][0]) == 1
    table = predictor(pa.Table.from_pandas(frame))
    assert isinstance(table, pa.Table) and table.column("error").to_pylist()[0] is None


# ---------------------------------------------------------------------------
# Small pieces


def test_progress_bar_shows_articles_and_claims_per_second(tmp_path, model_dir, analyzer, capsys):
    write_jsonl(tmp_path / "in.jsonl", [{"id": f"n{i}", "text": t} for i, t in enumerate(texts(4))])
    job([tmp_path / "in.jsonl"], tmp_path / "out", model_dir, analyzer, progress=True, chunk_size=2)
    err = capsys.readouterr().err
    assert "art/s" in err and "claims/s" in err


def test_looks_dutch_and_part_names():
    assert looks_dutch("De minister zegt dat het risico van Huawei niet groot is voor het netwerk.")
    assert looks_dutch("The minister says that the risk of the company is small for the network.") is False
    assert looks_dutch("Kort.") is None
    assert part_name("data/nieuws 2019.jsonl", 2, 7) == "nieuws_2019.s002.p00007"
    assert part_name("-", 0, 0) == "stdin.s000.p00000"
