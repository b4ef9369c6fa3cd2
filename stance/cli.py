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


# Commands are added above this line, one function each.
