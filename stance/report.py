"""Evaluation reports: several systems scored on one gold file, as JSON, Markdown and plots.

`evaluate` writes into one directory:
- `report.json`: every figure with its bootstrap interval, per-class tables, confusion
  matrices, each system's identity, the gold file's sha256 and the settings;
- `report.md`: the same for a person to read, one row per system;
- `confusion-<system>-stance.png`, `confusion-<system>-role.png` and, when the system
  gives stance probabilities, `reliability-<system>.png`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from stance.metrics import METRICS, UNMATCHED, Scores, score
from stance.schema import Article, read_jsonl

# Columns of the main table: (metric, header).
TABLE: tuple[tuple[str, str], ...] = (
    ("segmentation_f1", "Segm. F1"),
    ("stance_macro_f1", "Stance macro-F1"),
    ("stance_accuracy", "Stance acc."),
    ("role_macro_f1", "Role macro-F1"),
    ("speaker_accuracy", "Speaker acc."),
    ("speaker_span_strict_f1", "Span F1 strict"),
    ("speaker_span_partial_f1", "Span F1 partial"),
    ("stance_ece", "Stance ECE"),
)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_identity(path: str | os.PathLike) -> dict[str, Any]:
    """Path of a model directory and the sha256 of its weights file(s)."""
    path = Path(path)
    weights = sorted(path.glob("*.safetensors")) if path.is_dir() else [path]
    if not weights and path.is_dir():
        weights = sorted(path.glob("*.bin"))
    return {"kind": "model", "path": str(path.resolve()), "weights": {w.name: sha256_file(w) for w in weights if w.is_file()}}


def file_identity(path: str | os.PathLike, kind: str = "predictions") -> dict[str, Any]:
    """Path and sha256 of a data file (predictions, training split)."""
    return {"kind": kind, "path": str(Path(path).resolve()), "sha256": sha256_file(path)}


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "system"


def _fmt(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _cell(scores: Scores, metric: str) -> str:
    value = scores.metrics.get(metric)
    lo, hi = scores.intervals.get(metric, (float("nan"), float("nan")))
    if value is None or math.isnan(value):
        return "–"
    if math.isnan(lo):
        return _fmt(value)
    return f"{value:.3f} [{lo:.3f}, {hi:.3f}]"


def markdown(results: Mapping[str, Scores], gold_path: str, settings: Mapping[str, Any]) -> str:
    """The human-readable report: headline table, segmentation, per-class tables, sizes."""
    conf = int(100 * settings.get("confidence", 0.95))
    lines = [
        f"# Evaluation on `{gold_path}`",
        "",
        f"Scored as in `spec/labels.md`; [brackets] are {conf}% bootstrap intervals over articles "
        f"({settings.get('n_resamples')} resamples, seed {settings.get('seed')}). ECE needs stance probabilities.",
        "",
        "| System | " + " | ".join(h for _, h in TABLE) + " |",
        "|---" * (len(TABLE) + 1) + "|",
    ]
    for name, s in results.items():
        lines.append(f"| {name} | " + " | ".join(_cell(s, m) for m, _ in TABLE) + " |")
    lines += ["", "## Segmentation and speaker spans", "", "| System | Segm. P | Segm. R | Span P strict | Span R strict | Span P partial | Span R partial |", "|---|---|---|---|---|---|---|"]
    for name, s in results.items():
        cols = ("segmentation_precision", "segmentation_recall", "speaker_span_strict_precision", "speaker_span_strict_recall",
                "speaker_span_partial_precision", "speaker_span_partial_recall")
        lines.append(f"| {name} | " + " | ".join(_cell(s, m) for m in cols) + " |")
    for task in ("stance", "role"):
        lines += ["", f"## {task.capitalize()} per class (on gold claims; unmatched claims count as wrong)", ""]
        for name, s in results.items():
            lines += [f"**{name}**", "", "| Label | Precision | Recall | F1 | Support |", "|---|---|---|---|---|"]
            for label, row in s.per_class.get(task, {}).items():
                lines.append(f"| {label} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | {_fmt(row['f1'])} | {row['support']} |")
            lines.append("")
    lines += ["## Sizes", "", "| System | Articles | Gold claims | Predicted claims | Matched | Gold speakers | Without prediction |", "|---|---|---|---|---|---|---|"]
    for name, s in results.items():
        c = s.counts
        lines.append(f"| {name} | {c['articles']} | {c['gold_claims']} | {c['pred_claims']} | {c['matched_claims']} | {c['gold_speakers']} | {c['articles_without_prediction']} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Plots (matplotlib's Agg canvas directly: no global backend switch)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def plot_confusion(confusion: Mapping[str, Any], title: str, path: str | os.PathLike) -> None:
    """Gold rows x predicted columns (last column: no matching prediction), counts in cells."""
    rows, cols = list(confusion["labels"]), list(confusion["columns"])
    m = np.asarray(confusion["matrix"], dtype=float).reshape(len(rows), len(cols))
    fig = _figure(1.2 + 0.75 * len(cols), 1.2 + 0.6 * len(rows))
    ax = fig.add_subplot()
    ax.imshow(m, cmap="Blues", aspect="auto")
    ax.set_xticks(range(len(cols)), [c if c != UNMATCHED else "unmatched" for c in cols], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    top = m.max() if m.size else 0
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", color="white" if top and m[i, j] > top / 2 else "black", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def plot_reliability(reliability: Mapping[str, Sequence[float]], title: str, path: str | os.PathLike) -> None:
    """Accuracy against confidence per bin, with the diagonal of perfect calibration."""
    lower = np.asarray(reliability["lower"])
    width = lower[1] - lower[0] if len(lower) > 1 else 1.0
    count = np.asarray(reliability["count"])
    fig = _figure(4.5, 4.5)
    ax = fig.add_subplot()
    keep = count > 0
    ax.bar(lower[keep], np.asarray(reliability["accuracy"])[keep], width=width, align="edge", edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot(np.asarray(reliability["confidence"])[keep], np.asarray(reliability["accuracy"])[keep], "o", color="C1", label="(mean confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (max stance probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)


# ---------------------------------------------------------------------------


def evaluate(
    gold_path: str | os.PathLike,
    systems: Mapping[str, Sequence[Article]],
    out_dir: str | os.PathLike,
    *,
    identities: Mapping[str, Mapping[str, Any]] | None = None,
    settings: Mapping[str, Any] | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    gold: Sequence[Article] | None = None,
) -> dict[str, Any]:
    """Score every system against the gold file and write the report files; return the JSON report.

    `identities` maps a system name to what identifies it (see `model_identity`,
    `file_identity`); `settings` records how the systems were made (e.g. the train file).
    `gold` may be passed when the caller already read `gold_path`.
    """
    if not systems:
        raise ValueError("no systems to evaluate; give --model, --predictions or keep the baselines on")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gold = list(gold) if gold is not None else read_jsonl(gold_path)
    run_settings = {"n_resamples": n_resamples, "confidence": confidence, "seed": seed, **dict(settings or {})}
    results = {name: score(gold, list(pred), n_resamples=n_resamples, confidence=confidence, seed=seed) for name, pred in systems.items()}
    plots: dict[str, list[str]] = {}
    for name, s in results.items():
        files = []
        for task in ("stance", "role"):
            fname = f"confusion-{_slug(name)}-{task}.png"
            plot_confusion(s.confusion[task], f"{name}: {task}", out / fname)
            files.append(fname)
        if s.reliability:
            fname = f"reliability-{_slug(name)}.png"
            plot_reliability(s.reliability, f"{name}: stance calibration (ECE {_fmt(s.metrics['stance_ece'])})", out / fname)
            files.append(fname)
        plots[name] = files
    report = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "gold": {"path": str(Path(gold_path).resolve()), "sha256": sha256_file(gold_path), "articles": len(gold)},
        "settings": run_settings,
        "environment": {"python": platform.python_version(), "machine": platform.machine()},
        "metrics_order": list(METRICS),
        "systems": {
            name: {"identity": dict((identities or {}).get(name, {})), **s.as_dict(), "plots": plots[name]} for name, s in results.items()
        },
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(results, str(gold_path), run_settings), encoding="utf-8")
    return report


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    candidate, i = name, 2
    while candidate in taken:
        candidate, i = f"{name}-{i}", i + 1
    return candidate


def run_evaluation(
    gold_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    models: Sequence[str] = (),
    predictions: Sequence[str] = (),
    baselines: bool = True,
    train_path: str | os.PathLike = "training/data/train.jsonl",
    n_resamples: int = 1000,
    seed: int = 0,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Build every system (models run on CPU, prediction files read, baselines trained) and report them side by side."""
    from dataclasses import replace

    gold = read_jsonl(gold_path)
    systems: dict[str, list[Article]] = {}
    identities: dict[str, dict[str, Any]] = {}
    settings: dict[str, Any] = {"baselines": baselines}
    if baselines:
        if not Path(train_path).is_file():
            raise FileNotFoundError(f"{train_path}: no training split for the baselines; build it with `python training/build_corpus.py`, pass --train FILE, or use --no-baselines")
        from stance.baselines import baseline_systems

        train = read_jsonl(train_path)
        settings["train"] = file_identity(train_path, kind="train")
        for name, pred in baseline_systems(train, gold).items():
            systems[name] = pred
            identities[name] = {"kind": "baseline", "name": name, "train": settings["train"]}
    for path in models:
        from stance.inference import load

        analyzer = load(str(path), device="cpu")
        out = analyzer.analyze_many([a.text for a in gold], batch_size=batch_size)
        name = _unique(Path(path).name or str(path), systems)
        systems[name] = [replace(p, id=g.id) for g, p in zip(gold, out)]
        identities[name] = model_identity(path)
    for path in predictions:
        name = _unique(Path(path).stem, systems)
        systems[name] = read_jsonl(path)
        identities[name] = file_identity(path)
    return evaluate(gold_path, systems, out_dir, identities=identities, settings=settings, n_resamples=n_resamples, seed=seed, gold=gold)
