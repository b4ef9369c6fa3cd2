"""Inter-annotator agreement between the corpus (annotator A) and a second, blind annotator (B).

    python training/agreement.py blind    # writes training/agreement/blind.txt and sample.json
    python training/agreement.py score    # reads training/agreement/second.txt, writes REPORT.md and disagreements.md

`blind` draws a reproducible sample of whole articles, stratified so that every
split and every source file is represented and each split contributes at least
10% of its claims. The articles are written claim by claim with an empty
annotation line under each claim and no gold labels. The second annotator fills
in every line in the authoring syntax of docs/annotation-guide.md:

    [3] „Wij nemen geen risico”, zei hij.
      @ asserts_risk | government | hij => Ferd Grapperhaus

and saves the file as `second.txt`. `score` compares B with the gold labels:
Cohen's kappa and raw agreement for stance and role, speaker agreement (the
spec's whole-word containment match of resolved names), confusion tables, and a
list of every disagreement.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

import build_corpus  # noqa: E402
from stance.metrics import names_match  # noqa: E402
from stance.schema import ROLES, STANCES, Article, read_jsonl  # noqa: E402

DATA = ROOT / "training" / "data"
OUT = ROOT / "training" / "agreement"
SPLITS = ("train", "dev", "test", "test-unseen-vendors")
SEED = 20240611
FRACTION = 0.10
HEADER_KEYS = ("outlet", "date", "region")  # context for the annotator; never labels or vendors


# ---------------------------------------------------------------------------
# sampling


def load_corpus(data: Path = DATA) -> dict[str, list[Article]]:
    """Every split of the built corpus, by split name."""
    return {name: read_jsonl(data / f"{name}.jsonl") for name in SPLITS if (data / f"{name}.jsonl").exists()}


def sample_articles(splits: Mapping[str, Sequence[Article]], fraction: float = FRACTION, seed: int = SEED) -> list[tuple[str, Article]]:
    """A reproducible sample of whole articles: one from every source file, then each split filled to `fraction`.

    Returns (split, article) pairs in a stable order (split, then id).
    """
    rng = random.Random(seed)
    pool = [(split, a) for split, arts in splits.items() for a in sorted(arts, key=lambda a: a.id)]
    rng.shuffle(pool)
    quota = {s: math.ceil(fraction * sum(len(a.claims) for a in arts)) for s, arts in splits.items()}
    taken: dict[str, int] = defaultdict(int)
    chosen: dict[str, tuple[str, Article]] = {}

    def take(split: str, article: Article) -> None:
        chosen[article.id] = (split, article)
        taken[split] += len(article.claims)

    by_source: dict[str, list[tuple[str, Article]]] = defaultdict(list)
    for split, a in pool:
        by_source[str(a.meta.get("source", "?"))].append((split, a))
    for source in sorted(by_source):
        # From each source, an article of the split that is furthest below its quota.
        split, article = max(by_source[source], key=lambda sa: (quota[sa[0]] - taken[sa[0]]) / max(quota[sa[0]], 1))
        take(split, article)
    per_source = Counter(str(a.meta.get("source", "?")) for _, a in chosen.values())
    for split in splits:
        candidates = [(s, a) for s, a in pool if s == split and a.id not in chosen]
        while taken[split] < quota[split] and candidates:
            # Spread the extra articles over the sources picked least so far.
            best = min(range(len(candidates)), key=lambda i: per_source[str(candidates[i][1].meta.get("source", "?"))])
            s, a = candidates.pop(best)
            take(s, a)
            per_source[str(a.meta.get("source", "?"))] += 1
    order = {s: i for i, s in enumerate(SPLITS)}
    return sorted(chosen.values(), key=lambda sa: (order.get(sa[0], 99), sa[1].id))


def blind_text(sample: Sequence[tuple[str, Article]], seed: int = SEED) -> str:
    """The sampled articles as numbered claims with empty annotation lines, without any gold label."""
    n_claims = sum(len(a.claims) for _, a in sample)
    lines = [
        f"# Blind sample for double annotation: {len(sample)} articles, {n_claims} claims (seed {seed}).",
        "# Fill in every '@' line as: stance | role | mention => resolved   (see docs/annotation-guide.md)",
        "#   stance: " + ", ".join(STANCES),
        "#   role:   " + ", ".join(ROLES),
        "# Leave out the mention for 'author' (and for 'other' when the speaker is never given);",
        "# leave out '=> resolved' when it equals the mention. Do not change the claim lines.",
        "# Save the filled-in file as training/agreement/second.txt.",
        "",
    ]
    for _, article in sample:
        lines.append(f"=== {article.id}")
        lines += [f"{key}: {article.meta[key]}" for key in HEADER_KEYS if key in article.meta]
        lines.append(f"title: {article.title or ''}")
        lines.append("")
        prev_end = None
        for k, claim in enumerate(article.claims, start=1):
            if prev_end is not None and "\n\n" in article.text[prev_end : claim.start]:
                lines.append("")
            lines.append(f"[{k}] " + " ".join(article.claim_text(claim).split()))
            lines.append("  @ ")
            prev_end = claim.end
        lines.append("")
    return "\n".join(lines)


def blind(out: Path = OUT, data: Path = DATA, seed: int = SEED) -> tuple[int, int]:
    """Write blind.txt and sample.json; returns (articles, claims)."""
    splits = load_corpus(data)
    sample = sample_articles(splits, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "blind.txt").write_text(blind_text(sample, seed), encoding="utf-8")
    total = sum(len(a.claims) for arts in splits.values() for a in arts)
    n_claims = sum(len(a.claims) for _, a in sample)
    info = {
        "seed": seed,
        "fraction": FRACTION,
        "articles": len(sample),
        "claims": n_claims,
        "claims_in_corpus": total,
        "by_split": {s: {"articles": sum(1 for x, _ in sample if x == s), "claims": sum(len(a.claims) for x, a in sample if x == s),
                         "claims_in_split": sum(len(a.claims) for a in splits[s])} for s in splits},
        "sources": dict(sorted(Counter(str(a.meta.get("source", "?")) for _, a in sample).items())),
        "ids": [a.id for _, a in sample],
    }
    (out / "sample.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(sample), n_claims


# ---------------------------------------------------------------------------
# reading the second annotation


@dataclass(frozen=True)
class Label:
    """One annotator's labels for one claim."""

    stance: str
    role: str
    mention: str | None
    resolved: str | None

    @property
    def name(self) -> str | None:
        """The resolved name, or the mention when none was written."""
        return self.resolved or self.mention


_CLAIM_RE = re.compile(r"^\[(\d+)\]\s?(.*)$")


def parse_annotation(line: str) -> Label:
    """Parse '@ stance | role [| mention [=> resolved]]' as the corpus build does; ValueError says what is wrong."""
    if not line.strip().startswith("@"):
        raise ValueError("annotation line must start with '@'")
    stance, role, mention, _, resolved = build_corpus.parse_annotation(line, "annotation")
    return Label(stance, role, mention or None, resolved or None)


def read_annotations(path: Path) -> tuple[dict[str, dict[int, Label]], dict[str, dict[int, str]], list[str]]:
    """Labels by article id and claim number, the claim texts as written, and the problems found."""
    labels: dict[str, dict[int, Label]] = defaultdict(dict)
    texts: dict[str, dict[int, str]] = defaultdict(dict)
    problems: list[str] = []
    article, number = None, None
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("==="):
            article, number = line[3:].strip(), None
            texts[article]  # noqa: B018  (an article with no claims read still counts as present)
            continue
        m = _CLAIM_RE.match(line)
        if m and article is not None:
            number = int(m.group(1))
            texts[article][number] = m.group(2)
            continue
        if line.lstrip().startswith("@") and article is not None:
            if number is None:
                problems.append(f"{path.name}:{lineno}: annotation without a numbered claim above it")
                continue
            try:
                labels[article][number] = parse_annotation(line)
            except ValueError as exc:
                problems.append(f"{path.name}:{lineno} ({article} [{number}]): {exc}")
            number = None
    return dict(labels), dict(texts), problems


# ---------------------------------------------------------------------------
# scoring


@dataclass(frozen=True)
class Pair:
    """Gold (A) and second (B) labels of one claim."""

    article: str
    number: int
    text: str
    a: Label
    b: Label


def gold_label(article: Article, index: int) -> Label:
    """The corpus labels of claim `index` as a `Label`."""
    sp = article.claims[index].speaker
    return Label(article.claims[index].stance, sp.role, sp.text, sp.resolved)


def speakers_agree(a: Label, b: Label) -> bool:
    """Both without a speaker, or both naming the same speaker (the spec's containment match)."""
    if a.name is None or b.name is None:
        return a.name is None and b.name is None
    return names_match(a.name, b.name)


def _kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(set(a) | set(b)) < 2:
        return 1.0 if list(a) == list(b) else 0.0
    return float(cohen_kappa_score(a, b, labels=list(labels)))


def _bootstrap(pairs: Sequence[Pair], stat, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of `stat` over articles resampled with replacement."""
    import numpy as np

    by_article: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_article[p.article].append(p)
    groups = list(by_article.values())
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        picked = [p for i in rng.integers(0, len(groups), len(groups)) for p in groups[i]]
        values.append(stat(picked))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def confusion(pairs: Sequence[Pair], field: str, labels: Sequence[str]) -> str:
    """A Markdown confusion table: rows A (corpus), columns B (second annotator)."""
    counts = Counter((getattr(p.a, field), getattr(p.b, field)) for p in pairs)
    used = [lab for lab in labels if any(lab in k for k in counts)]
    lines = ["| A \\ B | " + " | ".join(used) + " | total |", "|---" * (len(used) + 2) + "|"]
    for r in used:
        row = [counts[(r, c)] for c in used]
        lines.append(f"| **{r}** | " + " | ".join(f"**{n}**" if r == c else str(n) for n, c in zip(row, used)) + f" | {sum(row)} |")
    lines.append("| total | " + " | ".join(str(sum(counts[(r, c)] for r in used)) for c in used) + f" | {len(pairs)} |")
    return "\n".join(lines)


def figures(pairs: Sequence[Pair], resamples: int = 1000) -> dict[str, float | int]:
    """Kappa, raw agreement and speaker agreement over the pairs."""
    def stat(field: str, labels: Sequence[str]):
        return lambda ps: _kappa([getattr(p.a, field) for p in ps], [getattr(p.b, field) for p in ps], labels)

    n = len(pairs)
    with_gold_speaker = [p for p in pairs if p.a.name is not None]
    out: dict[str, float | int] = {
        "claims": n,
        "articles": len({p.article for p in pairs}),
        "stance_kappa": stat("stance", STANCES)(pairs),
        "stance_agreement": sum(p.a.stance == p.b.stance for p in pairs) / n,
        "role_kappa": stat("role", ROLES)(pairs),
        "role_agreement": sum(p.a.role == p.b.role for p in pairs) / n,
        "speaker_agreement": sum(speakers_agree(p.a, p.b) for p in pairs) / n,
        "speaker_null_agreement": sum((p.a.name is None) == (p.b.name is None) for p in pairs) / n,
        "resolved_accuracy_on_gold_speakers": (sum(names_match(p.a.name, p.b.name) for p in with_gold_speaker)
                                               / len(with_gold_speaker)) if with_gold_speaker else float("nan"),
        "all_three_agree": sum(p.a.stance == p.b.stance and p.a.role == p.b.role and speakers_agree(p.a, p.b) for p in pairs) / n,
    }
    out["resamples"] = resamples
    out["stance_kappa_ci"] = _bootstrap(pairs, stat("stance", STANCES), resamples)
    out["role_kappa_ci"] = _bootstrap(pairs, stat("role", ROLES), resamples)
    return out


def _fmt(label: Label) -> str:
    speaker = "-" if label.name is None else (label.mention or "") + (f" => {label.resolved}" if label.resolved and label.resolved != label.mention else "")
    return f"{label.stance} \\| {label.role} \\| {speaker}"


def report(pairs: Sequence[Pair], fig: Mapping, missing: int, problems: Sequence[str], split_of: Mapping[str, str]) -> str:
    """REPORT.md: the figures, per-split figures, the confusion tables and any problems in second.txt."""
    ci = lambda key: f"[{fig[key][0]:.3f}, {fig[key][1]:.3f}]"  # noqa: E731
    by_split = defaultdict(list)
    for p in pairs:
        by_split[split_of.get(p.article, "?")].append(p)
    lines = [
        "# Inter-annotator agreement",
        "",
        "A: the corpus labels (`training/data/*.jsonl`, written by the corpus writers).",
        "B: a second annotator, who labelled the blind sample (`blind.txt` -> `second.txt`, no gold labels",
        "in it) following docs/annotation-guide.md and the spec.",
        "",
        f"Sample: {fig['articles']} whole articles, {fig['claims']} claims (`sample.json`: seed, ids, spread over splits and source files).",
        f"Unannotated or unreadable claims left out: {missing}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| stance: Cohen's kappa | {fig['stance_kappa']:.3f} {ci('stance_kappa_ci')} |",
        f"| stance: raw agreement | {fig['stance_agreement']:.1%} |",
        f"| role: Cohen's kappa | {fig['role_kappa']:.3f} {ci('role_kappa_ci')} |",
        f"| role: raw agreement | {fig['role_agreement']:.1%} |",
        f"| speaker: same resolved speaker or both none | {fig['speaker_agreement']:.1%} |",
        f"| speaker: agree whether there is a speaker | {fig['speaker_null_agreement']:.1%} |",
        f"| speaker: B's resolved name matches A's, on A's attributed claims | {fig['resolved_accuracy_on_gold_speakers']:.1%} |",
        f"| stance, role and speaker all agree | {fig['all_three_agree']:.1%} |",
        "",
        f"Intervals: 95% percentile bootstrap over articles ({fig['resamples']} resamples). Speaker names match as in",
        "the spec's scoring: case-insensitive, whitespace-normalised, one containing the other as whole words.",
        "",
        "## Per split",
        "",
        "| split | claims | stance kappa | stance agreement | role kappa | role agreement |",
        "|---|---|---|---|---|---|",
    ]
    for split in [*SPLITS, "?"]:
        ps = by_split.get(split)
        if ps:
            lines.append(f"| {split} | {len(ps)} | {_kappa([p.a.stance for p in ps], [p.b.stance for p in ps], STANCES):.3f} | "
                         f"{sum(p.a.stance == p.b.stance for p in ps) / len(ps):.1%} | "
                         f"{_kappa([p.a.role for p in ps], [p.b.role for p in ps], ROLES):.3f} | "
                         f"{sum(p.a.role == p.b.role for p in ps) / len(ps):.1%} |")
    lines += ["", "## Stance confusion (rows A, columns B)", "", confusion(pairs, "stance", STANCES),
              "", "## Role confusion (rows A, columns B)", "", confusion(pairs, "role", ROLES), ""]
    if problems:
        lines += ["## Problems in second.txt", ""] + [f"- {p}" for p in problems] + [""]
    lines += ["Every disagreement is listed in `disagreements.md`.", ""]
    return "\n".join(lines)


def disagreements(pairs: Sequence[Pair]) -> str:
    """disagreements.md: every claim where A and B differ in stance, role or speaker."""
    rows = [p for p in pairs if p.a.stance != p.b.stance or p.a.role != p.b.role or not speakers_agree(p.a, p.b)]
    lines = ["# Disagreements between the corpus (A) and the second annotator (B)", "",
             f"{len(rows)} of {len(pairs)} claims differ in stance, role or speaker. "
             "The last column says what differs: S stance, R role, P speaker.", "",
             "| article | # | claim | A | B | differs |", "|---|---|---|---|---|---|"]
    for p in rows:
        what = "".join(flag for flag, differs in (("S", p.a.stance != p.b.stance), ("R", p.a.role != p.b.role),
                                                   ("P", not speakers_agree(p.a, p.b))) if differs)
        text = p.text.replace("|", "\\|")
        lines.append(f"| {p.article} | {p.number} | {text} | {_fmt(p.a)} | {_fmt(p.b)} | {what} |")
    return "\n".join(lines) + "\n"


def score(out: Path = OUT, data: Path = DATA, allow_incomplete: bool = False, resamples: int = 1000) -> tuple[dict, list[str]]:
    """Compare second.txt with the corpus; write REPORT.md and disagreements.md. Returns (figures, problems)."""
    sample = json.loads((out / "sample.json").read_text(encoding="utf-8"))
    labels, texts, problems = read_annotations(out / "second.txt")
    splits = load_corpus(data)
    gold = {a.id: a for arts in splits.values() for a in arts}
    split_of = {a.id: s for s, arts in splits.items() for a in arts}
    pairs, missing = [], 0
    for aid in sample["ids"]:
        article = gold.get(aid)
        if article is None:
            problems.append(f"article {aid} of sample.json is no longer in the corpus")
            continue
        if aid not in texts:
            problems.append(f"article {aid} is missing from second.txt")
        if len(texts.get(aid, {})) not in (0, len(article.claims)):
            problems.append(f"article {aid}: second.txt has {len(texts[aid])} numbered claims, the corpus {len(article.claims)}")
        for k in range(1, len(article.claims) + 1):
            b = labels.get(aid, {}).get(k)
            if b is None:
                missing += 1
                continue
            pairs.append(Pair(aid, k, article.claim_text(article.claims[k - 1]), gold_label(article, k - 1), b))
    if missing and not allow_incomplete:
        raise SystemExit(f"second.txt is incomplete: {missing} claim(s) without a readable annotation "
                         f"({len(problems)} problem(s)); finish it or pass --allow-incomplete\n" + "\n".join(problems[:20]))
    if not pairs:
        raise SystemExit("second.txt has no annotations to score")
    fig = figures(pairs, resamples)
    (out / "REPORT.md").write_text(report(pairs, fig, missing, problems, split_of), encoding="utf-8")
    (out / "disagreements.md").write_text(disagreements(pairs), encoding="utf-8")
    return fig, problems


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("blind", "score"):
        print(__doc__)
        return 2
    if argv[0] == "blind":
        n_articles, n_claims = blind()
        print(f"{n_articles} articles, {n_claims} claims -> {OUT / 'blind.txt'} and {OUT / 'sample.json'}")
        return 0
    fig, problems = score(allow_incomplete="--allow-incomplete" in argv)
    for key, value in fig.items():
        print(f"{key}: {value}")
    if problems:
        print(f"{len(problems)} problem(s) in second.txt; see {OUT / 'REPORT.md'}")
    print(f"written: {OUT / 'REPORT.md'}, {OUT / 'disagreements.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
