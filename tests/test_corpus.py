"""The built corpus, its statistics script and the inter-annotator agreement script."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
from pathlib import Path

import pytest

from stance.schema import Article, Claim, Speaker, read_jsonl, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "training" / "data"
SPLITS = ("train", "dev", "test", "test-unseen-vendors")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_training_{name}", ROOT / "training" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


stats = _load("corpus_stats")
agreement = _load("agreement")
build_corpus = _load("build_corpus")


def _article(aid: str, stances: list[str], vendors=("Huawei",), source="x_01.txt", date="2019-03", speaker=None) -> Article:
    text, claims = "", []
    for i, stance in enumerate(stances):
        if text:
            text += " "
        sentence = f"Zin {i} van {aid} zegt hij."
        start = len(text)
        text += sentence
        if speaker == "pronoun":
            pos = text.rindex("hij")
            sp = Speaker(role="expert", text="hij", start=pos, end=pos + 3, resolved="Jan Smit")
        else:
            sp = Speaker(role="author")
        claims.append(Claim(start, len(text), stance, sp))
    return Article(id=aid, text=text, claims=tuple(claims), title="t",
                   meta={"vendors": list(vendors), "source": source, "date": date, "outlet": "NOS", "region": "NL"})


# ---------------------------------------------------------------------------
# the real corpus


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[Article]]:
    return {s: read_jsonl(DATA / f"{s}.jsonl") for s in SPLITS}


def test_corpus_meets_every_target(corpus):
    rows = stats.compute(corpus)
    failed = [r.measure for r in rows if r.ok is False]
    assert failed == []
    assert sum(r.ok is True for r in rows) == 16


def test_stats_file_is_current(corpus):
    assert (DATA / "STATS.md").read_text(encoding="utf-8") == stats.render(stats.compute(corpus)), \
        "run python training/corpus_stats.py"


def test_splits_match_build_rules(corpus):
    for split, articles in corpus.items():
        for a in articles:
            assert build_corpus.split_of(a) == split, a.id


def test_build_corpus_docstring_example_follows_the_spec(tmp_path):
    # "Dat schrijft minister X" after a claim carries the stance of the content (spec hard case).
    doc = build_corpus.__doc__
    example = doc[doc.index("    === nos-2019"): doc.index("Claims on consecutive")]
    src = tmp_path / "ex.txt"
    src.write_text("\n".join(line[4:] for line in example.splitlines()), encoding="utf-8")
    ((header, drafts),) = build_corpus.parse_source(src)
    article = build_corpus.assemble(header, drafts, "ex.txt")
    assert [c.stance for c in article.claims] == ["asserts_risk", "asserts_risk", "asserts_risk"]
    assert article.claims[1].speaker.resolved == "Ferd Grapperhaus"


# ---------------------------------------------------------------------------
# corpus_stats


def test_categories_and_quote_styles():
    assert stats.category("Huawei") == "telecom" and stats.category("DJI") == "drones"
    assert stats.category("Alibaba Cloud") == "cloud" and stats.category("Onbekend BV") == "other"
    assert stats.quote_styles("„Nee”, zei hij.") == {"„…” (low-high double)"}
    assert stats.quote_styles("“Nee”, zei hij.") == {"“…” (curly double)"}
    assert stats.quote_styles(",,Nee'', zei hij en 'ja' zei zij.") == {",,…'' (double comma)", "'…' (straight single)"}
    assert stats.quote_styles("De camera's van Hikvision.") == set()
    assert stats.quote_styles("«Non», zegt hij. ‘Ja’.") == {"«…» (guillemets)", "‘…’ (curly single)"}


def test_hard_negatives_and_indirect_speakers():
    assert stats.is_hard_negative(_article("a", ["neutral", "neutral"]))
    assert stats.is_hard_negative(_article("b", ["asserts_risk"], vendors=()))
    assert not stats.is_hard_negative(_article("c", ["neutral", "denies_risk"]))
    a = _article("d", ["asserts_risk"], speaker="pronoun")
    assert stats.is_indirect(a, a.claims[0])
    outside = Article(id="e", text="Het is zo. Dat zegt Jan Smit.", claims=(
        Claim(0, 10, "asserts_risk", Speaker("expert", "Jan Smit", 20, 28, "Jan Smit")),
        Claim(11, 29, "asserts_risk", Speaker("expert", "Jan Smit", 20, 28, "Jan Smit"))))
    assert [stats.is_indirect(outside, c) for c in outside.claims] == [True, False]


def test_small_corpus_fails_targets():
    rows = {r.measure: r for r in stats.compute({"train": [_article("a", ["neutral"]), _article("b", ["asserts_risk"], date="2031-01")]})}
    assert rows["articles"].ok is False and rows["claims"].ok is False
    assert rows["years"].ok is False and "missing" in rows["years"].value
    assert rows["hard-negative articles (no asserts/denies claim, or no vendor)"].ok is True
    text = stats.render(list(rows.values()))
    assert "| articles | 2 | >= 400 | FAIL |" in text and "targets met; FAIL:" in text


# ---------------------------------------------------------------------------
# agreement


@pytest.fixture()
def small_corpus(tmp_path) -> Path:
    rng = random.Random(3)
    data = tmp_path / "data"
    for split, n in (("train", 30), ("dev", 6), ("test", 6), ("test-unseen-vendors", 4)):
        arts = [_article(f"{split}-{i}", [rng.choice(["asserts_risk", "denies_risk", "neutral"]) for _ in range(rng.randint(3, 8))],
                         source=f"src_{i % 7}.txt", speaker=rng.choice([None, "pronoun"])) for i in range(n)]
        write_jsonl(arts, data / f"{split}.jsonl")
    return data


def test_sample_is_reproducible_stratified_and_large_enough(corpus):
    one, two = agreement.sample_articles(corpus), agreement.sample_articles(corpus)
    assert [a.id for _, a in one] == [a.id for _, a in two]
    assert [a.id for _, a in agreement.sample_articles(corpus, seed=1)] != [a.id for _, a in one]
    total = sum(len(a.claims) for arts in corpus.values() for a in arts)
    assert sum(len(a.claims) for _, a in one) >= 0.10 * total
    for split, arts in corpus.items():
        in_split = sum(len(a.claims) for s, a in one if s == split)
        assert in_split >= 0.10 * sum(len(a.claims) for a in arts), split
    assert {a.meta["source"] for _, a in one} == {a.meta["source"] for arts in corpus.values() for a in arts}


def test_blind_file_has_no_gold_labels(corpus):
    sample = agreement.sample_articles(corpus)
    text = agreement.blind_text(sample)
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert not re.search(r"asserts_risk|denies_risk|\|", body)
    assert "vendors:" not in body
    assert body.count("\n  @ ") == sum(len(a.claims) for _, a in sample)


def test_parse_annotation():
    lab = agreement.parse_annotation("  @ asserts_risk | government | < hij => Ferd Grapperhaus")
    assert (lab.stance, lab.role, lab.mention, lab.resolved, lab.name) == ("asserts_risk", "government", "hij", "Ferd Grapperhaus", "Ferd Grapperhaus")
    assert agreement.parse_annotation("@ neutral | author").name is None
    for bad, why in (("  @ ", "empty"), ("@ positive | author", "stance"), ("@ neutral | journalist", "role"),
                     ("@ neutral | author | Jan", "author"), ("@ neutral | expert", "needs a speaker")):
        with pytest.raises(ValueError, match=why):
            agreement.parse_annotation(bad)


def _fill(blind: str, gold: dict[str, Article], change) -> str:
    """Fill a blind file from the gold labels, letting `change` alter some of them."""
    out, aid, k = [], None, 0
    for line in blind.splitlines():
        if line.startswith("=== "):
            aid, k = line[4:], 0
        elif line.startswith("["):
            k += 1
        elif line == "  @ ":
            claim = gold[aid].claims[k - 1]
            stance, role, mention, resolved = change(aid, k, claim)
            line = f"  @ {stance} | {role}" + (f" | {mention}" if mention else "") + (f" => {resolved}" if resolved else "")
        out.append(line)
    return "\n".join(out) + "\n"


def test_score_perfect_and_perturbed(small_corpus, tmp_path):
    out = tmp_path / "agreement"
    agreement.blind(out, small_corpus)
    gold = {a.id: a for s in SPLITS for a in read_jsonl(small_corpus / f"{s}.jsonl")}
    blind = (out / "blind.txt").read_text(encoding="utf-8")

    same = lambda aid, k, c: (c.stance, c.speaker.role, c.speaker.text, c.speaker.resolved)  # noqa: E731
    (out / "second.txt").write_text(_fill(blind, gold, same), encoding="utf-8")
    fig, problems = agreement.score(out, small_corpus, resamples=20)
    assert problems == [] and fig["stance_kappa"] == 1.0 and fig["role_kappa"] == 1.0 and fig["speaker_agreement"] == 1.0
    assert f"\n0 of {fig['claims']} claims differ" in (out / "disagreements.md").read_text(encoding="utf-8")

    def change(aid, k, c):
        stance, role, mention, resolved = same(aid, k, c)
        if k == 1:  # every first claim: flip the stance and shorten the name (still a match)
            stance = "neutral" if stance != "neutral" else "denies_risk"
            resolved = "Smit" if resolved else None
        if k == 2 and mention:  # every second attributed claim: another speaker
            resolved = "Piet Jansen"
        return stance, role, mention, resolved

    (out / "second.txt").write_text(_fill(blind, gold, change), encoding="utf-8")
    fig, _ = agreement.score(out, small_corpus, resamples=20)
    n_articles = fig["articles"]
    assert fig["stance_agreement"] == pytest.approx(1 - n_articles / fig["claims"])
    assert fig["stance_kappa"] < 1.0 and fig["role_kappa"] == 1.0 and fig["speaker_agreement"] < 1.0
    report = (out / "REPORT.md").read_text(encoding="utf-8")
    assert "Cohen's kappa" in report and "## Stance confusion" in report and "| test-unseen-vendors |" in report
    dis = (out / "disagreements.md").read_text(encoding="utf-8")
    sampled = json.loads((out / "sample.json").read_text(encoding="utf-8"))["ids"]
    assert "Piet Jansen" in dis and all(f"| {aid} | 1 |" in dis for aid in sampled)


def test_score_refuses_incomplete_file(small_corpus, tmp_path):
    out = tmp_path / "agreement"
    agreement.blind(out, small_corpus)
    blind = (out / "blind.txt").read_text(encoding="utf-8")
    (out / "second.txt").write_text(blind.replace("  @ \n", "  @ neutral | author\n", 5), encoding="utf-8")
    with pytest.raises(SystemExit, match="incomplete"):
        agreement.score(out, small_corpus, resamples=20)
    fig, problems = agreement.score(out, small_corpus, allow_incomplete=True, resamples=20)
    assert fig["claims"] == 5 and any("empty" in p for p in problems)


def test_sample_json_lists_the_sample(small_corpus, tmp_path):
    out = tmp_path / "agreement"
    n_articles, n_claims = agreement.blind(out, small_corpus)
    info = json.loads((out / "sample.json").read_text(encoding="utf-8"))
    assert len(info["ids"]) == n_articles == info["articles"] and info["claims"] == n_claims
    assert set(info["by_split"]) == set(SPLITS) and all(v["articles"] >= 1 for v in info["by_split"].values())
