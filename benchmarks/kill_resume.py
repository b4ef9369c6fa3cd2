"""Kill `stance predict` with SIGKILL at random moments, resume each time, compare with an uninterrupted run.

The input repeats corpus articles with unique ids. One uninterrupted run gives the
reference output and the seconds W its parts took; then the job is started in a fresh
directory and, once it has loaded its model, killed after a random delay in
[0, 1.5 W / kills] (or, with after_parts, once k more parts are finished), `--kills`
times, each restart resuming the last; a final run finishes it.
Prints how many reference records were lost, duplicated or changed (all should be 0).

    nice python benchmarks/kill_resume.py --model models/stance-mini-nl
    python benchmarks/kill_resume.py --random-model --articles 400 --kills 20
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CLI = "from stance.cli import app; app()"


def make_input(path: Path, n_articles: int) -> Path:
    """A JSON Lines input of n_articles corpus texts (repeated as needed) with unique ids."""
    from stance.schema import read_jsonl

    texts = [a.text for f in sorted((ROOT / "training" / "data").glob("*.jsonl")) for a in read_jsonl(f)]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n_articles):
            fh.write(json.dumps({"id": f"doc-{i:07d}", "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
    return path


def random_model(path: Path, layers: int = 2, hidden: int = 128) -> Path:
    """A small randomly initialised StanceModel with the RobBERT-2023 tokenizer, for when no trained model exists."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, RobertaModel

    from stance.modeling import StanceModel

    robbert = ROOT.parent / "shared" / "robbert-2023-dutch-base"
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(robbert, num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=4,
                                        intermediate_size=4 * hidden)
    RobertaModel(config, add_pooling_layer=False).save_pretrained(path / "encoder")
    AutoTokenizer.from_pretrained(robbert).save_pretrained(path / "encoder")
    StanceModel.from_encoder(str(path / "encoder")).save_pretrained(path / "model")
    AutoTokenizer.from_pretrained(robbert).save_pretrained(path / "model")
    return path / "model"


def start(args: list[str]) -> subprocess.Popen:
    """`stance predict ARGS` in a child process (output discarded)."""
    return subprocess.Popen([sys.executable, "-c", CLI, "predict", *args, "--no-progress"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finished_parts(out: Path) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text())["parts"])
    except (OSError, ValueError, KeyError):
        return 0


def running_pid(out: Path) -> int | None:
    """The pid of the run that last opened OUTDIR's job (it has loaded its model by then)."""
    try:
        return json.loads((out / "manifest.json").read_text())["last_run"]["pid"]
    except (OSError, ValueError, KeyError):
        return None


def records(out: Path) -> list[str]:
    """Every output record of OUTDIR as canonical JSON, in part order."""
    lines = []
    for part in sorted((out / "parts").glob("*.jsonl")):
        lines += [json.dumps(json.loads(l), sort_keys=True) for l in part.read_text(encoding="utf-8").splitlines() if l]
    return lines


def compare(reference: list[str], got: list[str]) -> dict:
    """Lost, duplicated and changed records of `got` against `reference` (by id, then by content)."""
    ref_ids = collections.Counter(json.loads(r)["id"] for r in reference)
    got_ids = collections.Counter(json.loads(r)["id"] for r in got)
    return {"reference": len(reference), "got": len(got), "lost": sum((ref_ids - got_ids).values()),
            "duplicated": sum(c - 1 for c in got_ids.values() if c > 1),
            "changed": len(set(reference) ^ set(got)) // 2 if not (ref_ids - got_ids) else None}


def kill_resume(inp: Path, work: Path, cli_args: list[str], kills: int, seed: int = 0, after_parts: int | None = None,
                reference: Path | None = None, max_delay: float = 120.0, say=print) -> dict:
    """Run the reference (unless given), then kill and resume `kills` times and finish; the comparison and kill log."""
    ref_out, out = reference or work / "reference", work / "killed"
    t0 = time.perf_counter()
    if reference is None:
        subprocess.run([sys.executable, "-c", CLI, "predict", str(inp), "-o", str(ref_out), *cli_args, "--no-progress"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    duration = time.perf_counter() - t0
    total_parts = finished_parts(ref_out)
    work = sum(p["seconds"] for p in json.loads((ref_out / "manifest.json").read_text())["parts"].values())
    # Kill moments: uniform in [0, window] after the run has loaded its model, with the window
    # sized so that the kills together use up about 3/4 of the job's work.
    window = min(max_delay, 1.5 * work / max(kills, 1))
    say(f"uninterrupted run: {duration:.1f} s ({work:.1f} s of part work), {total_parts} parts, "
        f"{len(records(ref_out))} records; kill window {window:.2f} s after the model is loaded")
    rng = random.Random(seed)
    log = []
    for k in range(kills):
        before = finished_parts(out)
        proc = start([str(inp), "-o", str(out), *cli_args])
        began = time.perf_counter()
        if after_parts is not None:
            while proc.poll() is None and finished_parts(out) < before + after_parts:
                time.sleep(0.01)
        else:
            while proc.poll() is None and running_pid(out) != proc.pid:
                time.sleep(0.01)
            deadline = time.perf_counter() + rng.uniform(0, window)
            while proc.poll() is None and time.perf_counter() < deadline:
                time.sleep(0.005)
        ended = proc.poll() is not None
        if not ended:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = finished_parts(out)
        log.append((round(time.perf_counter() - began, 2), before, after, ended))
        say(f"kill {k + 1:>2}: after {log[-1][0]:5.2f} s, parts {before:>3} -> {after:>3}" + (" (had finished)" if ended else ""))
    subprocess.run([sys.executable, "-c", CLI, "predict", str(inp), "-o", str(out), *cli_args, "--no-progress"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = compare(records(ref_out), records(out))
    result["complete"] = json.loads((out / "manifest.json").read_text())["complete"]
    result["killed_mid_run"] = sum(1 for _, b, a, ended in log if not ended and 0 < a < total_parts)
    result["kills"] = log
    say(f"final: {result['got']} records vs {result['reference']} uninterrupted; lost {result['lost']}, "
        f"duplicated {result['duplicated']}, changed {result['changed']}; complete {result['complete']}; "
        f"{result['killed_mid_run']} of {kills} kills hit a job with some but not all parts done")
    return result


def main() -> None:
    from machine import Tee, describe

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "stance-mini-nl"))
    ap.add_argument("--random-model", action="store_true", help="use a small random model (no trained one needed)")
    ap.add_argument("--articles", type=int, default=400)
    ap.add_argument("--part-size", type=int, default=10)
    ap.add_argument("--chunk-size", type=int, default=5)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-delay", type=float, default=120.0, help="the longest kill window, in seconds")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    say = Tee()

    say("Kill and resume: benchmarks/kill_resume.py " + " ".join(sys.argv[1:]))
    say(describe())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = random_model(tmp / "random") if args.random_model else Path(args.model)
        if not model.is_dir():
            sys.exit(f"no model at {model}: pass --model DIR or --random-model")
        say(f"model: {'small random model (RobBERT tokenizer)' if args.random_model else model}; {args.articles} articles; "
            f"part size {args.part_size}, chunk size {args.chunk_size}; {args.kills} kills, seed {args.seed}")
        inp = make_input(tmp / "input.jsonl", args.articles)
        cli_args = ["--model", str(model), "--device", "cpu", "--part-size", str(args.part_size),
                    "--chunk-size", str(args.chunk_size)]
        result = kill_resume(inp, tmp, cli_args, args.kills, seed=args.seed, max_delay=args.max_delay, say=say)
    if not args.no_save:
        say.save("kill_resume.txt")
    sys.exit(0 if result["lost"] == result["duplicated"] == 0 and result["changed"] == 0 and result["complete"] else 1)


if __name__ == "__main__":
    main()
