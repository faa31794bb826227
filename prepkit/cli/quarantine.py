"""`prepkit quarantine show`: read the encrypted quarantine with the key."""

from __future__ import annotations

import json
from pathlib import Path

import click

from prepkit.cli.base import fail, format_option, main


@main.group()
def quarantine() -> None:
    """Read a run's quarantine (OUT/quarantine/records.jsonl, encrypted with a subkey of the master key).

    Decide on quarantined records in the review app: `prepkit review OUT`.
    """


@quarantine.command()
@click.argument("out_dir", metavar="OUT", type=click.Path(file_okay=False, exists=True))
@click.option("--policy", "-p", type=click.Path(dir_okay=False), default=None, help="Policy (for keys.key_file).")
@format_option("text", "jsonl")
def show(out_dir: str, policy: str | None, fmt: str) -> None:
    """Decrypt and print the quarantined records: id, rule, reason, verification and, for jsonl, the raw record.

    The output holds raw personal data: it goes to your terminal or a file you choose, nowhere else.
    """
    from prepkit.cli.rag import _policy_and_key
    from prepkit.sinks.quarantine import QuarantineError, read_quarantine

    _, keyring = _policy_and_key(policy)
    try:
        entries = read_quarantine(Path(out_dir), keyring)
    except QuarantineError as err:
        fail(str(err))
    for e in entries:
        if fmt == "jsonl":
            click.echo(json.dumps({"qid": e.qid, **e.data}, ensure_ascii=False, sort_keys=True))
            continue
        d = e.data
        types = sorted({f["entity_type"] for f in d.get("findings") or []})
        verified = "passed" if (d.get("verification") or {}).get("passed") else "failed"
        click.echo(f"{e.qid}  {d['id']}  rule {d.get('rule') or '(none)'}  verification {verified}"
                   f"  entities {', '.join(types) or 'none'}")
        click.echo(f"    {d.get('reason')}")
    if fmt == "text":
        click.echo(f"{len(entries)} quarantined record(s)")
