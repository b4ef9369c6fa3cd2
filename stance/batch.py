"""Streaming, resumable batch jobs over JSONL / CSV / Parquet files, on one process or many.

    stance predict news/*.jsonl -o out/          # the command line
    run_job(JobConfig(inputs=("a.jsonl",), output_dir="out"))

The unit of work is a *part*: `part_size` consecutive records of one input file (a
shard). A part is read lazily, analysed in chunks of `chunk_size` articles (claims are
length-sorted inside each chunk by `Analyzer.analyze_many`) and written atomically to
OUTDIR/parts/<shard>.sNNN.pNNNNN.<jsonl|parquet>; its bad records go to
OUTDIR/errors/<part>.jsonl, and all of them to OUTDIR/errors.jsonl once every part is
done. OUTDIR/manifest.json holds the model's identity, the settings that change
results and the finished parts: a restarted job skips finished parts (nothing lost,
nothing duplicated) and refuses to mix settings. Under `torchrun` (RANK, WORLD_SIZE) rank
r runs every WORLD_SIZE-th part; the ranks share the manifest through a file lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stance.batch_io import (FORMATS, JobConfig, JobError, PartWriter, analyze_records, error_record, parse_record,
                             raw_records, write_atomic)

__all__ = ["JobConfig", "JobError", "JobSummary", "run_job"]

log = logging.getLogger("stance")

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_HEAD_BYTES = 1 << 20


@dataclass
class JobSummary:
    """What one run of a job did on this rank; `complete` is true once every part of the job is done."""

    parts_done: int = 0
    parts_skipped: int = 0
    articles: int = 0
    claims: int = 0
    errors: int = 0
    seconds: float = 0.0
    complete: bool = False


# ---------------------------------------------------------------------------
# Identity of the model and the inputs


def _sha256(paths: list[Path], limit: int | None = None) -> str:
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            if limit is not None:
                h.update(fh.read(limit))
            else:
                while block := fh.read(1 << 20):
                    h.update(block)
    return h.hexdigest()


def model_identity(model: str | None) -> dict:
    """The model's name and the sha256 of its weights (model.safetensors) and config."""
    from stance.inference import bundled_model_dir

    path = Path(model) if model else bundled_model_dir()
    if not path.is_dir():  # a hub id: its cached snapshot, when there is one
        try:
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(str(model), local_files_only=True))
        except Exception:  # noqa: BLE001 - an unknown model has no identity to check
            return {"name": str(model), "sha256": None}
    weights = [path / "model.safetensors"] if (path / "model.safetensors").exists() else sorted(path.glob("*.safetensors"))
    config = path / "config.json"
    return {"name": str(model) if model else "bundled", "sha256": _sha256(weights) if weights else None,
            "config_sha256": _sha256([config]) if config.exists() else None}


def input_identity(path: str) -> dict:
    """Absolute path, size, mtime and the sha256 of the first MiB of one input ("-": stdin, unverifiable)."""
    if path == "-":
        return {"path": "-"}
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "head_sha256": _sha256([p], _HEAD_BYTES)}


def job_settings(cfg: JobConfig) -> dict:
    """Everything that decides the output records; a restart must match it exactly."""
    return {"model": model_identity(cfg.model), "precision": cfg.precision, "id_column": cfg.id_column,
            "text_column": cfg.text_column, "output_format": cfg.output_format, "chunk_size": cfg.chunk_size,
            "part_size": cfg.part_size, "max_claims": cfg.max_claims, "inputs": [input_identity(p) for p in cfg.inputs]}


def settings_differences(old: dict, new: dict) -> list[str]:
    """Human-readable differences between two jobs' settings (empty: the same job)."""
    diffs = []
    for key in new:
        if key == "inputs":
            continue
        a, b = old.get(key), new[key]
        if key == "model":
            a, b = {k: v for k, v in (a or {}).items() if k != "name"}, {k: v for k, v in b.items() if k != "name"}
        if a != b:
            diffs.append(f"{key}: {old.get(key)!r} -> {new[key]!r}")
    old_in, new_in = old.get("inputs", []), new["inputs"]
    if [i["path"] for i in old_in] != [i["path"] for i in new_in]:
        diffs.append(f"inputs: {[i['path'] for i in old_in]} -> {[i['path'] for i in new_in]}")
    else:
        for a, b in zip(old_in, new_in):
            # A new timestamp alone (a copy, a touch) is fine when size and first MiB agree.
            if a.get("size") != b.get("size") or (a.get("mtime_ns") != b.get("mtime_ns") and a.get("head_sha256") != b.get("head_sha256")):
                diffs.append(f"input {b['path']} changed since the job started (size or content)")
    return diffs


# ---------------------------------------------------------------------------
# The manifest, shared by all ranks under a file lock


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    with open(out / ".manifest.lock", "a+") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: one process per OUTDIR
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(out: str | os.PathLike) -> dict | None:
    """OUTDIR's manifest, or None when there is none."""
    path = Path(out) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise JobError(f"{path} is unreadable ({exc}); remove {out} or pass --overwrite") from exc


def _write_manifest(out: Path, manifest: dict) -> None:
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


def _open_job(out: Path, settings: dict, overwrite: bool, run: dict) -> set[str]:
    """Start or resume OUTDIR's job; the names of parts already finished."""
    with _locked(out):
        manifest = read_manifest(out)
        ours = (".manifest.lock", "parts", "errors")
        foreign = [p for p in out.iterdir() if p.name not in ours and not p.name.startswith(f".{MANIFEST}.")]
        if manifest is None and foreign and not overwrite:
            raise JobError(f"{out} is not empty and holds no {MANIFEST}: choose an empty or new output directory")
        if manifest is not None:
            diffs = settings_differences(manifest.get("settings", {}), settings)
            if diffs and not overwrite:
                raise JobError(f"{out} holds output of a job with other settings:\n  " + "\n  ".join(diffs)
                               + f"\nUse another output directory, or pass --overwrite to discard the output in {out}.")
            if diffs:
                log.warning("discarding the output in %s: %s", out, "; ".join(diffs))
                manifest = None
        if manifest is None:
            for name in ("parts", "errors"):
                shutil.rmtree(out / name, ignore_errors=True)
            (out / "errors.jsonl").unlink(missing_ok=True)
            manifest = {"format_version": MANIFEST_VERSION, "settings": settings, "parts": {}, "shards": {}, "complete": False}
        manifest["last_run"] = run
        for name in ("parts", "errors"):
            (out / name).mkdir(exist_ok=True)
        _write_manifest(out, manifest)
        return set(manifest["parts"])


def _finish_part(out: Path, name: str, entry: dict) -> None:
    with _locked(out):
        manifest = read_manifest(out)
        manifest["parts"][name] = entry
        _write_manifest(out, manifest)


def _merge_errors(out: Path, parts: list[str]) -> None:
    # Streamed file to file: a corpus with millions of bad records never sits in memory.
    tmp = out / f".errors.jsonl.{os.getpid()}.tmp"
    with open(tmp, "wb") as dst:
        for name in parts:
            path = out / "errors" / f"{name}.jsonl"
            if path.exists():
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, out / "errors.jsonl")


def _finish_rank(out: Path, shards: dict[str, dict]) -> bool:
    """Record the shards' part counts; if every part is done, merge the errors and mark the job complete."""
    with _locked(out):
        manifest = read_manifest(out)
        manifest["shards"].update(shards)
        expected = [part_name(s["name"], int(k), p) for k, s in sorted(manifest["shards"].items(), key=lambda kv: int(kv[0]))
                    for p in range(s["parts"])]
        if len(manifest["shards"]) == len(manifest["settings"]["inputs"]) and all(n in manifest["parts"] for n in expected):
            _merge_errors(out, expected)
            parts = manifest["parts"].values()
            manifest["totals"] = {k: sum(p[k] for p in parts) for k in ("records", "articles", "claims", "errors")}
            manifest["complete"] = True
            stale = (out / "parts").glob(".*.tmp"), (out / "errors").glob(".*.tmp"), out.glob(f".{MANIFEST}.*.tmp")
            for leftover in itertools.chain(*stale):
                leftover.unlink(missing_ok=True)  # temp files of runs that were killed
        _write_manifest(out, manifest)
        return manifest["complete"]


# ---------------------------------------------------------------------------
# The job


def part_name(source: str, shard: int, part: int) -> str:
    """Output name of part `part` of input `shard`: '<file stem>.s<shard>.p<part>'."""
    stem = "stdin" if source == "-" else Path(source).name.rsplit(".", 1)[0]
    safe = re.sub(r"[^\w.-]", "_", stem)
    return f"{safe}.s{shard:03d}.p{part:05d}"


def rank_and_world(rank: int | None = None, world_size: int | None = None) -> tuple[int, int]:
    """This process's rank and the number of ranks: arguments, else torchrun's RANK / WORLD_SIZE."""
    rank = int(os.environ.get("RANK", 0)) if rank is None else rank
    world = int(os.environ.get("WORLD_SIZE", 1)) if world_size is None else world_size
    if not 0 <= rank < world:
        raise JobError(f"rank {rank} is outside a world of {world} processes")
    return rank, world


def _parts(items: Iterator, size: int) -> Iterator[tuple[int, Iterator]]:
    # Lazy groups of `size` items; each group must be used up before the next is asked for.
    it = iter(items)
    for number in itertools.count():
        first = next(it, None)
        if first is None:
            return
        yield number, itertools.chain([first], itertools.islice(it, size - 1))


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc
        return None


@functools.lru_cache(maxsize=1)
def limit_heap_growth() -> bool:
    """Make glibc return large freed blocks to the OS at once (a fixed 128 KiB mmap threshold).

    glibc raises its mmap threshold after the first large free, so later tensors (attention
    and span scores, sized by each batch) come from a heap that fragments and is kept: RSS
    then creeps up by 15-30% over a long job. With the threshold fixed it stays flat
    (benchmarks/memory.py). Process-wide, once; a no-op where libc is not glibc.
    """
    libc = _libc()
    return bool(libc is not None and libc.mallopt(-3, 128 * 1024))  # -3: M_MMAP_THRESHOLD


def _release_memory() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _run_part(analyzer, items: Iterator, cfg: JobConfig, out: Path, name: str, bar, totals: dict) -> dict:
    """Analyse one part chunk by chunk, write it and its errors atomically; its manifest entry."""
    t0 = time.perf_counter()
    ext = cfg.output_format
    writer = PartWriter(out / "parts" / f"{name}.{ext}", ext)
    errors, counts, first, last = [], {"records": 0, "articles": 0, "claims": 0}, None, None
    while chunk := list(itertools.islice(items, cfg.chunk_size)):
        records = [parse_record(where, raw, cfg) for where, raw in chunk]
        first, last = first or records[0].where, records[-1].where
        results = analyze_records(analyzer, records, cfg.max_claims)
        articles = [a for _, a, _ in results if a is not None]
        errors += [error_record(r, e) for r, a, e in results if a is None]
        writer.write(articles)
        _release_memory()
        n_claims = sum(len(a.claims) for a in articles)
        counts["records"] += len(records)
        counts["articles"] += len(articles)
        counts["claims"] += n_claims
        totals["claims"] += n_claims
        bar.update(len(records))
        bar.set_postfix_str(f"{totals['claims'] / max(time.perf_counter() - totals['t0'], 1e-9):.1f} claims/s", refresh=False)
    error_path = out / "errors" / f"{name}.jsonl"
    if errors:
        write_atomic(error_path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors))
    else:
        error_path.unlink(missing_ok=True)
    writer.commit()  # last: a part file on disk means its errors file is final too
    return {**counts, "errors": len(errors), "file": f"parts/{name}.{ext}", "first": first, "last": last,
            "seconds": round(time.perf_counter() - t0, 3)}


def run_job(cfg: JobConfig, analyzer=None, rank: int | None = None, world_size: int | None = None) -> JobSummary:
    """Run (or resume) a batch job on this rank: every WORLD_SIZE-th part not yet finished.

    `analyzer` defaults to `stance.inference.load(cfg.model, ...)`; pass one to reuse a
    loaded model (it must be the model `cfg.model` names: the manifest records that one).
    """
    rank, world = rank_and_world(rank, world_size)
    if cfg.output_format not in FORMATS:
        raise JobError(f"output format must be one of {FORMATS}, got {cfg.output_format!r}")
    if cfg.chunk_size < 1 or cfg.part_size < 1 or cfg.max_claims < 1:
        raise JobError("chunk size, part size and max claims must be at least 1")
    if not cfg.inputs:
        raise JobError("no input files given")
    if "-" in cfg.inputs and (world > 1 or cfg.inputs.count("-") > 1):
        raise JobError("stdin ('-') can be read once, by a single process; give files to several ranks")
    for path in cfg.inputs:
        if path != "-" and not Path(path).is_file():
            raise JobError(f"input {path} does not exist or is not a file")
        if path != "-":
            next(raw_records(path, cfg), None)  # a missing text column fails now, not hours in
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if analyzer is None:
        from stance.inference import load

        device = cfg.device
        if device == "auto" and world > 1 and "LOCAL_RANK" in os.environ:
            import torch

            device = f"cuda:{os.environ['LOCAL_RANK']}" if torch.cuda.is_available() else "cpu"
        analyzer = load(cfg.model, device=device, precision=cfg.precision, batch_size=cfg.batch_size)
    from stance import __version__

    run = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "pid": os.getpid(), "world_size": world, "device": str(analyzer.device),
           "batch_size": getattr(analyzer, "batch_size", cfg.batch_size), "stance": __version__}
    done = _open_job(out, job_settings(cfg), cfg.overwrite, run)
    limit_heap_growth()
    from tqdm import tqdm

    summary, totals = JobSummary(), {"claims": 0, "t0": time.perf_counter()}
    bar = tqdm(desc=f"rank {rank}" if world > 1 else "articles", unit=" art", disable=not cfg.progress, position=rank)
    shards, counter = {}, itertools.count()
    try:
        for shard, path in enumerate(cfg.inputs):
            n_parts = n_records = 0
            for number, items in _parts(raw_records(path, cfg), cfg.part_size):
                name = part_name(path, shard, number)
                n_parts += 1
                mine = next(counter) % world == rank
                if not mine or name in done:
                    n_records += sum(1 for _ in items)  # skipped parts are counted, never parsed
                    summary.parts_skipped += mine
                    continue
                entry = _run_part(analyzer, items, cfg, out, name, bar, totals)
                _finish_part(out, name, {"shard": shard, "part": number, "rank": rank, **entry})
                n_records += entry["records"]
                summary.parts_done += 1
                summary.articles += entry["articles"]
                summary.claims += entry["claims"]
                summary.errors += entry["errors"]
            shards[str(shard)] = {"name": path, "parts": n_parts, "records": n_records}
    finally:
        bar.close()
    summary.complete = _finish_rank(out, shards)
    summary.seconds = round(time.perf_counter() - totals["t0"], 3)
    log.info("rank %d: %d parts done, %d skipped, %d articles, %d claims, %d errors in %.1f s%s", rank, summary.parts_done,
             summary.parts_skipped, summary.articles, summary.claims, summary.errors, summary.seconds,
             "" if summary.complete else " (other ranks still running)")
    return summary
