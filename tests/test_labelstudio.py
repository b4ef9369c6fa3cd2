"""Label Studio round trips: export -> import gives identical records; bad exports name task and region."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import pytest

from stance.labelstudio import (
    LABEL_CONFIG,
    article_to_task,
    articles_to_tasks,
    export_labelstudio,
    import_labelstudio,
    task_to_article,
    tasks_to_articles,
)
from stance.schema import Article, Claim, CorpusError, RecordError, Speaker, dumps, read_jsonl, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "training" / "data"


def _article() -> Article:
    """Hand-made edge cases: null speakers, pronouns, speakers before/after the claim, a shared mention, unicode."""
    parts = [
        ("Huawei mag niet meebouwen aan 5G.", "asserts_risk"),               # 0: speaker in the next claim
        ("Dat zeggen VVD en CDA.", "asserts_risk"),                          # 1
        ("„Wij nemen geen risico”, zei minister Ferd Grapperhaus 🇳🇱.", "asserts_risk"),  # 2: emoji (astral chars)
        ("„Het is écht een gevaar.”", "asserts_risk"),                     # 3: continuation, speaker in claim 2
        ("Hij zei het twee keer.", "neutral"),                               # 4: pronoun resolved
        ("Bewijs is nooit geleverd.", "denies_risk"),                        # 5: author
        ("„Het klopt niet”, staat er op een spandoek.", "denies_risk"),      # 6: other, no mention
    ]
    text, spans = "", []
    for i, (sentence, _) in enumerate(parts):
        if i:
            text += "\n\n" if i == 5 else " "
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence

    def sp(mention: str, role: str, resolved: str | None = None, claim: int | None = None) -> Speaker:
        base = spans[claim][0] if claim is not None else 0
        start = text.index(mention, base)
        return Speaker(role=role, text=mention, start=start, end=start + len(mention), resolved=resolved or mention)

    speakers = [
        sp("VVD en CDA", "government"),
        sp("VVD en CDA", "government"),
        sp("Ferd Grapperhaus", "government"),
        sp("Ferd Grapperhaus", "government"),
        sp("Hij", "government", "Ferd Grapperhaus"),
        Speaker(role="author"),
        Speaker(role="other"),
    ]
    claims = tuple(Claim(s, e, stance, speaker) for (s, e), (_, stance), speaker in zip(spans, parts, speakers))
    return Article(id="edge-1", text=text, claims=claims, title="Ünïcode — “titel”",
                   meta={"outlet": "NOS", "date": "2019-03", "vendors": ["Huawei"], "nested": {"a": [1, None]}})


def _roundtrip(articles: list[Article], **kwargs) -> list[Article]:
    tasks = json.loads(json.dumps(articles_to_tasks(articles, **kwargs), ensure_ascii=False))
    return tasks_to_articles(tasks)


def test_edge_cases_round_trip():
    article = _article()
    (back,) = _roundtrip([article])
    assert back == article
    assert dumps(back) == dumps(article)


def test_shared_speaker_is_one_region_with_two_relations():
    result = article_to_task(_article())["annotations"][0]["result"]
    speakers = [r for r in result if r.get("from_name") == "speaker"]
    relations = [r for r in result if r.get("type") == "relation"]
    assert [s["value"]["text"] for s in speakers] == ["VVD en CDA", "Ferd Grapperhaus", "Hij"]
    assert len(relations) == 5 and {r["to_id"] for r in relations} == {f"claim-{i}" for i in range(5)}
    assert all(r["direction"] == "right" and r["labels"] == ["says"] for r in relations)


def test_result_items_use_label_studio_region_format():
    article = _article()
    result = article_to_task(article)["annotations"][0]["result"]
    claim = [r for r in result if r.get("id") == "claim-4"]
    assert {r["from_name"]: r["type"] for r in claim} == {"claim": "labels", "stance": "choices", "role": "choices", "resolved": "textarea"}
    for r in claim:
        assert r["to_name"] == "text"
        assert (r["value"]["start"], r["value"]["end"]) == (article.claims[4].start, article.claims[4].end)
    by = {r["from_name"]: r["value"] for r in claim}
    assert by["claim"]["labels"] == ["Claim"] and by["claim"]["text"] == "Hij zei het twee keer."
    assert by["stance"]["choices"] == ["neutral"] and by["role"]["choices"] == ["government"]
    assert by["resolved"]["text"] == ["Ferd Grapperhaus"]
    # Claims without a speaker carry no textarea and no relation.
    assert [r["from_name"] for r in result if r.get("id") == "claim-5"] == ["claim", "stance", "role"]


def test_label_config_names_every_control_the_results_use():
    names = set(re.findall(r'name="([^"]+)"', LABEL_CONFIG))
    assert {"claim", "speaker", "stance", "role", "resolved", "text"} <= names
    result = article_to_task(_article())["annotations"][0]["result"]
    assert {r["from_name"] for r in result if "from_name" in r} <= names
    for value in ("asserts_risk", "denies_risk", "neutral", "security_agency", "author", "Claim", "Speaker", "says"):
        assert f'value="{value}"' in LABEL_CONFIG
    docs = (ROOT / "docs" / "label-studio.md").read_text(encoding="utf-8")
    assert LABEL_CONFIG.strip() in docs, "docs/label-studio.md must show the exact LABEL_CONFIG"


@pytest.mark.parametrize("split", ["train", "dev", "test", "test-unseen-vendors"])
def test_real_corpus_round_trips(split, tmp_path):
    src = DATA / f"{split}.jsonl"
    export_labelstudio(src, tmp_path / "tasks.json")
    import_labelstudio(tmp_path / "tasks.json", tmp_path / "back.jsonl")
    assert (tmp_path / "back.jsonl").read_bytes() == src.read_bytes()


def test_articles_without_claims_export_bare_tasks():
    task = article_to_task(Article(id="raw-1", text="Alleen tekst."))
    assert task == {"data": {"id": "raw-1", "text": "Alleen tekst.", "title": None, "lang": "nl", "meta": {}}}


def test_predictions_carry_scores_and_import_from_predictions():
    article = _article()
    probs = {"asserts_risk": 0.7, "denies_risk": 0.2, "neutral": 0.1}
    predicted = dataclasses.replace(article, claims=tuple(dataclasses.replace(c, stance_probs=probs, speaker_score=0.9)
                                                          for c in article.claims))
    task = article_to_task(Article(id=article.id, text=article.text, title=article.title, meta=article.meta),
                           prediction=predicted, model_version="tiny")
    assert "annotations" not in task
    (pred,) = task["predictions"]
    assert pred["model_version"] == "tiny" and pred["score"] == pytest.approx(0.7)
    assert any(r.get("score") == 0.7 for r in pred["result"] if r.get("from_name") == "stance")
    assert task_to_article(task, source="predictions") == article


def test_model_predictions_as_pre_annotations(tiny_model, tiny_tokenizer, tmp_path):
    from stance.inference import load

    model_dir = tmp_path / "model"
    tiny_model.save_pretrained(model_dir)
    tiny_tokenizer.save_pretrained(model_dir)
    article = _article()
    write_jsonl([article], tmp_path / "in.jsonl")
    export_labelstudio(tmp_path / "in.jsonl", tmp_path / "tasks.json", model=str(model_dir), device="cpu")
    (task,) = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    assert task_to_article(task) == article  # gold kept as the annotation
    (pred,) = task["predictions"]
    (expected,) = load(model_dir, device="cpu").analyze_many([article.text], ids=[article.id])
    regions = {r["id"]: r for r in pred["result"] if r.get("from_name") == "claim"}
    stances = {r["id"]: r["value"]["choices"] for r in pred["result"] if r.get("from_name") == "stance"}
    assert [(r["value"]["start"], r["value"]["end"]) for r in regions.values()] == [(c.start, c.end) for c in expected.claims]
    assert list(stances.values()) == [[c.stance] for c in expected.claims]
    # The untrained model may predict empty speaker spans; only drawable ones become regions.
    drawn = {(r["value"]["start"], r["value"]["end"]) for r in pred["result"] if r.get("from_name") == "speaker"}
    assert drawn == {(c.speaker.start, c.speaker.end) for c in expected.claims
                     if c.speaker.text is not None and c.speaker.start < c.speaker.end}


# ---------------------------------------------------------------------------
# bad exports


def _task() -> dict:
    task = article_to_task(_article())
    task["id"] = 17  # Label Studio's own task id
    return copy.deepcopy(task)


def _result(task: dict) -> list[dict]:
    return task["annotations"][0]["result"]


def _error(task: dict) -> str:
    with pytest.raises(CorpusError) as info:
        tasks_to_articles([task], name="export.json")
    (err,) = info.value.errors
    return str(err)


def test_missing_stance_names_task_and_region():
    task = _task()
    task["annotations"][0]["result"] = [r for r in _result(task) if not (r.get("id") == "claim-3" and r.get("from_name") == "stance")]
    msg = _error(task)
    assert "export.json task 0 (Label Studio id 17) (id 'edge-1') region 'claim-3'" in msg and "'stance'" in msg


def test_two_choices_or_unknown_role_is_an_error():
    task = _task()
    for r in _result(task):
        if r.get("id") == "claim-1" and r["from_name"] == "stance":
            r["value"]["choices"] = ["asserts_risk", "neutral"]
    assert "region 'claim-1'" in _error(task) and "exactly one stance" in _error(task)
    task = _task()
    for r in _result(task):
        if r.get("id") == "claim-2" and r["from_name"] == "role":
            r["value"]["choices"] = ["journalist"]
    msg = _error(task)
    assert "region 'claim-2'" in msg and "speaker.role" in msg and "journalist" in msg


def test_claim_with_two_speakers_is_an_error():
    task = _task()
    _result(task).append({"from_id": "speaker-2", "to_id": "claim-0", "type": "relation", "direction": "right", "labels": ["says"]})
    msg = _error(task)
    assert "region 'claim-0'" in msg and "two speakers" in msg


def test_unlinked_speaker_is_an_error():
    task = _task()
    task["annotations"][0]["result"] = [r for r in _result(task) if not (r.get("type") == "relation" and r["to_id"] == "claim-4")]
    msg = _error(task)
    assert "region 'speaker-2'" in msg and "linked to no claim" in msg


def test_role_needing_a_speaker_without_one_is_an_error():
    task = _task()
    task["annotations"][0]["result"] = [r for r in _result(task)
                                        if not (r.get("type") == "relation" and r["to_id"] == "claim-4")
                                        and not (r.get("id") == "claim-4" and r["from_name"] == "resolved")
                                        and r.get("id") != "speaker-2"]
    msg = _error(task)
    assert "region 'claim-4'" in msg and "speaker.role" in msg


def test_overlapping_claims_and_mismatched_text():
    task = _task()
    for r in _result(task):
        if r.get("id") == "claim-1":
            r["value"]["start"] -= 3
            r["value"].pop("text", None)
    msg = _error(task)
    assert "region 'claim-1'" in msg and "overlaps region 'claim-0'" in msg
    task = _task()
    for r in _result(task):
        if r.get("id") == "claim-5" and r["from_name"] == "claim":
            r["value"]["text"] = "Iets anders."
    msg = _error(task)
    assert "region 'claim-5'" in msg and "value.text" in msg


def test_utf16_offsets_of_older_label_studio_are_converted():
    article = _article()
    task = _task()
    text = article.text
    for r in _result(task):
        if "value" in r and "start" in r["value"]:
            for key in ("start", "end"):
                r["value"][key] = len(text[: r["value"][key]].encode("utf-16-le")) // 2
    shifted = [r for r in _result(task) if r.get("id") == "claim-4" and r["from_name"] == "claim"]
    assert shifted[0]["value"]["start"] != article.claims[4].start  # the flag emoji takes four UTF-16 units
    assert task_to_article(task, "t") == article


def test_cancelled_annotations_are_skipped_and_empty_tasks_named():
    task = _task()
    first = copy.deepcopy(task["annotations"][0])
    cancelled = {"result": [], "was_cancelled": True}
    task["annotations"] = [first, cancelled]
    assert task_to_article(task) == _article()
    task["annotations"] = [cancelled]
    msg = _error(task)
    assert "task 0" in msg and "no annotation" in msg


def test_all_bad_tasks_are_listed(tmp_path):
    good, bad1, bad2 = _task(), _task(), {"data": {"text": "x"}}
    bad1["annotations"][0]["result"][0]["value"]["labels"] = ["Kop"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps([good, bad1, bad2]), encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        import_labelstudio(path, tmp_path / "out.jsonl")
    assert [re.search(r"task (\d)", str(e)).group(1) for e in info.value.errors] == ["1", "2"]
    assert "'Kop'" in str(info.value.errors[0]) and "data.id" in str(info.value.errors[1])
    assert not (tmp_path / "out.jsonl").exists()


def test_cli_round_trip(tmp_path):
    from typer.testing import CliRunner

    from stance.cli import app

    write_jsonl([_article()], tmp_path / "in.jsonl")
    runner = CliRunner()
    r1 = runner.invoke(app, ["export-labelstudio", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "tasks.json")])
    r2 = runner.invoke(app, ["import-labelstudio", str(tmp_path / "tasks.json"), "-o", str(tmp_path / "out.jsonl")])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert read_jsonl(tmp_path / "out.jsonl") == [_article()]
    (tmp_path / "bad.json").write_text("[{}]", encoding="utf-8")
    r3 = runner.invoke(app, ["import-labelstudio", str(tmp_path / "bad.json"), "-o", str(tmp_path / "x.jsonl")])
    assert r3.exit_code == 1 and "task 0" in r3.output


def test_record_error_is_raised_for_single_tasks():
    with pytest.raises(RecordError, match="data.text"):
        task_to_article({"data": {"id": "a"}})
