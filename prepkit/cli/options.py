"""Options shared by the commands that read inputs, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def input_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed([
        click.option("--policy", "-p", "policy", required=True, type=click.Path(dir_okay=False),
                     help="Policy YAML file (see policies/)."),
        click.option("--input", "-i", "inputs", required=True, multiple=True, type=click.Path(),
                     help="Input file or folder, or - for standard input (JSONL or a JSON array); repeat for several. "
                          "Folders are read recursively (hidden entries and the --out folder are skipped): .jsonl, "
                          ".json, .csv, .tsv (also .gz/.zst), .parquet, .txt, .md, and .pdf, .docx with "
                          "prepkit[docs]."),
        click.option("--text-field", default=None, help="JSONL field holding the text (default: policy, 'text')."),
        click.option("--id-field", default=None, help="Field holding a stable record id (default: policy, 'id')."),
        click.option("--text-column", "text_columns", multiple=True,
                     help="CSV/Parquet column to scan; repeat. Default: every string column."),
        click.option("--spacy-model", default=None,
                     help="Installed spaCy model to use instead of the policy's (e.g. a larger one)."),
    ]):
        f = opt(f)
    return f


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed([
        click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
                     help="Worker processes or Ray actors, each loading the models once. Default: the local engine "
                          "starts in this process, times the first batches and starts one worker per core as soon "
                          "as the remaining work pays for their model loads (never for a small input); Ray uses "
                          "the core count."),
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="local: this machine (a process pool when workers > 1); ray: Ray Data on the cluster in "
                          "RAY_ADDRESS, or a local Ray (needs prepkit[ray]). Outputs are identical."),
    ]):
        f = opt(f)
    return f
