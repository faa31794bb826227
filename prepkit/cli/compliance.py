"""`prepkit compliance`: the paperwork auditors ask for, written from a run."""

from __future__ import annotations

from pathlib import Path

import click

from prepkit.cli.base import fail, main


@main.command()
@click.argument("out_dir", metavar="OUT", type=click.Path(file_okay=False, exists=True))
@click.option("--policy", "-p", required=True, type=click.Path(dir_okay=False, exists=True), help="The run's policy.")
@click.option("--eval", "eval_file", type=click.Path(dir_okay=False), default=None,
              help="`prepkit eval` results as Markdown (default: bench/EVAL.md when it exists).")
def compliance(out_dir: str, policy: str, eval_file: str | None) -> None:
    """Write OUT/compliance/: a GDPR Art. 30 record of processing, a DPIA annex with the detection figures
    measured, and an EU AI Act Art. 10(2) data-governance sheet for the fine-tuning set, each as Markdown and
    HTML. Each says what a person must still fill in (marked TO FILL IN)."""
    from prepkit.compliance import write_compliance
    from prepkit.policy import PolicyError, load_policy

    default_eval = Path("bench") / "EVAL.md"
    eval_path = Path(eval_file) if eval_file else default_eval if default_eval.is_file() else None
    if eval_file and not Path(eval_file).is_file():
        fail(f"--eval {eval_file}: no such file")
    try:
        loaded = load_policy(policy, run_checks=False)
        files = write_compliance(Path(out_dir), loaded, eval_path=eval_path)
    except (PolicyError, ValueError) as e:
        fail(str(e))
    click.echo(f"wrote {len(files)} files to {Path(out_dir) / 'compliance'}"
               + (f" (detection figures from {eval_path})" if eval_path else " (no detection figures: see --eval)"))
