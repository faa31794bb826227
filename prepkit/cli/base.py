"""The root `prepkit` group and the conventions every command shares.

Exit codes: 0 success; 1 the command found what it checks for (scan found PII, audit verify found tampering,
policy lint found problems); 2 usage, policy, input or runtime error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from prepkit import __version__

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
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


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one error line (the message names the file/line/field) and exit; never a traceback for user errors."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def format_option(*choices: str, default: str = "text") -> Callable[[Any], Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
        help="Output format: text for people, json/jsonl/csv for machines.",
    )
