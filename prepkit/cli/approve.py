"""`prepkit policy approve`: sign off a policy (approver, date, sha256) in a signed approvals file and the audit log."""

from __future__ import annotations

from pathlib import Path

import click

from prepkit.cli.base import fail
from prepkit.cli.policy import policy


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--by", "by", required=True, help="The approver's name, as it should stand in the record.")
@click.option("--approvals", "approvals_file", type=click.Path(dir_okay=False), default=None,
              help="Approvals file (default: FILE.approvals.json beside the policy).")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Run folder whose audit.jsonl records the approval (default: audit.jsonl beside the "
                   "approvals file).")
def approve(file: str, by: str, approvals_file: str | None, out_dir: str | None) -> None:
    """Approve policy FILE: record approver, date and the policy's sha256, signed with the audit signing key
    (PREPKIT_SIGNING_KEY_FILE), in the approvals file and as a `policy_approved` audit entry.

    `prepkit run --require-approved` then accepts exactly this version of the policy; any edit changes its
    sha256 and needs a new approval.
    """
    from prepkit.approvals import ApprovalError, audit_approval
    from prepkit.approvals import approve as do_approve
    from prepkit.audit import AuditError
    from prepkit.keys import KeyError_, load_keyring
    from prepkit.policy import PolicyError, load_policy

    try:
        loaded = load_policy(file)
        keyring = load_keyring(loaded.policy.keys.key_file, required=False)
        approval, target = do_approve(loaded, by, approvals_file)
        audit_path = Path(out_dir) / "audit.jsonl" if out_dir else target.parent / "audit.jsonl"
        audit_approval(audit_path, approval, keyring, loaded.identity, target)
    except (PolicyError, ApprovalError, KeyError_, AuditError) as e:
        fail(str(e))
    click.echo(f"approved {file} (sha256 {approval.policy_sha256}) by {approval.approved_by} at "
               f"{approval.approved_at}; signed into {target}; audit entry in {audit_path}")
