"""Evaluation reports and the `stance evaluate` command."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

import stance
from stance.cli import app
from stance.report import evaluate, model_identity, run_evaluation
from stance.schema import Article, Claim, Speaker, write_jsonl

SENTENCES = [
    ("Huawei is een gevaar voor de nationale veiligheid, zegt minister Mike Pompeo.", "asserts_risk", "government", "Mike Pompeo"),
    ("Er is geen bewijs voor spionage door het bedrijf.", "denies_risk", "author", None),
    ("De beurs sloot dinsdag hoger.", "neutral", "author", None),
    ("ZTE moet uit het netwerk worden geweerd, zegt de AIVD.", "asserts_risk", "security_agency", "de AIVD"),
]


def make_article(aid: str, rows) -> Article:
    text = " ".join(r[0] for r in rows)
    claims, pos = [], 0
    for sentence, st, role, mention in rows:
        if mention:
            i = text.index(mention, pos)
            sp = Speaker(role, mention, i, i + len(mention), mention.removeprefix("de "))
        else:
            sp = Speaker(role)
        claims.append(Claim(pos, pos + len(sentence), st, sp))
        pos += len(sentence) + 1
    return Article(aid, text, tuple(claims))


@pytest.fixture
def corpus(tmp_path):
    gold = [make_article(f"g{k}", SENTENCES[k % 2:] + SENTENCES[: k % 2]) for k in range(4)]
    train = [make_article(f"t{k}", SENTENCES[k % 4:] + SENTENCES[: k % 4]) for k in range(4)]
    # a "model" that gets stance right but never finds speakers, with probabilities
    pred = [
        replace(a, claims=tuple(replace(c, speaker=Speaker("author"), stance_probs={"asserts_risk": 0.7, "denies_risk": 0.1, "neutral": 0.2})
                                for c in a.claims))
        for a in gold
    ]
    paths = {"gold": tmp_path / "gold.jsonl", "train": tmp_path / "train.jsonl", "pred": tmp_path / "nospeaker.jsonl"}
    write_jsonl(gold, paths["gold"])
    write_jsonl(train, paths["train"])
    write_jsonl(pred, paths["pred"])
    return gold, pred, paths


def test_evaluate_writes_every_file(corpus, tmp_path):
    gold, pred, paths = corpus
    out = tmp_path / "out"
    report = evaluate(paths["gold"], {"perfect": gold, "no speaker": pred}, out, identities={"perfect": {"kind": "test"}}, n_resamples=200)
    for name in ("report.json", "report.md", "confusion-perfect-stance.png", "confusion-perfect-role.png",
                 "confusion-no_speaker-stance.png", "confusion-no_speaker-role.png", "reliability-no_speaker.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "confusion-perfect-stance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "reliability-perfect.png").exists()  # gold has no probabilities
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert on_disk["gold"]["sha256"] == hashlib.sha256(paths["gold"].read_bytes()).hexdigest()
    assert on_disk["settings"]["n_resamples"] == 200
    perfect, nospk = on_disk["systems"]["perfect"], on_disk["systems"]["no speaker"]
    assert perfect["identity"] == {"kind": "test"}
    assert perfect["metrics"]["stance_macro_f1"] == 1.0 and perfect["intervals"]["stance_macro_f1"] == [1.0, 1.0]
    assert nospk["metrics"]["speaker_accuracy"] == 0.0 and nospk["metrics"]["stance_macro_f1"] == 1.0
    md = (out / "report.md").read_text()
    assert "| perfect | 1.000 [1.000, 1.000]" in md
    assert "| no speaker |" in md and "Stance per class" in md and "Role per class" in md
    with pytest.raises(ValueError, match="no systems"):
        evaluate(paths["gold"], {}, out)


def test_cli_evaluate_compares_predictions_and_baselines(corpus, tmp_path):
    _, _, paths = corpus
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["evaluate", str(paths["gold"]), "--predictions", str(paths["pred"]),
                                      "--train", str(paths["train"]), "-o", str(out), "--resamples", "100"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert list(report["systems"]) == ["majority", "tfidf-rules", "nospeaker"]
    assert report["systems"]["nospeaker"]["identity"]["sha256"] == hashlib.sha256(paths["pred"].read_bytes()).hexdigest()
    assert report["settings"]["train"]["sha256"] == hashlib.sha256(paths["train"].read_bytes()).hexdigest()
    assert "tfidf-rules" in result.output and "report written" in result.output
    # missing training split: the error says what to do
    result = CliRunner().invoke(app, ["evaluate", str(paths["gold"]), "--train", str(tmp_path / "none.jsonl"), "-o", str(out)])
    assert result.exit_code != 0 and "--no-baselines" in str(result.exception)


def test_model_systems_run_on_cpu_and_get_the_gold_ids(corpus, tmp_path, monkeypatch):
    gold, _, paths = corpus
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.safetensors").write_bytes(b"weights")
    calls = {}

    class FakeAnalyzer:
        def analyze_many(self, texts, batch_size=32):
            calls["texts"] = texts
            # ids of its own, in input order, as a real analyser may give
            return [replace(a, id=f"auto{i}") for i, a in enumerate(gold)]

    def fake_load(path, device="auto", precision="fp32"):
        calls["device"] = device
        return FakeAnalyzer()

    import stance.inference

    monkeypatch.setattr(stance.inference, "load", fake_load)
    report = run_evaluation(paths["gold"], tmp_path / "m", models=[str(model_dir)], baselines=False, n_resamples=0)
    assert calls["device"] == "cpu" and calls["texts"] == [a.text for a in gold]
    system = report["systems"]["model"]
    assert system["metrics"]["stance_macro_f1"] == 1.0  # ids replaced, so articles pair up
    assert system["identity"]["weights"] == {"model.safetensors": hashlib.sha256(b"weights").hexdigest()}
    assert model_identity(model_dir)["path"] == str(model_dir.resolve())
