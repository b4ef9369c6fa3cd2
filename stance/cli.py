"""The `stance` command line: each command parses its arguments and calls one library function."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Speakers and stances on vendor security risk in Dutch news.")


@app.command()
def validate(files: list[str] = typer.Argument(..., help="JSON Lines corpus files to check against the spec.")) -> None:
    """Check corpus files: offsets, coverage, labels, duplicates and split disjointness."""
    from stance.validate import validate_files

    problems = validate_files(files)
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(files)} file(s) valid")


@app.command()
def pretrain(
    config: str = typer.Argument(..., help="YAML file with PretrainConfig fields (see training/configs/)."),
    overrides: list[str] = typer.Argument(None, help="key=value settings that replace the file's."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Masked-language-model pretraining: from scratch or continued from an encoder."""
    import logging

    from stance.configs import load_config
    from stance.pretrain import PretrainConfig, pretrain as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    final = run(load_config(PretrainConfig, config, overrides), progress=progress)
    typer.echo(f"encoder written to {final}")


@app.command()
def evaluate(
    gold: str = typer.Argument(..., help="Gold JSON Lines file to score against."),
    model: list[str] = typer.Option([], "--model", help="Model directory to run on the gold texts (CPU); repeat to compare several."),
    predictions: list[str] = typer.Option([], "--predictions", help="JSON Lines file of predicted articles (same ids); repeatable."),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines", help="Also train and score the majority and TF-IDF + rules baselines."),
    train: str = typer.Option("training/data/train.jsonl", "--train", help="Training split for the baselines."),
    output: str = typer.Option("runs/eval", "-o", "--output", help="Directory for report.json, report.md and the plots."),
    resamples: int = typer.Option(1000, "--resamples", help="Bootstrap resamples of articles (0: no intervals)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
) -> None:
    """Score systems against gold side by side, with bootstrap intervals, per-class tables and plots."""
    from stance.report import TABLE, run_evaluation

    report = run_evaluation(gold, output, models=model, predictions=predictions, baselines=baselines, train_path=train, n_resamples=resamples, seed=seed)
    typer.echo("system\t" + "\t".join(h for _, h in TABLE))
    for name, sys_report in report["systems"].items():
        cells = []
        for metric, _ in TABLE:
            value, (lo, hi) = sys_report["metrics"][metric], sys_report["intervals"].get(metric, [None, None])
            cells.append("-" if value is None else f"{value:.3f}" + ("" if lo is None else f" [{lo:.3f}, {hi:.3f}]"))
        typer.echo(f"{name}\t" + "\t".join(cells))
    typer.echo(f"report written to {output}/report.md")


# Commands are added above this line, one function each.
