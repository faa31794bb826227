"""`prepkit policy lint|show|diff|test`: review a policy before it touches data. Logic lives in prepkit.review.*."""

from __future__ import annotations

import json
import sys

import click

from prepkit.cli.base import EXIT_FOUND, EXIT_OK, fail, main
from prepkit.policy.load import LoadedPolicy


@main.group()
def policy() -> None:
    """Check, explain, compare and dry-run policy files.

    \b
      prepkit policy lint policies/*.yaml
      prepkit policy show policies/hipaa-safe-harbor.yaml --format html > hipaa.html
      prepkit policy diff old.yaml new.yaml
      prepkit policy test policies/gdpr.yaml --input samples/tickets.jsonl --limit 5
    """


@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too (for CI).")
def lint(files: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Report every problem in FILES at once, as `file:line: field.path: message`.

    Errors stop a policy from loading; warnings (message starts with "warning:") load but do not do what the
    author likely meant, or let personal data reach fine-tuning. Exit 1 when there is an error (or, with
    --strict, any warning), 0 otherwise.
    """
    from prepkit.review.lint import lint_file

    # a refused file (PolicyRefused) is not a problem to list: the CLI handler exits 2
    problems = [p for f in files for p in lint_file(f)]
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    else:
        for p in problems:
            click.echo(str(p))
        if not problems:
            click.echo(f"{len(files)} polic{'y' if len(files) == 1 else 'ies'} clean", err=True)
    failing = [p for p in problems if strict or p.severity == "error"]
    sys.exit(EXIT_FOUND if failing else EXIT_OK)


def _load(path: str) -> LoadedPolicy:
    from prepkit.policy import load_policy

    return load_policy(path)


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]), default="markdown",
              show_default=True)
def show(file: str, fmt: str) -> None:
    """The policy in plain language: what is detected, what is done to it (with an example), where records go."""
    from prepkit.review.show import render

    click.echo(render(_load(file), fmt), nl=False)


@policy.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff(old: str, new: str, fmt: str) -> None:
    """What changed between two policies, as sentences a reviewer signs off. Exit 1 when they differ."""
    from prepkit.review.diff import diff_policies, render_diff

    changes = diff_policies(_load(old), _load(new))
    click.echo(render_diff(changes, _load(old), _load(new), fmt), nl=False)
    sys.exit(EXIT_FOUND if changes else EXIT_OK)


@policy.command(name="test")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--input", "-i", "inputs", required=True, multiple=True, type=click.Path(exists=True),
              help="Sample file or folder (JSONL, CSV, Parquet, text); repeatable.")
@click.option("--limit", "-n", type=int, default=20, show_default=True, help="Records to show at most.")
@click.option("--color/--no-color", default=None, help="Highlight (default: when writing to a terminal).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def test_cmd(file: str, inputs: tuple[str, ...], limit: int, color: bool | None, fmt: str) -> None:
    """Dry run on samples: findings, text before and after, and the route with its reason. Writes nothing."""
    from prepkit.review.dryrun import dry_run, render_text

    if limit < 1:
        fail("--limit must be at least 1")
    loaded = _load(file)
    report = dry_run(loaded, list(inputs), limit=limit)
    if report.key_note:
        click.echo(report.key_note, err=True)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        use_color = sys.stdout.isatty() if color is None else color
        click.echo(render_text(report, color=use_color), nl=False, color=use_color)
