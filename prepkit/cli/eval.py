"""`prepkit eval`: detection quality of a policy on labeled data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from prepkit.cli.base import fail, format_option, main


@main.command("eval")
@click.option("--gold", "gold", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Labeled JSONL: {\"id\",\"text\",\"spans\":[{start,end,label}]} per line.")
@click.option("--policy", "policy_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Policy whose detection section is evaluated.")
@format_option("text", "json")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N documents.")
@click.option("--worst", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many documents with the most missed spans to list.")
@click.option("--show-text", is_flag=True, default=False,
              help="Also print the text of missed spans (off by default: gold data may hold real PII).")
@click.option("--spacy-model", default=None, help="Use this installed spaCy model instead of the policy's.")
def eval_cmd(gold: Path, policy_path: Path, fmt: str, limit: int | None, worst: int, show_text: bool,
             spacy_model: str | None) -> None:
    """Score a policy's PII detection against labeled gold data.

    Prints per-entity and overall precision, recall, F2 and any-PII recall (span overlap, same label; precision
    only over labels the data annotates), plus the documents with the most missed spans (ids and labels; the
    missed text only with --show-text).

    \b
      prepkit eval --gold ../shared/eval/presidio_synth.jsonl --policy policies/default.yaml
    """
    from prepkit.eval import GoldError, evaluate, format_text, load_gold, policy_detector
    from prepkit.policy import load_policy
    from prepkit.policy.load import PolicyError

    try:
        loaded = load_policy(policy_path)
    except PolicyError as e:
        fail(str(e))
    try:
        docs = load_gold(gold, limit=limit)
    except GoldError as e:
        fail(str(e))
    if not docs:
        fail(f"{gold}: no documents")
    try:
        detect = policy_detector(loaded.policy, spacy_model)
    except Exception as e:  # a missing model names itself; never a traceback for a setup problem
        fail(f"cannot build the detector for {policy_path}: {e}")
    report = evaluate(docs, detect, worst=worst, dataset=gold.stem)
    report.policy = loaded.identity
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(show_text=show_text), indent=2, ensure_ascii=False))
    else:
        click.echo(format_text(report, show_text=show_text))
