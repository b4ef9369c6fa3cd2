"""Scoring predictions against gold exactly as `spec/labels.md` says ("How predictions are scored").

Pure functions over records: no torch, no network. `score` is the entry point; the
rest are its parts, public so that tests, the report and training can reuse them.

Every figure is computed per gold claim (stance, role, speaker) or per claim span
(segmentation), micro-pooled over all articles. Confidence intervals resample whole
articles, because claims within an article are not independent.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment, minimize_scalar
from scipy.special import log_softmax
from scipy.stats import bootstrap
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from stance.schema import ROLES, STANCES, Article, Claim

MATCH_THRESHOLD = 0.5
UNMATCHED = "(unmatched)"
N_BINS = 10

# Headline figures, in report order; each gets a bootstrap interval.
METRICS: tuple[str, ...] = (
    "segmentation_precision", "segmentation_recall", "segmentation_f1", "stance_macro_f1", "stance_accuracy",
    "role_macro_f1", "speaker_accuracy",
    *(f"speaker_span_{kind}_{m}" for kind in ("strict", "partial") for m in ("precision", "recall", "f1")),
    "stance_ece",
)


# ---------------------------------------------------------------------------
# Alignment


def span_overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Number of characters two half-open spans share."""
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_spans(gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pair gold and predicted claim spans: (gold_index, pred_index), sorted by gold index.

    A pair qualifies when the overlap is at least half of the longer span; each gold
    and each prediction is used at most once. Among one-to-one pairings the one with
    the most pairs is chosen, and among those the one with the largest total overlap ratio.
    """
    if not gold or not pred:
        return []
    ratio = np.zeros((len(gold), len(pred)))
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            longer = max(g[1] - g[0], p[1] - p[0])
            if longer > 0:
                ratio[i, j] = span_overlap(g, p) / longer
    ok = ratio >= MATCH_THRESHOLD
    if not ok.any():
        return []
    # A weight above any sum of ratios makes the number of pairs count first.
    weight = np.where(ok, len(gold) + len(pred) + ratio, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return sorted((int(i), int(j)) for i, j in zip(rows, cols) if ok[i, j])


def align(gold: Article, pred: Article) -> list[Claim | None]:
    """The predicted claim matched to each gold claim of one article (None when unmatched)."""
    pairs = match_spans([(c.start, c.end) for c in gold.claims], [(c.start, c.end) for c in pred.claims])
    out: list[Claim | None] = [None] * len(gold.claims)
    for i, j in pairs:
        out[i] = pred.claims[j]
    return out


def pair_articles(gold: Sequence[Article], pred: Sequence[Article]) -> list[tuple[Article, Article]]:
    """Pair each gold article with the prediction of the same id.

    A gold article without a prediction is paired with an empty one (all its claims
    then count as missed); predictions for ids not in gold are ignored.
    """
    by_id: dict[str, Article] = {}
    for a in pred:
        if a.id in by_id:
            raise ValueError(f"predictions hold article id {a.id!r} twice; give each article one prediction")
        by_id[a.id] = a
    seen: set[str] = set()
    pairs = []
    for g in gold:
        if g.id in seen:
            raise ValueError(f"gold holds article id {g.id!r} twice; article ids must be unique")
        seen.add(g.id)
        p = by_id.get(g.id)
        if p is None:
            p = Article(id=g.id, text=g.text)
        elif p.text != g.text:
            raise ValueError(f"article {g.id!r}: the prediction's text differs from the gold text, so offsets cannot be compared; predict on the gold text")
        pairs.append((g, p))
    return pairs


# ---------------------------------------------------------------------------
# Names


def _norm_name(name: str) -> str:
    return " ".join(name.casefold().split())


def names_match(a: str | None, b: str | None) -> bool:
    """Whether two resolved names refer to the same speaker per the spec.

    Case-insensitive and whitespace-normalised; a match when one contains the other
    as whole words ("Pompeo" ~ "Mike Pompeo", not "Pomp" ~ "Pompeo").
    """
    if not a or not b:
        return False
    a, b = _norm_name(a), _norm_name(b)
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return re.search(r"(?<!\w)" + re.escape(short) + r"(?!\w)", long_) is not None


# ---------------------------------------------------------------------------
# Per-claim table and per-article tallies


@dataclass(frozen=True)
class ClaimRows:
    """One row per gold claim (and counts per article) that every figure is computed from."""

    article: np.ndarray  # article index of each gold claim
    gold_stance: list[str]
    pred_stance: list[str]  # UNMATCHED where no prediction matched
    gold_role: list[str]
    pred_role: list[str]
    speaker_eligible: np.ndarray  # gold speaker is not null
    speaker_correct: np.ndarray
    confidence: np.ndarray  # max stance probability; nan without probabilities
    prob_correct: np.ndarray  # argmax of stance probabilities equals gold
    tally: np.ndarray  # (n_articles, _WIDTH) counts laid out as below


_SEG = slice(0, 3)  # matched, predicted, gold claims
_SPAN = slice(3, 7)  # strict tp, partial tp, predicted mentions, gold mentions
_SPK = slice(7, 9)  # eligible gold claims, correctly resolved
_ST = slice(9, 9 + 3 * 4)  # stance confusion: gold x (pred + unmatched)
_RO = slice(_ST.stop, _ST.stop + 8 * 9)  # role confusion
_ECE = slice(_RO.stop, _RO.stop + N_BINS * 3)  # per bin: count, sum confidence, sum correct
_WIDTH = _ECE.stop


def claim_rows(pairs: Sequence[tuple[Article, Article]]) -> ClaimRows:
    """Align every article pair and lay the result out per gold claim."""
    art, gs, ps, gr, pr, elig, corr, conf, pcorr = [], [], [], [], [], [], [], [], []
    tally = np.zeros((len(pairs), _WIDTH))
    for k, (g, p) in enumerate(pairs):
        matched = align(g, p)
        n_match = sum(m is not None for m in matched)
        strict = partial = 0
        for gc, pc in zip(g.claims, matched):
            gsp, psp = gc.speaker, (pc.speaker if pc is not None else None)
            art.append(k)
            gs.append(gc.stance)
            gr.append(gsp.role)
            ps.append(pc.stance if pc is not None else UNMATCHED)
            pr.append(psp.role if psp is not None else UNMATCHED)
            elig.append(not gsp.is_null)
            corr.append(not gsp.is_null and psp is not None and names_match(gsp.resolved, psp.resolved))
            if not gsp.is_null and psp is not None and not psp.is_null:
                gspan, pspan = (gsp.start, gsp.end), (psp.start, psp.end)
                strict += gspan == pspan
                partial += span_overlap(gspan, pspan) > 0
            probs = pc.stance_probs if pc is not None else None
            if probs:
                best = max(probs, key=probs.get)
                conf.append(float(probs[best]))
                pcorr.append(best == gc.stance)
            else:
                conf.append(np.nan)
                pcorr.append(False)
        mentions = [sum(not c.speaker.is_null for c in a.claims) for a in (p, g)]
        tally[k, _SEG] = (n_match, len(p.claims), len(g.claims))
        tally[k, _SPAN] = (strict, partial, *mentions)
    as_bool = lambda x: np.asarray(x, dtype=bool)  # noqa: E731
    rows = ClaimRows(np.asarray(art, dtype=int), gs, ps, gr, pr, as_bool(elig), as_bool(corr), np.asarray(conf, dtype=float), as_bool(pcorr), tally)
    _fill_label_tallies(rows)
    return rows


def _fill_label_tallies(rows: ClaimRows) -> None:
    # Per-article sums are what the bootstrap resamples; np.add.at accumulates repeats.
    t, a = rows.tally, rows.article
    if len(a) == 0:
        return
    np.add.at(t[:, _SPK], (a, 0), rows.speaker_eligible)
    np.add.at(t[:, _SPK], (a, 1), rows.speaker_correct)
    st_cols, ro_cols = (*STANCES, UNMATCHED), (*ROLES, UNMATCHED)
    st_idx = np.array([STANCES.index(g) * 4 + st_cols.index(p) for g, p in zip(rows.gold_stance, rows.pred_stance)])
    ro_idx = np.array([ROLES.index(g) * 9 + ro_cols.index(p) for g, p in zip(rows.gold_role, rows.pred_role)])
    np.add.at(t, (a, _ST.start + st_idx), 1)
    np.add.at(t, (a, _RO.start + ro_idx), 1)
    has = ~np.isnan(rows.confidence)
    bins = np.minimum((rows.confidence[has] * N_BINS).astype(int), N_BINS - 1)
    base = _ECE.start + bins * 3
    np.add.at(t, (a[has], base), 1)
    np.add.at(t, (a[has], base + 1), rows.confidence[has])
    np.add.at(t, (a[has], base + 2), rows.prob_correct[has])


# ---------------------------------------------------------------------------
# Figures from pooled counts (vectorised over leading axes, for the bootstrap)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def _prf(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Zero where undefined, as scikit-learn's zero_division=0.
    return _div(tp, n_pred), _div(tp, n_gold), _div(2 * tp, n_pred + n_gold)


def _macro_f1_from_confusion(cm: np.ndarray, only_present: bool) -> np.ndarray:
    # cm: (..., K, K+1) gold x pred, last column = unmatched (a wrong answer for every class).
    k = cm.shape[-2]
    tp = np.diagonal(cm[..., :k], axis1=-2, axis2=-1)
    n_gold = cm.sum(axis=-1)
    n_pred = cm[..., :k].sum(axis=-2)
    # A label absent from both gold and predictions counts as perfect (scikit-learn's
    # zero_division=1), so a perfect prediction scores 1 even when a stance is missing.
    f1 = np.where(n_gold + n_pred > 0, _div(2 * tp, n_gold + n_pred), 1.0)
    mask = n_gold > 0 if only_present else np.ones_like(n_gold, dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.where(mask.any(axis=-1), (f1 * mask).sum(axis=-1) / mask.sum(axis=-1), np.nan)


def figures_from_counts(c: np.ndarray) -> dict[str, np.ndarray]:
    """Every headline figure from pooled per-article counts (last axis = `_WIDTH`)."""
    out: dict[str, np.ndarray] = {}
    seg = c[..., _SEG]
    out["segmentation_precision"], out["segmentation_recall"], out["segmentation_f1"] = _prf(seg[..., 0], seg[..., 1], seg[..., 2])
    st = c[..., _ST].reshape(*c.shape[:-1], 3, 4)
    ro = c[..., _RO].reshape(*c.shape[:-1], 8, 9)
    n_gold = st.sum(axis=(-1, -2))
    nan = np.full(n_gold.shape, np.nan)
    out["stance_macro_f1"] = np.where(n_gold > 0, _macro_f1_from_confusion(st, only_present=False), nan)
    out["stance_accuracy"] = np.where(n_gold > 0, _div(np.trace(st[..., :3], axis1=-2, axis2=-1), n_gold), nan)
    out["role_macro_f1"] = _macro_f1_from_confusion(ro, only_present=True)
    spk = c[..., _SPK]
    out["speaker_accuracy"] = np.where(spk[..., 0] > 0, _div(spk[..., 1], spk[..., 0]), nan)
    sp = c[..., _SPAN]
    for i, kind in enumerate(("strict", "partial")):
        p, r, f = _prf(sp[..., i], sp[..., 2], sp[..., 3])
        out[f"speaker_span_{kind}_precision"], out[f"speaker_span_{kind}_recall"], out[f"speaker_span_{kind}_f1"] = p, r, f
    e = c[..., _ECE].reshape(*c.shape[:-1], N_BINS, 3)
    total = e[..., 0].sum(axis=-1)
    gap = np.abs(e[..., 2] - e[..., 1]).sum(axis=-1)  # per bin n*|acc - conf| = |sum correct - sum conf|
    out["stance_ece"] = np.where(total > 0, _div(gap, total), nan)
    return out


# ---------------------------------------------------------------------------
# Bootstrap


def bootstrap_intervals(
    tally: np.ndarray, *, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Percentile intervals for every headline figure, resampling articles (rows of `tally`).

    Fewer than two articles give (nan, nan): one article says nothing about spread.
    Resamples where a figure is undefined (no gold claims, say) are left out of its interval;
    role macro-F1 averages over the roles present in each resample's gold claims.
    """
    n = tally.shape[0]
    if n < 2 or n_resamples < 1:
        return {m: (float("nan"), float("nan")) for m in METRICS}

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        figs = figures_from_counts(tally[idx.astype(int)].sum(axis=-2))
        return np.stack([figs[m] for m in METRICS])

    with warnings.catch_warnings():
        # A constant or partly undefined distribution is handled below.
        warnings.simplefilter("ignore")
        res = bootstrap(
            (np.arange(n),), statistic, vectorized=True, n_resamples=n_resamples,
            confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed),
        )
    alpha = (1 - confidence) / 2
    out = {}
    for i, m in enumerate(METRICS):
        dist = res.bootstrap_distribution[i]
        if np.isfinite(dist).any():
            lo, hi = np.nanpercentile(dist, [100 * alpha, 100 * (1 - alpha)])
        else:
            lo = hi = float("nan")
        out[m] = (float(lo), float(hi))
    return out


# ---------------------------------------------------------------------------
# Calibration


def reliability(rows: ClaimRows, n_bins: int = N_BINS) -> dict[str, list[float]]:
    """Per confidence bin: claim count, mean confidence and accuracy of the argmax stance."""
    e = rows.tally[:, _ECE].sum(axis=0).reshape(N_BINS, 3)
    count = e[:, 0]
    return {
        "lower": [i / n_bins for i in range(n_bins)],
        "count": count.tolist(),
        "confidence": _div(e[:, 1], count).tolist(),
        "accuracy": _div(e[:, 2], count).tolist(),
    }


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the NLL of softmax(logits / T) on held-out labels.

    `logits` is (n, classes) logits or log-probabilities (they differ by a constant per
    row, which softmax ignores); `labels` are class indices. T > 1 softens over-confident
    predictions. Fit on dev predictions, never on test.
    """
    z = np.asarray(logits, dtype=float)
    y = np.asarray(labels, dtype=int)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"need (n, classes) logits and n labels with n > 0; got {z.shape} and {y.shape}")

    def nll(log_t: float) -> float:
        return float(-log_softmax(z / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean())

    # Searching log T keeps T positive; [-5, 5] spans T from 0.007 to 148.
    res = minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


def stance_probabilities(gold: Sequence[Article], pred: Sequence[Article]) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (n, 3) in `STANCES` order, gold label indices) for matched claims with probabilities."""
    probs, labels = [], []
    for g, p in pair_articles(gold, pred):
        for gc, pc in zip(g.claims, align(g, p)):
            if pc is not None and pc.stance_probs:
                probs.append([pc.stance_probs.get(s, 0.0) for s in STANCES])
                labels.append(STANCES.index(gc.stance))
    return np.asarray(probs, dtype=float).reshape(-1, len(STANCES)), np.asarray(labels, dtype=int)


# ---------------------------------------------------------------------------
# Scores


@dataclass(frozen=True)
class Scores:
    """Every figure of one system on one gold set.

    `metrics` holds the headline figures (nan where undefined, e.g. ECE without
    probabilities); `intervals` their bootstrap intervals; `per_class` per-label
    precision/recall/F1/support for "stance" and "role"; `confusion` the label order
    and matrix (gold rows, predicted columns, last column unmatched); `reliability`
    the calibration bins; `counts` the sizes behind the figures.
    """

    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    per_class: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    confusion: dict[str, dict[str, Any]] = field(default_factory=dict)
    reliability: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (nan becomes None)."""

        def clean(x: Any) -> Any:
            if isinstance(x, float):
                return None if np.isnan(x) else x
            if isinstance(x, Mapping):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [clean(v) for v in x]
            return x

        return clean(
            {"metrics": self.metrics, "intervals": self.intervals, "per_class": self.per_class,
             "confusion": self.confusion, "reliability": self.reliability, "counts": self.counts}
        )


def _per_class(y_true: list[str], y_pred: list[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    if not labels or not y_true:
        return {}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    predicted = set(y_pred)
    nan = float("nan")
    # A label neither in gold nor predicted has no precision or recall to show.
    return {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        if s[i] or lab in predicted
        else {"precision": nan, "recall": nan, "f1": nan, "support": 0}
        for i, lab in enumerate(labels)
    }


def _confusion(y_true: list[str], y_pred: list[str], labels: Sequence[str]) -> dict[str, Any]:
    cols = [*labels, UNMATCHED]
    if not y_true:
        return {"labels": list(labels), "columns": cols, "matrix": [[0] * len(cols) for _ in labels]}
    cm = confusion_matrix(y_true, y_pred, labels=cols)
    return {"labels": list(labels), "columns": cols, "matrix": cm[: len(labels)].tolist()}


def score(
    gold: Sequence[Article], pred: Sequence[Article], *, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> Scores:
    """Score predictions against gold, pairing articles by id, with bootstrap intervals.

    `n_resamples=0` skips the intervals. Point figures come from scikit-learn on the
    per-claim labels; the intervals from the same figures recomputed on resampled articles.
    """
    pairs = pair_articles(gold, pred)
    rows = claim_rows(pairs)
    total = rows.tally.sum(axis=0)
    pooled = {k: float(v) for k, v in figures_from_counts(total).items()}
    roles_present = [r for r in ROLES if r in set(rows.gold_role)]
    metrics = dict(pooled)
    if rows.gold_stance:
        metrics["stance_macro_f1"] = float(f1_score(rows.gold_stance, rows.pred_stance, labels=list(STANCES), average="macro", zero_division=1.0))
        metrics["stance_accuracy"] = float(accuracy_score(rows.gold_stance, rows.pred_stance))
        metrics["role_macro_f1"] = float(f1_score(rows.gold_role, rows.pred_role, labels=roles_present, average="macro", zero_division=0))
    if rows.speaker_eligible.any():
        metrics["speaker_accuracy"] = float(rows.speaker_correct[rows.speaker_eligible].mean())
    counts = {
        "articles": len(pairs),
        "articles_without_prediction": len({g.id for g in gold} - {a.id for a in pred}),
        "gold_claims": int(total[_SEG][2]),
        "pred_claims": int(total[_SEG][1]),
        "matched_claims": int(total[_SEG][0]),
        "gold_speakers": int(total[_SPK][0]),
        "claims_with_probabilities": int((~np.isnan(rows.confidence)).sum()),
    }
    return Scores(
        metrics={m: metrics[m] for m in METRICS},
        intervals=bootstrap_intervals(rows.tally, n_resamples=n_resamples, confidence=confidence, seed=seed) if n_resamples else {},
        per_class={"stance": _per_class(rows.gold_stance, rows.pred_stance, STANCES), "role": _per_class(rows.gold_role, rows.pred_role, roles_present)},
        confusion={"stance": _confusion(rows.gold_stance, rows.pred_stance, STANCES), "role": _confusion(rows.gold_role, rows.pred_role, ROLES)},
        reliability=reliability(rows) if counts["claims_with_probabilities"] else {},
        counts=counts,
    )
