"""`prepkit rag query|info|grants` and `prepkit forget`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from prepkit.cli.base import fail, format_option, main


def _policy_and_key(policy: str | None) -> tuple[Any, Any]:
    """The optional policy (for key file, grants and audit settings) and the key ring."""
    from prepkit.keys import load_keyring
    from prepkit.policy import load_policy

    # Schema only: the cross-checks import detection code (seconds), and a query needs keys and rag settings.
    loaded = load_policy(policy, run_checks=False) if policy else None
    keyring = load_keyring(loaded.policy.keys.key_file if loaded else None)
    return loaded, keyring


def _audit_path(store: str, audit_file: str | None) -> Path:
    """Where a query or grant change is audited: always the run's own audit.jsonl for a run's store (so the
    entry cannot be sent elsewhere); --audit FILE only for a PostgreSQL store, which has no run folder."""
    from prepkit.rag.query import default_audit_path

    default = default_audit_path(store)
    if default is None:
        if not audit_file:
            fail("a PostgreSQL store has no run folder: give --audit FILE for the audit entry")
        return Path(audit_file)
    if audit_file and Path(audit_file).resolve() != default.resolve():
        fail(f"{store} is a run's store: its queries and grant changes are audited to {default}; --audit is only "
             "for a PostgreSQL store")
    return default


@main.group()
def rag() -> None:
    """Query and manage the encrypted RAG store a run wrote (OUT/rag/store.db, or PostgreSQL by URL).

    STORE is the run's output folder, its rag/ folder, the store.db file, or a postgresql:// URL.
    The key comes from PREPKIT_KEY_FILE / PREPKIT_KEY (or the policy's keys.key_file).
    """


@rag.command()
@click.argument("store")
@click.argument("question")
@click.option("--role", "-r", required=True, help="Read as this role (policy access.roles); sees only its labels.")
@click.option("--k", "-k", "k", type=click.IntRange(1, 1000), default=5, show_default=True, help="Chunks to return.")
@click.option("--policy", "-p", type=click.Path(dir_okay=False), default=None,
              help="Policy (for keys.key_file and outputs.rag.store_query_text).")
@click.option("--audit", "audit_file", type=click.Path(dir_okay=False), default=None,
              help="PostgreSQL store only: the audit log to append to (a run's store is always audited to the "
                   "run's audit.jsonl).")
@format_option("text", "json")
def query(store: str, question: str, role: str, k: int, policy: str | None, audit_file: str | None,
          fmt: str) -> None:
    """Return the K chunks nearest to QUESTION that ROLE may read, with record ids and scores.

    A role may read a chunk when every label on it is granted to the role; a role with no grant sees nothing.
    Every query is written to the audit log (role, labels, chunk ids; the question only if the policy allows).

    \b
    Example:
      prepkit rag query build/run "how do I reset my VPN token" --role support
    """
    from prepkit.rag import run_query
    from prepkit.rag.store import is_url, store_path

    loaded, keyring = _policy_and_key(policy)
    if not is_url(store) and not store_path(store).is_file():
        fail(f"{store}: no RAG store there (expected OUT, OUT/rag or OUT/rag/store.db, or a postgresql:// URL)")
    audit_path = _audit_path(store, audit_file)
    res = run_query(store, question, role, keyring, k=k, audit_path=audit_path,
                    policy_identity=loaded.identity if loaded else None,
                    store_query_text=bool(loaded and loaded.policy.outputs.rag.store_query_text))
    if fmt == "json":
        click.echo(json.dumps(res.to_json(), indent=2, ensure_ascii=False))
        return
    granted = ", ".join(res.labels) if res.labels else "nothing (no grant)"
    click.echo(f"role {role} may read: {granted}; {len(res.hits)} chunk(s) in {res.seconds * 1000:.0f} ms")
    for i, h in enumerate(res.hits, 1):
        c = h.chunk
        click.echo(f"\n[{i}] score {h.score:.3f}  record {c.record_id}  ({c.source}, {c.segment} "
                   f"{c.start}-{c.end})  labels {', '.join(c.labels)}"
                   + (f"  entities {', '.join(c.entity_types)}" if c.entity_types else ""))
        click.echo("    " + c.text.replace("\n", "\n    "))


@rag.command()
@click.argument("store")
@click.option("--policy", "-p", type=click.Path(dir_okay=False), default=None, help="Policy (for keys.key_file).")
@format_option("text", "json")
def info(store: str, policy: str | None, fmt: str) -> None:
    """Show what a store holds: embedder, record and chunk counts by label set, role grants, size."""
    from prepkit.rag import open_store

    _, keyring = _policy_and_key(policy)
    s = open_store(store, keyring)
    try:
        st = s.stats()
    finally:
        s.close()
    if fmt == "json":
        click.echo(json.dumps(st, indent=2))
        return
    click.echo(f"{st['backend']} store {st['location']}: {st['records']} records, {st['chunks']} chunks, "
               f"{st['bytes']:,} bytes, embedder {st['embedder']} ({st['dims']} dims)")
    for labels, n in st["chunks_by_labels"].items():
        click.echo(f"  labels [{labels}]: {n} chunks")
    for role, labels in sorted(st["roles"].items()):
        click.echo(f"  role {role} reads: {', '.join(labels) or 'nothing'}")


@rag.command()
@click.argument("store")
@click.option("--policy", "-p", required=True, type=click.Path(dir_okay=False), help="Policy with access.roles.")
@click.option("--audit", "audit_file", type=click.Path(dir_okay=False), default=None,
              help="PostgreSQL store only: the audit log to append to.")
def grants(store: str, policy: str, audit_file: str | None) -> None:
    """Apply the policy's access.roles to a store without re-running (PostgreSQL: roles and RLS policies).

    Every change is written to the audit log (`grants_changed`: the roles and labels before and after, and the
    policy's identity); the manifest's audit checkpoint moves forward and is signed when PREPKIT_SIGNING_KEY_FILE
    is set. If the audit entry cannot be written, the previous grants are put back.
    """
    from prepkit.rag import open_store
    from prepkit.rag.query import audit_event

    loaded, keyring = _policy_and_key(policy)
    roles = {r: sorted(set(ls)) for r, ls in loaded.policy.access.roles.items()}
    audit_path = _audit_path(store, audit_file)
    s = open_store(store, keyring)
    try:
        before = s.grants()
        s.set_grants(roles)
        audited = False
        try:
            audit_event(audit_path, keyring, "grants_changed", loaded.identity, store=s.location,
                        roles=roles, previous_roles=before)
            audited = True
        finally:
            if not audited:  # whatever stopped the audit entry, an unaudited grant change does not stand
                s.set_grants(before)
    finally:
        s.close()
    click.echo(f"{len(roles)} role(s) granted: "
               + "; ".join(f"{r}: {', '.join(sorted(ls)) or 'nothing'}" for r, ls in sorted(roles.items())))


@main.command()
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="Output folder of the run(s) to erase from.")
@click.option("--subject", required=True, help="The value identifying the data subject (e.g. an email address).")
@click.option("--type", "entity_type", default=None,
              help="Entity type of the value (EMAIL_ADDRESS, PHONE_NUMBER, ...); without it every normalization is tried.")
@click.option("--policy", "-p", type=click.Path(dir_okay=False), default=None, help="Policy (for keys.key_file).")
@click.option("--rag-url", default=None, help="PostgreSQL URL of the RAG store, if the run used one.")
@format_option("text", "json")
def forget(out_dir: str, subject: str, entity_type: str | None, policy: str | None, rag_url: str | None,
           fmt: str) -> None:
    """Erase a data subject (GDPR art. 17): delete every RAG chunk and fine-tune record derived from records that
    contained the value, and write an `erasure` audit entry. The value is matched by keyed hash; it is never
    stored, logged or printed. Exit 0 when done (also when nothing matched), 2 if some output could not be erased.
    """
    from prepkit.rag import forget as do_forget

    loaded, keyring = _policy_and_key(policy)
    rep = do_forget(Path(out_dir), keyring, subject, entity_type, rag_url=rag_url,
                    policy_identity=loaded.identity if loaded else None)
    if fmt == "json":
        click.echo(json.dumps(rep.to_json(), indent=2))
    elif not rep.record_ids:
        click.echo("no record in this output contained the subject; nothing removed (erasure recorded)")
    else:
        routes = ", ".join(f"{r} {n}" for r, n in rep.routes.items())
        click.echo(f"{len(rep.record_ids)} record(s) contained the subject ({routes}): removed "
                   f"{rep.chunks_deleted} RAG chunk(s), {rep.finetune_removed} fine-tune record(s) and "
                   f"{rep.quarantine_removed} quarantined record(s)"
                   + ("; cleared the result cache" if rep.cache_cleared else "")
                   + ("; rewrote report.html without examples" if rep.report_rewritten else ""))
        for rid in rep.record_ids:
            click.echo(f"  {rid}")
    for note in rep.notes:
        click.echo(f"warning: {note}", err=True)
    if not rep.complete:
        fail("erasure incomplete (see warning above)")
