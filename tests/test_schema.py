"""Records and their JSON Lines form: every problem is named by line, field and cause; nothing is dropped."""

from __future__ import annotations

import json

import pytest

from stance.schema import (ROLES, STANCES, Article, Claim, CorpusError, RecordError, Speaker, article_from_dict,
                           article_to_dict, read_jsonl, scan_jsonl, uncovered, write_jsonl)

TEXT = "Pompeo waarschuwt voor Huawei. Huawei ontkent."


def record(**changes):
    rec = {"id": "a1", "lang": "nl", "title": "T", "text": TEXT, "outlet": "NOS", "claims": [
        {"start": 0, "end": 30, "stance": "asserts_risk",
         "speaker": {"text": "Pompeo", "start": 0, "end": 6, "resolved": "Mike Pompeo", "role": "government"}},
        {"start": 31, "end": 46, "stance": "denies_risk",
         "speaker": {"text": "Huawei", "start": 31, "end": 37, "resolved": "Huawei", "role": "vendor"}},
    ]}
    rec.update(changes)
    return rec


def test_round_trip_keeps_every_field():
    article = article_from_dict(record())
    assert article.claims[0].speaker == Speaker("government", "Pompeo", 0, 6, "Mike Pompeo")
    assert article.meta == {"outlet": "NOS"}
    assert article_to_dict(article) == record()
    assert article.claim_text(article.claims[1]) == "Huawei ontkent."
    assert uncovered(article) == []


def test_label_sets_are_the_specs():
    assert STANCES == ("asserts_risk", "denies_risk", "neutral")
    assert set(ROLES) == {"vendor", "government", "eu", "security_agency", "industry", "expert", "author", "other"}


def _bad(claim_index=0, **claim_changes):
    rec = record()
    c = rec["claims"][claim_index]
    for key, value in claim_changes.items():
        if key.startswith("speaker_"):
            c["speaker"][key[len("speaker_"):]] = value
        else:
            c[key] = value
    return rec


@pytest.mark.parametrize("rec,field,words", [
    (_bad(end=999), "start", "outside the text"),
    (_bad(start=10, end=5), "start", "empty or outside"),
    (_bad(start="0"), "start", "integer"),
    (_bad(1, start=20), "start", "overlaps"),
    (_bad(stance="pro"), "stance", "unknown stance"),
    (_bad(speaker_role="journalist"), "speaker.role", "unknown role"),
    (_bad(speaker_start=40, speaker_end=60), "speaker.start", "outside the text"),
    (_bad(speaker_start=1), "speaker.text", "does not match"),
    (_bad(speaker_role="author"), "speaker.role", "author"),
    (record(id=""), "id", "non-empty"),
    (record(text=None), "text", "must be a string"),
    (record(claims={}), "claims", "list"),
])
def test_each_problem_names_field_and_cause(rec, field, words):
    with pytest.raises(RecordError) as err:
        article_from_dict(rec, "f.jsonl line 3")
    assert err.value.field == field and words in err.value.problem
    assert "f.jsonl line 3" in str(err.value)


def test_null_speaker_must_be_author_or_other():
    rec = _bad(speaker_text=None, speaker_start=None, speaker_end=None, speaker_resolved=None, speaker_role="vendor")
    with pytest.raises(RecordError, match="needs a speaker mention"):
        article_from_dict(rec)
    ok = _bad(speaker_text=None, speaker_start=None, speaker_end=None, speaker_resolved=None, speaker_role="other")
    assert article_from_dict(ok).claims[0].speaker == Speaker(role="other")


def test_scan_reports_bad_lines_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = json.dumps(record(), ensure_ascii=False).encode()
    path.write_bytes(b"\n".join([
        good,
        b'{"id": "x", "text": "\xff\xfe bad bytes", "claims": []}',
        b"{not json}",
        json.dumps(record(id="a2", claims=[{"start": 0, "end": 5, "stance": "maybe"}])).encode(),
        json.dumps(record(id="a3")).encode(),
        b'{"id": "cut", "text": "afgebro',
    ]))
    lines = list(scan_jsonl(path))
    assert [l.number for l in lines] == [1, 2, 3, 4, 5, 6]
    assert [l.article.id for l in lines if l.article] == ["a1", "a3"]
    problems = {l.number: str(l.error) for l in lines if l.error}
    assert "invalid UTF-8" in problems[2] and "line 2" in problems[2]
    assert "invalid JSON" in problems[3]
    assert "unknown stance" in problems[4] and "'a2'" in problems[4]
    assert "truncated last line" in problems[6]
    with pytest.raises(CorpusError) as err:
        read_jsonl(path)
    assert len(err.value.errors) == 4


def test_write_is_atomic_and_reads_back(tmp_path):
    articles = [article_from_dict(record()), Article(id="e", text="", claims=())]
    path = tmp_path / "out" / "a.jsonl"
    assert write_jsonl(articles, path) == 2
    assert read_jsonl(path) == articles
    assert [p.name for p in path.parent.iterdir()] == ["a.jsonl"]  # no temp file left

    def broken():
        yield articles[0]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_jsonl(broken(), path)
    assert read_jsonl(path) == articles  # the old file is untouched
    assert [p.name for p in path.parent.iterdir()] == ["a.jsonl"]


def test_uncovered_finds_text_outside_claims():
    article = Article(id="u", text="Een. Twee.", claims=(Claim(0, 4),))
    assert uncovered(article) == [(5, 10)]
