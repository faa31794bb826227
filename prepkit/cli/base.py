"""The root `prepkit` group and the conventions every command shares.

Exit codes: 0 success; 1 the command found what it checks for (scan found PII, audit verify found tampering,
policy lint found problems); 2 usage, policy, input or runtime error.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from prepkit import __version__
from prepkit.engine.gc_tuning import tune_for_batch_work
from prepkit.errors import EXIT_ERROR, EXIT_FOUND, EXIT_OK, PrepkitError
from prepkit.nlp_stack import defer_torch_in_this_process

__all__ = ["EXIT_ERROR", "EXIT_FOUND", "EXIT_OK", "fail", "format_option", "main"]


def first_sentence(text: str) -> str:
    """The first sentence of a help text: up to a full stop that ends a sentence, not one inside "art. 17"."""
    text = " ".join(text.split("\n\n", 1)[0].split())
    m = re.search(r"[.!?](?=\s+[A-Z(]|$)", text)
    return text[: m.end()] if m else text


class Group(click.Group):
    """Command lists show each command's whole first sentence, wrapped, instead of cutting it to the terminal
    width (click cut `forget` to "Erase a data subject (GDPR art.")."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.short_help or first_sentence(cmd.help or ""))
                for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        # The one place a PrepkitError from any command becomes one `error:` line on stderr and its exit code
        # (no command lists the exceptions it expects). Subgroups share this class; the root catches first.
        try:
            return super().invoke(ctx)
        except PrepkitError as e:
            click.echo(f"error: {e}", err=True)
            raise click.exceptions.Exit(e.exit_code) from None


Group.group_class = Group  # subgroups made with `@main.group()` (policy, rag, audit) list commands the same way


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="prepkit")
def main() -> None:
    """prepkit: make enterprise text safe for LLMs.

    Detects personal data (PII) with Presidio and spaCy, anonymizes or synthesizes replacements as a policy file
    says, and routes every record to a fine-tuning dataset, an encrypted RAG store, quarantine or drop, writing a
    tamper-evident audit log of every decision.

    \b
    Start with:
      prepkit run --policy policies/default.yaml --input samples/ --out build/run
      prepkit scan --policy policies/default.yaml --input data.jsonl --format jsonl
      prepkit policy show policies/default.yaml

    Exit codes: 0 success, 1 found what the command checks for (PII, tampering, policy problems), 2 error.
    """
    defer_torch_in_this_process()
    tune_for_batch_work()


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one error line (the message names the file/line/field) and exit; never a traceback for user errors."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def format_option(*choices: str, default: str = "text") -> Callable[[Any], Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
        help="Output format: text for people, json/jsonl/csv for machines.",
    )
