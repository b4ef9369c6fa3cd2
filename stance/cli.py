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


@app.command("export-labelstudio")
def export_labelstudio(
    input: str = typer.Argument(..., help="JSON Lines file of articles (with or without claims)."),
    output: str = typer.Option(..., "-o", "--output", help="Label Studio task file to write (JSON list)."),
    model: str = typer.Option(None, "--model", help="Model directory whose predictions are added as pre-annotations."),
    device: str = typer.Option("auto", "--device", help="Device for --model: auto, cpu, cuda, ..."),
    input_as: str = typer.Option("annotations", "--input-as", help="Put the input's claims in 'annotations' or 'predictions'."),
) -> None:
    """Export articles as Label Studio tasks (config and workflow: docs/label-studio.md)."""
    from stance.labelstudio import export_labelstudio as run

    n = run(input, output, model=model, device=device, claims_as=input_as)
    typer.echo(f"{n} task(s) written to {output}")


@app.command("import-labelstudio")
def import_labelstudio(
    export: str = typer.Argument(..., help="Label Studio JSON export (a list of tasks with annotations)."),
    output: str = typer.Option(..., "-o", "--output", help="JSON Lines file of spec articles to write."),
    source: str = typer.Option("annotations", "--source", help="Read each task's last 'annotations' or 'predictions'."),
) -> None:
    """Convert a Label Studio export back into spec records, checking every task."""
    from stance.labelstudio import import_labelstudio as run
    from stance.schema import CorpusError

    try:
        n = run(export, output, source=source)
    except CorpusError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{n} article(s) written to {output}")


@app.command()
def predict(
    inputs: list[str] = typer.Argument(..., help="JSONL, CSV or Parquet files; '-' reads JSON Lines from stdin."),
    output: str = typer.Option(..., "-o", "--output", help="Output directory: parts/, errors.jsonl, manifest.json."),
    id_column: str = typer.Option("id", "--id-column", help="Field with the article id (missing: file:line)."),
    text_column: str = typer.Option("text", "--text-column", help="Field with the article text."),
    output_format: str = typer.Option("jsonl", "--format", help="Output parts as jsonl or parquet."),
    model: str = typer.Option(None, "--model", help="Model directory or hub id (default: the bundled model)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda (under torchrun: cuda:LOCAL_RANK)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Article windows per forward pass (default: 8 on the CPU, 64 on a GPU)."),
    precision: str = typer.Option("fp32", "--precision", help="fp32, bf16 (autocast) or int8 (CPU, dynamic)."),
    chunk_size: int = typer.Option(64, "--chunk-size", help="Articles per length-sorted chunk."),
    part_size: int = typer.Option(1024, "--part-size", help="Input records per output part (the unit of resume)."),
    max_claims: int = typer.Option(1000, "--max-claims", help="Claims analysed per article at most (longer: cut, flagged)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard OUTDIR's output when its settings differ."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Analyse a corpus in resumable parts: streaming, restartable, rank-sharded under torchrun."""
    import logging

    from stance.batch import JobConfig, JobError, run_job

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = JobConfig(inputs=tuple(inputs), output_dir=output, model=model, id_column=id_column, text_column=text_column,
                    output_format=output_format, precision=precision, chunk_size=chunk_size, part_size=part_size,
                    max_claims=max_claims, device=device, batch_size=batch_size, progress=progress, overwrite=overwrite)
    try:
        summary = run_job(cfg)
    except JobError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    state = "complete" if summary.complete else "this rank done; other parts remain"
    typer.echo(f"{summary.parts_done} parts written, {summary.parts_skipped} already done; {summary.articles} articles, "
               f"{summary.claims} claims, {summary.errors} errors in {summary.seconds:.1f} s ({state}); output in {output}")


@app.command()
def analyze(
    file: str = typer.Argument(..., help="A text file with one article, or - for standard input."),
    model: str = typer.Option(None, "--model", help="Model directory or hub id (default: the bundled model)."),
    as_json: bool = typer.Option(False, "--json", help="Print the spec's JSON record instead of a table."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    precision: str = typer.Option("fp32", "--precision", help="fp32, bf16 or int8 (CPU)."),
) -> None:
    """Analyse one article: every claim with its stance, speaker and role."""
    import sys

    from stance.inference import load
    from stance.schema import dumps

    text = sys.stdin.read() if file == "-" else open(file, encoding="utf-8-sig").read()
    article = load(model, device=device, precision=precision).analyze(text)
    if as_json:
        typer.echo(dumps(article))
        return
    typer.echo(f"{'#':>3}  {'stance':<12} {'p':>4}  {'role':<15} {'speaker':<28} claim")
    for i, claim in enumerate(article.claims, 1):
        sp = claim.speaker
        who = "-" if sp.text is None else (sp.text if sp.resolved in (None, sp.text) else f"{sp.text} -> {sp.resolved}")
        p = claim.stance_probs[claim.stance] if claim.stance_probs else float("nan")
        snippet = " ".join(article.claim_text(claim).split())
        snippet = snippet if len(snippet) <= 90 else snippet[:87] + "..."
        who = who if len(who) <= 28 else who[:25] + "..."
        typer.echo(f"{i:>3}  {claim.stance:<12} {p:4.2f}  {sp.role:<15} {who:<28} {snippet}")


@app.command("train")
def train_command(
    config: str = typer.Argument(..., help="YAML file with TrainConfig fields (see training/configs/)."),
    overrides: list[str] = typer.Argument(None, help="key=value settings that replace the file's."),
) -> None:
    """Fine-tune a stance model (resumes from the last checkpoint after a crash)."""
    import logging

    from stance.configs import load_config
    from stance.train import TrainConfig, train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    final = train(load_config(TrainConfig, config, overrides))
    typer.echo(f"model written to {final}")


# Commands are added above this line, one function each.


if __name__ == "__main__":
    app()
