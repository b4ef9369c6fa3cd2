"""Peak RSS of a 100,000-claim batch job: does memory grow with the corpus?

Builds a JSON Lines input by repeating corpus articles with unique ids until it holds
>= --claims claims, runs `stance.batch.run_job` on it with the default chunk and part
sizes (in this process, on a worker thread), and samples this process's RSS every
0.1 s. Reports the RSS once the first 1,000 claims are done, the peak after that, the
high-water mark of the whole process (model loading included) and RSS over time;
target: peak within 10% of the RSS after 1,000 claims.

    nice python benchmarks/memory.py --model models/stance-mini-nl
    nice python benchmarks/memory.py --random-model          # no trained model needed
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import Tee, describe  # noqa: E402


def status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def make_input(path: Path, min_claims: int) -> tuple[int, int]:
    """Repeat corpus articles with unique ids until they hold min_claims claims; (articles, claims)."""
    from stance.schema import read_jsonl
    from stance.segment import segment

    corpus = [(a.text, len(segment(a.text))) for f in sorted((ROOT / "training" / "data").glob("*.jsonl")) for a in read_jsonl(f)]
    n = claims = 0
    with open(path, "w", encoding="utf-8") as fh:
        while claims < min_claims:
            text, k = corpus[n % len(corpus)]
            fh.write(json.dumps({"id": f"doc-{n:07d}", "text": text}, ensure_ascii=False) + "\n")
            n += 1
            claims += k
    return n, claims


class Counting:
    """Wraps an Analyzer to count the claims it has returned."""

    def __init__(self, inner):
        self.inner, self.device, self.claims = inner, inner.device, 0

    def analyze_many(self, *args, **kwargs):
        out = self.inner.analyze_many(*args, **kwargs)
        self.claims += sum(len(a.claims) for a in out)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "stance-mini-nl"))
    ap.add_argument("--random-model", action="store_true", help="a small random model with the RobBERT tokenizer")
    ap.add_argument("--claims", type=int, default=100_000)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    say = Tee()

    from stance.batch import JobConfig, run_job
    from stance.inference import load

    say("Memory of a batch job: benchmarks/memory.py " + " ".join(sys.argv[1:]))
    say(describe())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.random_model:
            from kill_resume import random_model

            model = random_model(tmp / "random")
        else:
            model = Path(args.model)
            if not model.is_dir():
                sys.exit(f"no model at {model}: pass --model DIR or --random-model")
        n_articles, n_claims = make_input(tmp / "input.jsonl", args.claims)
        cfg = JobConfig(inputs=(str(tmp / "input.jsonl"),), output_dir=str(tmp / "out"), model=str(model), device="cpu",
                        precision=args.precision, progress=False)
        say(f"model: {'small random model (RobBERT tokenizer, 2 layers, hidden 128)' if args.random_model else model}, "
            f"{args.precision}; input: {n_articles} articles, {n_claims} claims "
            f"({(tmp / 'input.jsonl').stat().st_size / 1e6:.0f} MB); chunk {cfg.chunk_size}, part {cfg.part_size}")
        rss_before_load = status_kb("VmRSS")
        analyzer = Counting(load(str(model), device="cpu", precision=args.precision))
        samples: list[tuple[float, int, int]] = []  # (seconds, claims done, RSS kB)
        result = {}
        worker = threading.Thread(target=lambda: result.update(summary=run_job(cfg, analyzer=analyzer)))
        t0 = time.perf_counter()
        worker.start()
        while worker.is_alive():
            samples.append((time.perf_counter() - t0, analyzer.claims, status_kb("VmRSS")))
            worker.join(0.1)
        samples.append((time.perf_counter() - t0, analyzer.claims, status_kb("VmRSS")))
        summary = result["summary"]
    at_1000 = next(s for s in samples if s[1] >= 1000)
    peak_after = max(s[2] for s in samples if s[0] >= at_1000[0])
    say(f"done: {summary.articles} articles, {summary.claims} claims in {summary.seconds:.0f} s "
        f"({summary.claims / summary.seconds:.0f} claims/s); {len(samples)} RSS samples")
    say(f"RSS before loading the model:   {rss_before_load / 1024:8.1f} MiB")
    say(f"RSS after the first 1,000 claims: {at_1000[2] / 1024:8.1f} MiB (at {at_1000[0]:.1f} s, {at_1000[1]} claims)")
    say(f"peak RSS after that:             {peak_after / 1024:8.1f} MiB")
    say(f"high-water mark of the process:  {status_kb('VmHWM') / 1024:8.1f} MiB (model loading included)")
    growth = peak_after / at_1000[2] - 1
    say(f"growth: {growth * 100:+.1f}% (target: within 10%) -> {'PASS' if growth <= 0.10 else 'FAIL'}")
    say("RSS over time (claims done: MiB):")
    marks = [s for s in samples if s[1] > 0]
    step = max(1, len(marks) // 10)
    say("  " + "   ".join(f"{c}: {r / 1024:.0f}" for _, c, r in marks[::step] + [marks[-1]]))
    if not args.no_save:
        say.save("memory.txt")


if __name__ == "__main__":
    main()
