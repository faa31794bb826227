"""`prepkit audit verify|show|keygen-signing`: thin wrappers over prepkit.audit."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepkit import audit
from prepkit.cli.base import EXIT_FOUND, EXIT_OK, fail, format_option, main
from prepkit.keys import ENV_SIGNING_FILE, KeyRing, load_keyring


@main.group("audit")
def audit_group() -> None:
    """Check and review the tamper-evident audit log (audit.jsonl)."""


@audit_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Checkpoint JSON, or the run's manifest.json holding 'audit_checkpoint'. Catches whole runs "
                   "removed from the tail.")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="prepkit key file to check entry HMACs (default: PREPKIT_KEY_FILE / PREPKIT_KEY if set).")
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Trusted Ed25519 public key (PEM or hex) the checkpoint must be signed with. Default: the "
                   f"public half of {ENV_SIGNING_FILE} if set.")
@format_option("text", "json")
def verify_cmd(file: Path, checkpoint_file: Path | None, key_file: Path | None, public_key: Path | None,
               fmt: str) -> None:
    """Check FILE's hash chain, HMACs and run boundaries; exit 0 intact, 1 tampered, 2 error.

    Names the first bad sequence number and the kind of problem: edited, deleted, inserted, reordered,
    truncated, bad_hmac, bad_signature.
    """
    keyring: KeyRing | None = KeyRing.from_file(key_file) if key_file else load_keyring(required=False)
    checkpoint = audit.load_checkpoint(checkpoint_file) if checkpoint_file else None
    trusted: Ed25519PublicKey | None
    if public_key:
        trusted = audit.load_public_key(public_key)
    else:
        sk = audit.signing_key_from_env()
        trusted = sk.public_key() if sk else None
    if not file.is_file():
        fail(f"{file}: no such audit log")
    rep = audit.verify(file, checkpoint, keyring, trusted)
    if fmt == "json":
        click.echo(json.dumps(rep.as_dict(), indent=2))
    else:
        status = "intact" if rep.ok else f"TAMPERED: {rep.kind} at entry {rep.first_bad_seq}"
        click.echo(f"{file}: {status}")
        if not rep.ok:
            click.echo(f"  {rep.message}")
        click.echo(f"  entries checked: {rep.entries}, runs: {rep.runs}, last seq: {rep.last_seq}")
        click.echo(f"  hmac: {'checked' if rep.hmac_checked else 'not checked (no key given)'}; "
                   f"checkpoint: {rep.checkpoint}; signature: {rep.signature}")
        for w in rep.warnings:
            click.echo(f"  warning: {w}")
    sys.exit(EXIT_OK if rep.ok else EXIT_FOUND)


@audit_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--record", "record_id", help="Only entries about this record id.")
@click.option("--run", "run_id", help="Only entries of this run id.")
@click.option("--event", help="Only this event type (record, run_start, run_end, erasure, rag_query, ...).")
@format_option("text", "json", "jsonl", "csv")
def show_cmd(file: Path, record_id: str | None, run_id: str | None, event: str | None, fmt: str) -> None:
    """Print FILE's entries for review; CSV for compliance tooling. Does not verify: use `audit verify`."""
    entries = audit.select_entries(audit.read_entries(file), record_id=record_id, run_id=run_id, event=event)
    if fmt == "json":
        click.echo(json.dumps(entries, indent=2, sort_keys=True))
    elif fmt == "jsonl":
        for e in entries:
            click.echo(json.dumps(e, sort_keys=True, separators=(",", ":")))
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=list(audit.CSV_COLUMNS), lineterminator="\n")
        w.writeheader()
        for e in entries:
            w.writerow(audit.csv_row(e))
    else:
        for e in entries:
            click.echo(audit.text_line(e))
        if not entries:
            click.echo("no matching entries", err=True)


@audit_group.command("keygen-signing")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def keygen_signing_cmd(file: Path) -> None:
    """Create an Ed25519 key for signing audit checkpoints (FILE, mode 0600) and FILE.pub.

    Keep it apart from the prepkit data key; point PREPKIT_SIGNING_KEY_FILE at it when running, and give
    FILE.pub to auditors (`prepkit audit verify --public-key FILE.pub`).
    """
    try:
        pub = audit.write_signing_key(file)
    except OSError as e:
        fail(str(e))
    click.echo(f"wrote {file} and {file}.pub (public key {pub})")
