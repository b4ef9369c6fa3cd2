"""The analyser API and `stance analyze`, on a tiny saved model."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stance.inference import load
from stance.schema import ROLES, STANCES, Article, article_from_dict


TEXT = ("Minister Jansen waarschuwt voor spionage door Huawei. „Er is geen bewijs”, zegt het bedrijf.\n\n"
        "Lees ook: KPN kiest voor Ericsson")


def test_analyze_returns_a_valid_article_with_probabilities(model_dir):
    article = load(model_dir, device="cpu").analyze(TEXT)
    assert isinstance(article, Article)
    assert [article.claim_text(c) for c in article.claims] == [
        "Minister Jansen waarschuwt voor spionage door Huawei.", "„Er is geen bewijs”, zegt het bedrijf.",
        "Lees ook: KPN kiest voor Ericsson"]
    from stance.schema import article_to_dict

    again = article_from_dict(article_to_dict(article))  # the output is a valid spec record
    assert again.claims == article.claims
    for claim in article.claims:
        assert set(claim.stance_probs) == set(STANCES) and set(claim.role_probs) == set(ROLES)
        assert sum(claim.stance_probs.values()) == pytest.approx(1, abs=1e-3)
        assert claim.stance == max(claim.stance_probs, key=claim.stance_probs.get)
        sp = claim.speaker
        if sp.text is not None:
            assert article.text[sp.start : sp.end] == sp.text and sp.role != "author"


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_gives_an_empty_article(model_dir, text):
    article = load(model_dir, device="cpu").analyze(text)
    assert article.claims == () and article.text == text


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["list"]])
def test_non_text_raises_type_error(model_dir, bad):
    analyser = load(model_dir, device="cpu")
    with pytest.raises(TypeError):
        analyser.analyze(bad)
    with pytest.raises(TypeError, match="text 1"):
        analyser.analyze_many(["ok", bad])


def test_analyze_many_keeps_order_and_matches_analyze(model_dir):
    analyser = load(model_dir, device="cpu")
    texts = [TEXT, "", "Kort.", TEXT[:60]]
    many = analyser.analyze_many(texts, batch_size=2)
    assert [a.text for a in many] == texts
    assert [a.claims for a in many] == [analyser.analyze(t).claims for t in texts]


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_lower_precisions_run_and_give_valid_records(model_dir, precision):
    article = load(model_dir, device="cpu", precision=precision).analyze(TEXT)
    assert len(article.claims) == 3
    assert all(c.stance in STANCES for c in article.claims)


def test_unknown_precision_is_refused(model_dir):
    with pytest.raises(ValueError, match="precision"):
        load(model_dir, device="cpu", precision="fp8")


def test_cli_analyze_prints_a_table_and_json(model_dir, tmp_path):
    from stance.cli import app

    path = tmp_path / "artikel.txt"
    path.write_text(TEXT, encoding="utf-8")
    runner = CliRunner()
    table = runner.invoke(app, ["analyze", str(path), "--model", str(model_dir), "--device", "cpu"])
    assert table.exit_code == 0, table.output
    assert "Minister Jansen waarschuwt" in table.output and "stance" in table.output
    as_json = runner.invoke(app, ["analyze", "-", "--model", str(model_dir), "--json"], input=TEXT)
    assert as_json.exit_code == 0, as_json.output
    record = json.loads(as_json.stdout)
    assert len(record["claims"]) == 3 and record["text"] == TEXT


def test_load_without_a_bundled_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("STANCE_MODEL", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="STANCE_MODEL"):
        load()


def test_stored_temperature_calibrates_the_probabilities(model_dir, tmp_path, _tiny_model, tiny_tokenizer):
    import copy

    hot = copy.deepcopy(_tiny_model)
    hot.config.stance_temperature = 4.0
    hot.save_pretrained(tmp_path)
    tiny_tokenizer.save_pretrained(tmp_path)
    plain = load(model_dir, device="cpu").analyze(TEXT)
    soft = load(tmp_path, device="cpu").analyze(TEXT)
    for a, b in zip(plain.claims, soft.claims):
        assert a.stance == b.stance  # scaling never changes the decision
        assert max(b.stance_probs.values()) <= max(a.stance_probs.values()) + 1e-4
        assert max(b.stance_probs.values()) - min(b.stance_probs.values()) < max(a.stance_probs.values()) - min(a.stance_probs.values()) + 1e-4
