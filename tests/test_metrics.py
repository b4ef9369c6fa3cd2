"""Scoring as spec/labels.md says: hand-worked examples, agreement with scikit-learn, intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

from stance.metrics import (
    METRICS,
    UNMATCHED,
    claim_rows,
    figures_from_counts,
    fit_temperature,
    match_spans,
    names_match,
    pair_articles,
    score,
    stance_probabilities,
)
from stance.schema import ROLES, STANCES, Article, Claim, Speaker, dumps

from fixture_corpus import spans_of

ROOT = Path(__file__).resolve().parents[1]


def mention(text: str, word: str, start_at: int = 0) -> tuple[int, int]:
    i = text.index(word, start_at)
    return i, i + len(word)


# ---------------------------------------------------------------------------
# match_spans


def test_identical_spans_match_one_to_one():
    assert match_spans([(0, 10), (11, 20)], [(0, 10), (11, 20)]) == [(0, 0), (1, 1)]


def test_split_claim_matches_at_most_one_piece():
    # gold (0,20) split into (0,10) and (10,20): each overlaps 10/20 = 0.5 >= 0.5,
    # but the gold claim may be used once, so one pair only.
    assert len(match_spans([(0, 20)], [(0, 10), (10, 20)])) == 1
    # uneven split: (0,9) overlaps 9/20 = 0.45 (no), (9,20) overlaps 11/20 = 0.55 (yes).
    assert match_spans([(0, 20)], [(0, 9), (9, 20)]) == [(0, 1)]


def test_merged_prediction_matches_the_larger_gold_claim():
    # pred (0,30) covers gold (0,10): 10/30 = 0.33 (no) and gold (10,30): 20/30 = 0.67 (yes).
    assert match_spans([(0, 10), (10, 30)], [(0, 30)]) == [(1, 0)]


def test_below_half_of_the_longer_span_does_not_match():
    # overlap of (0,10) and (6,16) is 4 characters; 4/10 < 0.5.
    assert match_spans([(0, 10)], [(6, 16)]) == []
    # a short prediction inside a long gold claim: 5/20 < 0.5 although fully contained.
    assert match_spans([(0, 20)], [(5, 10)]) == []
    assert match_spans([], [(0, 3)]) == [] and match_spans([(0, 3)], []) == []


def test_matching_maximises_the_number_of_pairs():
    # gold A=(0,10), B=(10,20); pred P=(0,20) fits both (0.5 each), Q=(10,20) only B.
    # Taking P-B would leave A unmatched; the best pairing is A-P and B-Q.
    assert match_spans([(0, 10), (10, 20)], [(0, 20), (10, 20)]) == [(0, 0), (1, 1)]


# ---------------------------------------------------------------------------
# names


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Pompeo", "Mike Pompeo", True),
        ("  MIKE   pompeo ", "Mike Pompeo", True),
        ("AIVD", "de AIVD", True),
        ("Pomp", "Mike Pompeo", False),
        ("Mike Pompeo", "Heiko Maas", False),
        (None, "Mike Pompeo", False),
        ("", "", False),
    ],
)
def test_names_match(a, b, expected):
    assert names_match(a, b) is expected


# ---------------------------------------------------------------------------
# A hand-worked article: split, merged and unmatched claims, a pronoun speaker


SENTENCES = [
    "Huawei is een risico, zegt Pompeo.",  # c0
    "Hij wil een verbod.",  # c1
    "Het bedrijf ontkent alles.",  # c2 (26 characters)
    "De beurs sloot hoger.",  # c3 (21 characters)
    "Er was veel regen gisteren.",  # c4 (27 characters)
]
TEXT, SPANS = spans_of(SENTENCES)


def gold_article() -> Article:
    pompeo, hij, bedrijf = mention(TEXT, "Pompeo"), mention(TEXT, "Hij"), mention(TEXT, "Het bedrijf")
    return Article(
        id="a",
        text=TEXT,
        claims=(
            Claim(*SPANS[0], "asserts_risk", Speaker("government", "Pompeo", *pompeo, "Mike Pompeo")),
            Claim(*SPANS[1], "asserts_risk", Speaker("government", "Hij", *hij, "Mike Pompeo")),
            Claim(*SPANS[2], "denies_risk", Speaker("vendor", "Het bedrijf", *bedrijf, "Huawei")),
            Claim(*SPANS[3], "neutral"),
            Claim(*SPANS[4], "neutral"),
        ),
    )


def predicted_article() -> Article:
    pompeo, hij, bedrijf = mention(TEXT, "Pompeo"), mention(TEXT, "Hij"), mention(TEXT, "bedrijf")
    c4s, c4e = SPANS[4]
    return Article(
        id="a",
        text=TEXT,
        claims=(
            # p0 = c0: right stance; resolved "Pompeo" matches gold "Mike Pompeo" as a whole word.
            Claim(*SPANS[0], "asserts_risk", Speaker("government", "Pompeo", *pompeo, "Pompeo"),
                  stance_probs={"asserts_risk": 0.9, "denies_risk": 0.05, "neutral": 0.05}),
            # p1 = c1: wrong stance; right mention, wrong resolution of the pronoun.
            Claim(*SPANS[1], "neutral", Speaker("government", "Hij", *hij, "Heiko Maas"),
                  stance_probs={"asserts_risk": 0.3, "denies_risk": 0.1, "neutral": 0.6}),
            # p2 = c2 + c3 merged: 26+1+21 = 48 characters; 26/48 = 0.54 matches c2, 21/48 = 0.44 leaves c3
            # unmatched. Its mention "bedrijf" overlaps gold "Het bedrijf" but is not exact.
            Claim(SPANS[2][0], SPANS[3][1], "denies_risk", Speaker("vendor", "bedrijf", *bedrijf, "Huawei")),
            # c4 (27 characters) split after "Er was " (7): 7/27 = 0.26 no; the rest 20/27 = 0.74 matches c4.
            Claim(c4s, c4s + 6, "asserts_risk"),
            Claim(c4s + 7, c4e, "neutral"),
        ),
    )


def test_hand_worked_article():
    assert [len(s) for s in SENTENCES[2:]] == [26, 21, 27]
    s = score([gold_article()], [predicted_article()], n_resamples=0)
    m = s.metrics
    # Segmentation: 5 predicted, 5 gold, 4 matched (c0, c1, c2, c4) -> P = R = F1 = 4/5.
    assert m["segmentation_precision"] == pytest.approx(0.8)
    assert m["segmentation_recall"] == pytest.approx(0.8)
    assert m["segmentation_f1"] == pytest.approx(0.8)
    # Stance on gold claims: gold [A, A, D, N, N], pred [A, N, D, unmatched, N].
    #   asserts: tp 1, predicted 1, gold 2 -> P 1, R 1/2, F1 2/3
    #   denies:  tp 1, predicted 1, gold 1 -> F1 1
    #   neutral: tp 1, predicted 2 (c1, c4), gold 2 -> F1 1/2
    #   macro = (2/3 + 1 + 1/2) / 3 = 13/18; accuracy 3/5.
    assert m["stance_macro_f1"] == pytest.approx(13 / 18)
    assert m["stance_accuracy"] == pytest.approx(3 / 5)
    assert s.per_class["stance"]["asserts_risk"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    # Role: gold [gov, gov, vendor, author, author], pred [gov, gov, vendor, unmatched, author];
    # roles in gold: government F1 1, vendor F1 1, author P 1 R 1/2 F1 2/3 -> macro 8/9.
    assert m["role_macro_f1"] == pytest.approx(8 / 9)
    assert set(s.per_class["role"]) == {"government", "vendor", "author"}
    # Speaker: gold speakers on c0, c1, c2; right: c0 (Pompeo ~ Mike Pompeo), c2; wrong: c1 -> 2/3.
    assert m["speaker_accuracy"] == pytest.approx(2 / 3)
    # Spans per claim: 3 gold mentions, 3 predicted; exact on c0 and c1 (2), overlapping on all 3.
    assert m["speaker_span_strict_f1"] == pytest.approx(2 / 3)
    assert m["speaker_span_partial_f1"] == pytest.approx(1.0)
    # ECE on matched claims with probabilities: c0 conf .9 right, c1 conf .6 wrong (gold asserts).
    #   bins 9 and 6 hold one claim each: (|1 - .9| + |0 - .6|) / 2 = 0.35.
    assert m["stance_ece"] == pytest.approx(0.35)
    # Confusion: gold rows, predicted columns + unmatched; c3 (neutral) has no prediction.
    cm = s.confusion["stance"]
    assert cm["columns"][-1] == UNMATCHED
    assert cm["matrix"] == [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 1]]
    assert s.counts == {"articles": 1, "articles_without_prediction": 0, "gold_claims": 5, "pred_claims": 5,
                        "matched_claims": 4, "gold_speakers": 3, "claims_with_probabilities": 2}


def test_perfect_prediction_scores_one_even_without_denies():
    # gold has no denies_risk; a label absent from gold and predictions must not pull macro-F1 down.
    g = gold_article()
    g = Article(g.id, g.text, tuple(c for c in g.claims if c.stance != "denies_risk"))
    m = score([g], [g], n_resamples=0).metrics
    assert m["stance_macro_f1"] == 1.0 and m["role_macro_f1"] == 1.0 and m["segmentation_f1"] == 1.0
    assert math.isnan(m["stance_ece"])  # gold has no probabilities


def test_missing_and_empty_articles():
    # article "a" has no prediction at all: its 5 claims count as missed; "empty" has no claims.
    empty = Article(id="empty", text="")
    s = score([gold_article(), empty], [empty], n_resamples=0)
    assert s.counts["articles_without_prediction"] == 1
    assert s.metrics["segmentation_recall"] == 0.0 and s.metrics["segmentation_precision"] == 0.0
    # every gold claim is unmatched, so every F1 is 0 (denies, neutral, asserts all have gold support).
    assert s.metrics["stance_macro_f1"] == 0.0 and s.metrics["speaker_accuracy"] == 0.0
    # Only empty articles: figures about claims are undefined, not zero.
    s = score([empty], [empty], n_resamples=100)
    assert math.isnan(s.metrics["stance_macro_f1"]) and math.isnan(s.metrics["speaker_accuracy"])
    assert all(math.isnan(lo) and math.isnan(hi) for lo, hi in s.intervals.values())


def test_predictions_on_other_text_are_refused():
    g = gold_article()
    with pytest.raises(ValueError, match="differs from the gold text"):
        pair_articles([g], [Article(id="a", text=g.text + " extra")])
    with pytest.raises(ValueError, match="twice"):
        pair_articles([g], [g, g])


# ---------------------------------------------------------------------------
# Agreement with scikit-learn; the bootstrap's figures equal the point figures


def random_corpus(seed: int, n_articles: int = 40):
    rng = np.random.default_rng(seed)
    gold, pred = [], []
    for k in range(n_articles):
        n = int(rng.integers(0, 8))
        text, spans = spans_of([f"Zin nummer {i} van artikel {k}." for i in range(n)])
        gc, pc = [], []
        for s, e in spans:
            gs, gr = str(rng.choice(STANCES)), str(rng.choice(ROLES))
            gsp = Speaker(gr, text[s:s + 3], s, s + 3, "Zin") if gr not in ("author", "other") else Speaker(gr)
            gc.append(Claim(s, e, gs, gsp))
            if rng.random() < 0.8:  # else the gold claim goes unmatched
                ps = gs if rng.random() < 0.6 else str(rng.choice(STANCES))
                pr = gr if rng.random() < 0.6 else str(rng.choice(ROLES))
                probs = rng.dirichlet(np.ones(3))
                psp = Speaker(pr, text[s:s + 3], s, s + 3, "Zin") if pr not in ("author", "other") else Speaker(pr)
                pc.append(Claim(s, e, ps, psp, stance_probs=dict(zip(STANCES, map(float, probs)))))
        gold.append(Article(f"art{k}", text, tuple(gc)))
        pred.append(Article(f"art{k}", text, tuple(pc)))
    return gold, pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_scikit_learn_on_random_labels(seed):
    gold, pred = random_corpus(seed)
    rows = claim_rows(pair_articles(gold, pred))
    y_true = [c.stance for a in gold for c in a.claims]
    y_pred = rows.pred_stance
    assert y_true == rows.gold_stance and UNMATCHED in y_pred
    expected = f1_score(y_true, y_pred, labels=list(STANCES), average="macro", zero_division=1.0)
    roles = sorted(set(rows.gold_role), key=ROLES.index)
    expected_role = f1_score(rows.gold_role, rows.pred_role, labels=roles, average="macro", zero_division=0)
    s = score(gold, pred, n_resamples=0)
    assert s.metrics["stance_macro_f1"] == pytest.approx(expected)
    assert s.metrics["role_macro_f1"] == pytest.approx(expected_role)
    # The count-based figures that the bootstrap resamples equal the scikit-learn figures.
    pooled = figures_from_counts(rows.tally.sum(axis=0))
    for name in METRICS:
        assert float(pooled[name]) == pytest.approx(s.metrics[name], nan_ok=True), name


def test_bootstrap_intervals_contain_the_point_and_repeat_with_the_seed():
    gold, pred = random_corpus(3, n_articles=60)
    a = score(gold, pred, n_resamples=500, seed=7)
    b = score(gold, pred, n_resamples=500, seed=7)
    assert a.intervals == b.intervals
    for name in ("segmentation_f1", "stance_macro_f1", "role_macro_f1", "speaker_accuracy", "stance_ece"):
        lo, hi = a.intervals[name]
        assert lo <= a.metrics[name] <= hi, name
        assert hi - lo > 0, name  # random data has spread
    # one article: no spread to estimate
    one = score(gold[:1], pred[:1], n_resamples=100)
    assert all(math.isnan(lo) for lo, _ in one.intervals.values())


# ---------------------------------------------------------------------------
# Calibration


def test_fit_temperature_recovers_an_overconfidence_factor():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, size=(20000, 3))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    # the labels follow softmax(z); a model that outputs 3z is three times too sharp.
    assert fit_temperature(3 * z, y) == pytest.approx(3.0, rel=0.05)
    # log-probabilities work as well as logits
    assert fit_temperature(np.log(p), y) == pytest.approx(1.0, rel=0.05)
    with pytest.raises(ValueError):
        fit_temperature(np.zeros((2, 3)), np.zeros(3))


def test_stance_probabilities_for_matched_claims():
    probs, labels = stance_probabilities([gold_article()], [predicted_article()])
    assert probs.shape == (2, 3) and labels.tolist() == [0, 0]
    assert probs[1].tolist() == [0.3, 0.1, 0.6]


# ---------------------------------------------------------------------------
# The HF evaluate metric module


def test_evaluate_metric_module_loads_offline_and_scores(monkeypatch):
    evaluate = pytest.importorskip("evaluate")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    metric = evaluate.load(str(ROOT / "evaluation" / "stance_metric"))
    out = metric.compute(predictions=[dumps(predicted_article())], references=[dumps(gold_article())])
    assert out["stance_macro_f1"] == pytest.approx(13 / 18)
    assert out["segmentation_f1"] == pytest.approx(0.8)
    gold, pred = random_corpus(4, n_articles=10)
    out = metric.compute(predictions=[json.dumps(json.loads(dumps(a))) for a in pred], references=[dumps(a) for a in gold], n_resamples=200)
    assert out["stance_macro_f1_low"] <= out["stance_macro_f1"] <= out["stance_macro_f1_high"]
