"""Time `stance analyze` on a 600-word article with the bundled model (target: under 1 s).

The article is built from the project's own test-split articles until it reaches 600
words. Reports the median of repeated runs after a warm-up, for the library call and for
the whole command (process start, model load and analysis), with the machine.

    python benchmarks/analyze_latency.py [--model DIR] [--words 600] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import describe  # noqa: E402


def article_of(words: int) -> str:
    from stance.schema import read_jsonl

    parts, n = [], 0
    for a in sorted(read_jsonl(ROOT / "training" / "data" / "test.jsonl"), key=lambda a: a.id):
        parts.append(a.text)
        n += len(a.text.split())
        if n >= words:
            break
    text = "\n\n".join(parts)
    return " ".join(text.split(" ")[:words]) if n > words else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()

    import stance

    text = article_of(args.words)
    t0 = time.perf_counter()
    analyser = stance.load(args.model, device="cpu", precision=args.precision)
    load_s = time.perf_counter() - t0
    analyser.analyze(text)  # warm-up
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        article = analyser.analyze(text)
        times.append(time.perf_counter() - t0)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(text)
    cli = [sys.executable, "-m", "stance.cli", "analyze", fh.name, "--precision", args.precision]
    if args.model:
        cli += ["--model", args.model]
    cli_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cli, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cli_times.append(time.perf_counter() - t0)
    Path(fh.name).unlink()
    print(describe())
    print(f"article: {len(text.split())} words, {len(text)} characters, {len(article.claims)} claims; precision {args.precision}")
    print(f"model load: {load_s:.2f} s")
    print(f"analyze(): median {statistics.median(times):.3f} s over {args.runs} runs (min {min(times):.3f}, max {max(times):.3f})")
    print(f"`stance analyze FILE` whole command (new process, import, load, analyse, print): median {statistics.median(cli_times):.2f} s over 3 runs")


if __name__ == "__main__":
    main()
