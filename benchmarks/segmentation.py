"""Benchmark `stance.segment.segment` against gold claim spans: P/R/F1 and speed.

A predicted claim matches a gold claim when their overlap is at least half of the
longer span, one to one (`stance.metrics.match_spans`, the spec's rule). Scores the
real evaluation articles and every `training/data/*.jsonl`, next to a naive
regular-expression splitter as the obvious alternative, and the
`join_continued_quotes=True` variant. Prints numbers only and saves them to
`benchmarks/results/segmentation.txt`; `--show` adds, on screen only, where the
segmenter disagrees with the gold (offsets and the first words of each span).

    python benchmarks/segmentation.py
    python benchmarks/segmentation.py --show --no-save
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.metrics import match_spans  # noqa: E402
from stance.schema import Article, read_jsonl  # noqa: E402
from stance.segment import segment  # noqa: E402

Segmenter = Callable[[str], list[tuple[int, int]]]

_NAIVE_RE = re.compile(r"[^\n]*?(?:[.!?](?=\s+[A-Z\"„“'‘(])|\n|\Z)")


def naive_segment(text: str) -> list[tuple[int, int]]:
    """The obvious alternative: cut after . ! ? before a capital, and at every line break."""
    spans = []
    for m in _NAIVE_RE.finditer(text):
        piece = m.group()
        stripped = piece.strip()
        if stripped:
            start = m.start() + len(piece) - len(piece.lstrip())
            spans.append((start, start + len(stripped)))
    return spans


def _joined(text: str) -> list[tuple[int, int]]:
    return segment(text, join_continued_quotes=True)


SEGMENTERS: dict[str, Segmenter] = {
    "segment": segment,
    "segment(join_continued_quotes=True)": _joined,
    "naive regex": naive_segment,
}


def score(articles: Sequence[Article], segmenter: Segmenter) -> tuple[int, int, int, list[tuple[Article, list, list, list]]]:
    """(matches, gold claims, predicted claims, per-article gold/pred/pairs) for one segmenter."""
    tp = n_gold = n_pred = 0
    details = []
    for article in articles:
        gold = [(c.start, c.end) for c in article.claims]
        pred = segmenter(article.text)
        pairs = match_spans(gold, pred)
        tp += len(pairs)
        n_gold += len(gold)
        n_pred += len(pred)
        details.append((article, gold, pred, pairs))
    return tp, n_gold, n_pred, details


def prf(tp: int, n_gold: int, n_pred: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from match counts (0 where undefined)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def throughput(articles: Sequence[Article], segmenter: Segmenter, repeats: int = 5, min_seconds: float = 0.2) -> tuple[float, float]:
    """Median articles/s and characters/s over `repeats` timed runs, after a warm-up run."""
    texts = [a.text for a in articles]
    chars = sum(map(len, texts))
    for t in texts:  # warm-up
        segmenter(t)
    rounds = 1
    while True:  # enough rounds per timed run that the clock's resolution does not matter
        start = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                segmenter(t)
        if time.perf_counter() - start >= min_seconds / 4 or rounds >= 1 << 16:
            break
        rounds *= 2
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                segmenter(t)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return len(texts) * rounds / median, chars * rounds / median


def _snippet(text: str, span: tuple[int, int], width: int = 40) -> str:
    piece = " ".join(text[span[0] : span[1]].split())
    return piece if len(piece) <= width else piece[: width - 3] + "..."


def mismatches(details: list[tuple[Article, list, list, list]]) -> list[str]:
    """One line per unmatched gold or predicted span: article, offsets, first words."""
    lines = []
    for article, gold, pred, pairs in details:
        matched_gold = {i for i, _ in pairs}
        matched_pred = {j for _, j in pairs}
        for i, span in enumerate(gold):
            if i not in matched_gold:
                lines.append(f"  missed    {article.id} [{span[0]}, {span[1]}) {_snippet(article.text, span)!r}")
        for j, span in enumerate(pred):
            if j not in matched_pred:
                lines.append(f"  spurious  {article.id} [{span[0]}, {span[1]}) {_snippet(article.text, span)!r}")
    return lines


def machine() -> str:
    """The machine the timings come from."""
    cpu = platform.processor() or platform.machine()
    return f"{platform.platform()}; {cpu}; {os.cpu_count()} CPUs; Python {platform.python_version()} ({platform.python_implementation()})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-dev", type=Path, default=ROOT.parent / "shared" / "eval" / "real-dev.jsonl", help="real evaluation articles (JSON Lines)")
    parser.add_argument("--corpus", type=Path, nargs="*", default=None, help="more gold files (default: training/data/*.jsonl)")
    parser.add_argument("--show", action="store_true", help="print each mismatch of `segment` (screen only, never saved)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "segmentation.txt")
    parser.add_argument("--no-save", action="store_true", help="do not write --output")
    args = parser.parse_args(argv)

    files = [args.real_dev] if args.real_dev.exists() else []
    files += args.corpus if args.corpus is not None else sorted((ROOT / "training" / "data").glob("*.jsonl"))
    if not files:
        parser.error(f"no gold files: {args.real_dev} does not exist and training/data/ has no *.jsonl; build the corpus with training/build_corpus.py")

    report = [
        "Segmentation benchmark: benchmarks/segmentation.py",
        f"machine: {machine()}",
        "match: overlap >= half of the longer span, one to one (stance.metrics.match_spans)",
        "",
    ]
    shown: list[str] = []
    everything: list[Article] = []
    header = f"{'file':<28} {'segmenter':<38} {'articles':>8} {'gold':>6} {'pred':>6} {'match':>6} {'P':>7} {'R':>7} {'F1':>7} {'articles/s':>11}"
    report += [header, "-" * len(header)]
    for path in files:
        articles = read_jsonl(path)
        everything += articles
        name = path.name if path != args.real_dev else f"real-dev ({path.name})"
        for label, segmenter in SEGMENTERS.items():
            tp, n_gold, n_pred, details = score(articles, segmenter)
            p, r, f = prf(tp, n_gold, n_pred)
            speed, _ = throughput(articles, segmenter, repeats=3)
            report.append(f"{name:<28} {label:<38} {len(articles):>8} {n_gold:>6} {n_pred:>6} {tp:>6} {p:>7.4f} {r:>7.4f} {f:>7.4f} {speed:>11,.0f}")
            if args.show and segmenter is segment:
                shown += [f"{name}:"] + mismatches(details)
    report += ["", f"speed over all {len(everything)} articles ({sum(len(a.text) for a in everything):,} characters), median of 5 runs after a warm-up:"]
    for label, segmenter in SEGMENTERS.items():
        art_s, char_s = throughput(everything, segmenter)
        report.append(f"  {label:<38} {art_s:>10,.0f} articles/s {char_s / 1e6:>8.2f} M characters/s")

    text = "\n".join(report) + "\n"
    print(text, end="")
    if shown:
        print("\nmismatches of segment (not saved):")
        print("\n".join(shown))
    if not args.no_save:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"\nsaved to {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
