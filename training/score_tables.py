"""Render the systems of several `stance evaluate` reports as Markdown tables (for model cards).

    python training/score_tables.py test=runs/eval-test/report.json real-dev=runs/eval-realdev/report.json \
        --name runs/finetune-mini/model=stance-mini-nl --name runs/finetune-mini-scratch/model="no pretraining"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COLUMNS = (
    ("stance_macro_f1", "stance macro-F1"),
    ("role_macro_f1", "role macro-F1"),
    ("speaker_accuracy", "speaker name acc."),
    ("speaker_span_strict_f1", "span F1 strict"),
    ("segmentation_f1", "segm. F1"),
    ("stance_ece", "stance ECE"),
)


def cell(system: dict, metric: str) -> str:
    value = system["metrics"].get(metric)
    if value is None:
        return "-"
    lo, hi = system.get("intervals", {}).get(metric, (None, None))
    return f"{value:.3f}" + ("" if lo is None else f" [{lo:.3f}, {hi:.3f}]")


def tables(reports: dict[str, Path], names: dict[str, str]) -> str:
    """One table per report: a row per system, each figure with its 95% bootstrap interval."""
    out = []
    for split, path in reports.items():
        report = json.loads(Path(path).read_text())
        gold = report["gold"]
        out.append(f"### {split} ({gold['articles']} articles; gold sha256 {gold['sha256'][:12]})\n")
        out.append("| system | " + " | ".join(h for _, h in COLUMNS) + " |")
        out.append("|---|" + "---|" * len(COLUMNS))
        for name, system in report["systems"].items():
            # Models are named by their directory in the report; match display names on the full path.
            where = str(system.get("identity", {}).get("path", name))
            label = next((v for k, v in names.items() if where.rstrip("/").endswith(k.rstrip("/")) or name == k), name)
            out.append(f"| {label} | " + " | ".join(cell(system, m) for m, _ in COLUMNS) + " |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="SPLIT=path/to/report.json")
    parser.add_argument("--name", action="append", default=[], help="SYSTEM=display name")
    args = parser.parse_args()
    reports = dict(r.split("=", 1) for r in args.reports)
    names = dict(n.split("=", 1) for n in args.name)
    print(tables(reports, names))


if __name__ == "__main__":
    main()
