"""`stance.validate.validate_files`: each corpus problem is found and named; good files pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stance.validate import validate_files

DATA = Path(__file__).resolve().parents[1] / "training" / "data"
TEXT = "Huawei is een risico, zegt Jan Smit. Het bedrijf ontkent dat."


def record(rid: str = "a-1", text: str = TEXT, **extra) -> dict:
    """A valid spec record: two claims covering the text, one with a speaker."""
    first, second = text.split(". ", 1) if ". " in text else (text[:-1], "")
    claims = [{"start": 0, "end": len(first) + 1, "stance": "asserts_risk",
               "speaker": {"text": None, "start": None, "end": None, "resolved": None, "role": "author"}}]
    if second:
        claims.append({"start": len(first) + 2, "end": len(text), "stance": "neutral",
                       "speaker": {"text": None, "start": None, "end": None, "resolved": None, "role": "author"}})
    out = {"id": rid, "lang": "nl", "title": "Titel", "text": text, "vendors": ["Huawei"], "claims": claims}
    out.update(extra)
    return out


def write(path: Path, *records: dict | str) -> str:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_good_file_passes(tmp_path):
    assert validate_files([write(tmp_path / "train.jsonl", record("a-1"), record("a-2", text="Een tweede tekst. Nog een zin."))]) == []


def test_invalid_record_is_named(tmp_path):
    bad = record("a-1")
    bad["claims"][0]["stance"] = "positive"
    path = write(tmp_path / "train.jsonl", bad, "{not json")
    problems = validate_files([path])
    assert len(problems) == 2
    assert f"{path} line 1 (id 'a-1')" in problems[0] and "'stance'" in problems[0] and "positive" in problems[0]
    assert f"{path} line 2" in problems[1] and "invalid JSON" in problems[1]


def test_uncovered_text_is_found(tmp_path):
    bad = record("a-1")
    bad["claims"] = bad["claims"][:1]  # the second sentence is in no claim
    path = write(tmp_path / "train.jsonl", bad)
    (problem,) = validate_files([path])
    assert f"{path} line 1 (id 'a-1')" in problem and "'claims'" in problem
    assert "Het bedrijf ontkent dat." in problem and "lie in no claim" in problem


def test_claim_with_surrounding_space_is_found(tmp_path):
    bad = record("a-1")
    bad["claims"][1]["start"] -= 1  # now starts on the space after the full stop
    path = write(tmp_path / "train.jsonl", bad)
    (problem,) = validate_files([path])
    assert "(id 'a-1')" in problem and "claims[1].start/end" in problem and "white space" in problem


def test_duplicate_id_within_a_file(tmp_path):
    path = write(tmp_path / "train.jsonl", record("a-1"), record("a-1", text="Andere tekst. Echt waar."))
    (problem,) = validate_files([path])
    assert f"{path} line 2 (id 'a-1')" in problem and "'id'" in problem and "also at line 1" in problem


def test_duplicate_text_within_a_file(tmp_path):
    path = write(tmp_path / "train.jsonl", record("a-1"), record("a-2"))
    (problem,) = validate_files([path])
    assert f"{path} line 2 (id 'a-2')" in problem and "'text'" in problem and "'a-1'" in problem


def test_duplicate_text_ignores_white_space_differences(tmp_path):
    path = write(tmp_path / "train.jsonl", record("a-1"), record("a-2", text=TEXT.replace(". ", ".  ")))
    problems = validate_files([path])
    assert any("'text'" in p and "(id 'a-2')" in p for p in problems)


def test_splits_must_be_disjoint(tmp_path):
    train = write(tmp_path / "train.jsonl", record("a-1"), record("a-2", text="Een tweede tekst. Nog een zin."))
    dev = write(tmp_path / "dev.jsonl", record("a-1", text="Nieuwe tekst. Nieuw."), record("b-1", text="Een tweede tekst. Nog een zin."))
    problems = validate_files([train, dev])
    assert len(problems) == 2
    assert f"{dev} line 1 (id 'a-1')" in problems[0] and "'id'" in problems[0] and f"{train} line 1" in problems[0]
    assert f"{dev} line 2 (id 'b-1')" in problems[1] and "'text'" in problems[1] and "disjoint" in problems[1]


@pytest.mark.parametrize("vendor", ["DJI", "Quectel", "Alibaba Cloud", "Zhurong"])
def test_unseen_vendor_named_elsewhere(tmp_path, vendor):
    unseen = write(tmp_path / "test-unseen-vendors.jsonl",
                   record("u-1", text="DJI maakt drones. Zhurong ook.", vendors=["DJI", "Zhurong"]))
    train = write(tmp_path / "train.jsonl", record("a-1", text=f"Ook {vendor} is genoemd. Echt waar."))
    problems = validate_files([unseen, train])
    assert len(problems) == 1
    assert f"{train} line 1 (id 'a-1')" in problems[0] and "'text'" in problems[0] and repr(vendor) in problems[0]


def test_unseen_vendor_in_title_or_vendor_field(tmp_path):
    unseen = write(tmp_path / "test-unseen-vendors.jsonl", record("u-1", text="DJI maakt drones. Goed.", vendors=["DJI"]))
    train = write(tmp_path / "train.jsonl", record("a-1", title="Drones van DJI"),
                  record("a-2", text="Andere tekst. Echt.", vendors=["Huawei", "Quectel"]))
    problems = validate_files([unseen, train])
    assert [("'title'" in p, "'vendors'" in p) for p in problems] == [(True, False), (False, True)]


def test_unseen_vendor_word_boundaries_and_shared_vendors(tmp_path):
    # "DJIBOUTI" is not DJI; Huawei is listed by the other split too, so it is not held out.
    unseen = write(tmp_path / "test-unseen-vendors.jsonl",
                   record("u-1", text="DJI en Huawei. Goed.", vendors=["DJI", "Huawei"]))
    train = write(tmp_path / "train.jsonl", record("a-1", text="Huawei in DJIBOUTI. Echt."))
    assert validate_files([unseen, train]) == []


def test_unseen_vendors_not_checked_without_that_file(tmp_path):
    train = write(tmp_path / "train.jsonl", record("a-1", text="DJI maakt drones. Goed."))
    assert validate_files([train]) == []


def test_missing_file_is_reported(tmp_path):
    (problem,) = validate_files([tmp_path / "nope.jsonl"])
    assert "nope.jsonl" in problem and "no such file" in problem


def test_real_corpus_passes():
    files = sorted(DATA.glob("*.jsonl"))
    assert {f.name for f in files} >= {"train.jsonl", "dev.jsonl", "test.jsonl", "test-unseen-vendors.jsonl"}
    assert validate_files(files) == []


def test_cli_exit_code(tmp_path):
    from typer.testing import CliRunner

    from stance.cli import app

    good = write(tmp_path / "train.jsonl", record("a-1"))
    bad = write(tmp_path / "dev.jsonl", record("a-1", text="X. Y."))
    runner = CliRunner()
    assert runner.invoke(app, ["validate", good]).exit_code == 0
    result = runner.invoke(app, ["validate", good, bad])
    assert result.exit_code == 1 and "'a-1'" in result.output
