"""Claims per second of `Analyzer.analyze_many` against a `transformers` pipeline, same model size.

A randomly initialised model of RobBERT-2023's real size (config and tokenizer read in
place from ../shared/robbert-2023-dutch-base/; speed does not depend on weight values)
runs over >= 2,000 claims of whole articles of the project corpus, in fp32, bf16 and
int8. The anchor a user would otherwise run, `pipeline("text-classification")` over a
RobertaForSequenceClassification of the same size, classifies each claim with its
context (`before</s>claim</s>after`: the two claims before and the one after, the
context stance's model reads around a claim) at its best batch size among 1, 8, 32 and
64, in the same run. Stance reads each article once in 512-token windows and produces
all three outputs per claim (stance, role, speaker span, plus segmentation and name
resolution); the pipeline one label.

Each method is warmed up, then the methods take turns over equal blocks of articles
(block 1 for every method, then block 2, ...); the median block rate is reported with
the overall rate, both per wall-clock second and per CPU-second of this process. The
CPU-second figures, and their ratios, hold even when other processes share the cores
or the benchmark is paused; the wall-clock ones are what a user sees on a quiet machine.

    python benchmarks/throughput.py                            # ~25 min on 2 quiet cores
    python benchmarks/throughput.py --claims 200 --no-save     # a smoke run
    python benchmarks/throughput.py --agreement-only --model models/stance-mini-nl
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from machine import Tee, describe, load_average  # noqa: E402

ROBBERT = ROOT.parent / "shared" / "robbert-2023-dutch-base"
DATA = sorted((ROOT / "training" / "data").glob("*.jsonl"))


def corpus_texts(min_claims: int) -> list[tuple[str, str]]:
    """(id, text) of whole corpus articles, in file order, until they hold >= min_claims claims."""
    from stance.schema import read_jsonl
    from stance.segment import segment

    out, n = [], 0
    for path in DATA:
        for article in read_jsonl(path):
            out.append((article.id, article.text))
            n += len(segment(article.text))
            if n >= min_claims:
                return out
    return out


def blocks_of(texts: list, n_blocks: int, weights: list[int]) -> list[list]:
    """Split texts into n_blocks consecutive blocks of about equal total weight."""
    total, blocks, current, acc = sum(weights), [], [], 0
    for text, w in zip(texts, weights):
        current.append(text)
        acc += w
        if acc >= total * (len(blocks) + 1) / n_blocks and len(blocks) < n_blocks - 1:
            blocks.append(current)
            current = []
    blocks.append(current)
    return [b for b in blocks if b]


def claim_inputs(texts, sep: str, before: int = 2, after: int = 1) -> list[list[str]]:
    """Per article, each claim with its context as one string `before<sep>claim<sep>after`."""
    from stance.segment import segment

    out = []
    for _, text in texts:
        spans = segment(text)
        rows = []
        for i, (s, e) in enumerate(spans):
            b0 = spans[max(0, i - before)][0] if i > 0 else s
            a1 = spans[min(len(spans) - 1, i + after)][1] if i + 1 < len(spans) else e
            rows.append(f"{text[b0:s].strip()}{sep}{text[s:e].strip()}{sep}{text[e:a1].strip()}")
        out.append(rows)
    return out


def build_model_dir(tmp: Path) -> Path:
    """A StanceModel of RobBERT-2023's size with random weights, saved with the real tokenizer."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, RobertaModel

    from stance.modeling import StanceModel

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(ROBBERT)
    encoder_dir = tmp / "encoder"
    RobertaModel(config, add_pooling_layer=False).save_pretrained(encoder_dir)
    AutoTokenizer.from_pretrained(ROBBERT).save_pretrained(encoder_dir)
    model = StanceModel.from_encoder(str(encoder_dir))
    model_dir = tmp / "stance"
    model.save_pretrained(model_dir)
    AutoTokenizer.from_pretrained(ROBBERT).save_pretrained(model_dir)
    return model_dir


def make_stance(model_dir, precision, batch_size, warm):
    """A warmed-up analyser: run(block) analyses a block of (id, text)."""
    from stance.inference import load

    analyzer = load(model_dir, device="cpu", precision=precision, batch_size=batch_size)
    analyzer.analyze_many([t for _, t in warm])
    return lambda block: analyzer.analyze_many([t for _, t in block], ids=[i for i, _ in block])


def make_pipeline(model_dir, probe, batch_sizes, max_length, say):
    """The pipeline at its best batch size (probed on `probe`); run(inputs) classifies joined strings."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, RobertaForSequenceClassification, pipeline

    torch.manual_seed(0)
    model = RobertaForSequenceClassification(AutoConfig.from_pretrained(ROBBERT, num_labels=3)).eval()
    pipe = pipeline("text-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(model_dir), device=-1)
    kwargs = dict(truncation=True, max_length=max_length)
    best, best_rate = None, 0.0
    for bs in batch_sizes:
        pipe(probe[:bs], batch_size=bs, **kwargs)
        t0, c0 = time.perf_counter(), time.process_time()
        pipe(probe, batch_size=bs, **kwargs)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rate = len(probe) / cpu  # CPU time: immune to other processes and to the job being paused
        say(f"pipeline probe batch {bs:>3}: {len(probe) / wall:7.2f} claims/s wall, {rate:7.2f} claims per CPU-second "
            f"on {len(probe)} inputs")
        if rate > best_rate:
            best, best_rate = bs, rate
    return (lambda inputs: pipe(inputs, batch_size=best, **kwargs)), best


def agreement(model_dir: Path, say) -> None:
    """Fraction of claims whose stance (and role) label int8 and bf16 give as fp32 does, dev + test texts."""
    from stance.inference import load
    from stance.schema import read_jsonl

    texts = [a.text for name in ("dev.jsonl", "test.jsonl", "test-unseen-vendors.jsonl")
             for a in read_jsonl(ROOT / "training" / "data" / name)]
    results = {p: load(model_dir, device="cpu", precision=p).analyze_many(texts) for p in ("fp32", "bf16", "int8")}
    ref = [c for a in results["fp32"] for c in a.claims]
    say(f"agreement with fp32 on {model_dir} ({len(texts)} dev/test articles, {len(ref)} claims):")
    for p in ("bf16", "int8"):
        other = [c for a in results[p] for c in a.claims]
        assert len(other) == len(ref)
        stance = sum(a.stance == b.stance for a, b in zip(ref, other)) / len(ref)
        role = sum(a.speaker.role == b.speaker.role for a, b in zip(ref, other)) / len(ref)
        span = sum((a.speaker.start, a.speaker.end) == (b.speaker.start, b.speaker.end) for a, b in zip(ref, other)) / len(ref)
        say(f"  {p}: stance {stance:.4f}   role {role:.4f}   speaker span {span:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", type=int, default=2000, help="at least this many claims (whole articles)")
    ap.add_argument("--blocks", type=int, default=4, help="timed blocks per measurement (the median is reported)")
    ap.add_argument("--probe", type=int, default=64, help="inputs per pipeline batch-size probe")
    ap.add_argument("--batch-size", type=int, default=8, help="stance windows per forward pass")
    ap.add_argument("--precisions", default="fp32,bf16,int8")
    ap.add_argument("--pipeline-batch-sizes", default="1,8,32,64")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "stance-mini-nl", help="trained model for the int8 agreement")
    ap.add_argument("--agreement-only", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    say = Tee()
    say("Throughput benchmark: benchmarks/throughput.py " + " ".join(sys.argv[1:]))
    say(describe())
    if args.agreement_only:
        agreement(args.model, say) if args.model.is_dir() else say(f"no trained model at {args.model}")
        if not args.no_save:
            say.save("int8_agreement.txt")
        return

    import torch

    texts = corpus_texts(args.claims)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_model_dir(Path(tmp))
        from stance.modeling import StanceModel

        config = StanceModel.config_class.from_pretrained(model_dir)
        from transformers import AutoTokenizer

        from stance.encoding import encode_articles
        from stance.schema import Article
        from stance.segment import segment

        tok = AutoTokenizer.from_pretrained(model_dir)
        joined = claim_inputs(texts, tok.sep_token)
        n_claims = sum(len(j) for j in joined)
        claims_in = {i: len(j) for (i, _), j in zip(texts, joined)}
        blocks = blocks_of(texts, args.blocks, [len(j) for j in joined])
        warm = corpus_texts(64)[:5]
        say(f"data: {len(texts)} whole articles of {', '.join(p.name for p in DATA)}: {n_claims} claims; "
            f"{len(blocks)} blocks; window {config.max_seq_length} tokens; stance batch {args.batch_size} windows")
        flat_in = [s for js in joined for s in js]
        pipe_tokens = sum(len(ids) for ids in tok(flat_in, truncation=True, max_length=config.max_seq_length)["input_ids"])
        windows = encode_articles(tok, [Article(id=i, text=t) for i, t in texts], [segment(t) for _, t in texts],
                                  max_length=config.max_seq_length)
        stance_tokens = sum(len(w.input_ids) for w in windows)
        say(f"encoder tokens: stance {stance_tokens} in {len(windows)} article windows; pipeline {pipe_tokens} in "
            f"{len(flat_in)} claim inputs ({pipe_tokens / stance_tokens:.2f}x)")

        index = {i: k for k, (i, _) in enumerate(texts)}
        probe = flat_in[:: max(1, len(flat_in) // args.probe)][: args.probe]
        runners = {f"stance {p}": make_stance(model_dir, p, args.batch_size, warm) for p in args.precisions.split(",")}
        pipe, best_bs = make_pipeline(model_dir, probe, [int(b) for b in args.pipeline_batch_sizes.split(",")],
                                      config.max_seq_length, say)
        runners[f"pipeline (batch {best_bs})"] = lambda block: pipe([s for i, _ in block for s in joined[index[i]]])
        # Interleaved: every method runs block 1, then every method block 2, ...: load from other
        # processes then hits all methods alike, and per-block ratios stay fair.
        # Wall-clock rates show what a user sees; rates per CPU-second (all threads of this
        # process) are immune to other processes on these cores and to the job being paused.
        rates = {name: [] for name in runners}
        cpu_rates = {name: [] for name in runners}
        seconds = {name: 0.0 for name in runners}
        cpu_seconds = {name: 0.0 for name in runners}
        for b, block in enumerate(blocks):
            n = sum(claims_in[i] for i, _ in block)
            for name, run in runners.items():
                t0, c0 = time.perf_counter(), time.process_time()
                run(block)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                rates[name].append(n / dt)
                cpu_rates[name].append(n / dc)
                seconds[name] += dt
                cpu_seconds[name] += dc
            say(f"block {b + 1}/{len(blocks)} ({n} claims), claims/s wall | per CPU-s: "
                + "   ".join(f"{k} {rates[k][-1]:.2f} | {cpu_rates[k][-1]:.2f}" for k in runners) + f"   (load {load_average()})")
        say("")
        say(f"{'method':<22}{'claims/s (median)':>18}{'claims/s overall':>18}{'per CPU-s (median)':>20}{'wall s':>8}{'CPU s':>8}")
        for name in runners:
            cm = statistics.median(cpu_rates[name])
            say(f"{name:<22}{statistics.median(rates[name]):>18.2f}{n_claims / seconds[name]:>18.2f}{cm:>20.2f}"
                f"{seconds[name]:>8.0f}{cpu_seconds[name]:>8.0f}")
        pipe_name = f"pipeline (batch {best_bs})"
        say("")
        say(f"ratio to the {pipe_name}: median of per-block ratios, wall-clock | per CPU-second")
        for name in runners:
            if name != pipe_name:
                wall = statistics.median(a / b for a, b in zip(rates[name], rates[pipe_name]))
                cpu = statistics.median(a / b for a, b in zip(cpu_rates[name], cpu_rates[pipe_name]))
                say(f"  {name:<20}{wall:6.2f}x | {cpu:5.2f}x")
        say(f"load average at end: {load_average()}; torch threads {torch.get_num_threads()}")
    if not args.no_save:
        say.save("throughput.txt")


if __name__ == "__main__":
    main()
