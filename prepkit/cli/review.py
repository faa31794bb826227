"""`prepkit review`: the local web app for compliance staff (quarantine queue, policy sign-off, paperwork)."""

from __future__ import annotations

import json
import secrets
import socket
from pathlib import Path

import click

from prepkit.cli.base import fail, main


@main.command()
@click.argument("out_dir", metavar="OUT", type=click.Path(file_okay=False, exists=True))
@click.option("--policy", "-p", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The policy of the run (decisions use its labels, RAG and fine-tune settings).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8766, show_default=True)
@click.option("--approvals", "approvals_file", type=click.Path(dir_okay=False), default=None,
              help="Approvals file (default: POLICY.approvals.json beside the policy).")
def review(out_dir: str, policy: str, host: str, port: int, approvals_file: str | None) -> None:
    """Open a local web app over run OUT: the quarantine queue (findings highlighted, rule, reason, verification)
    with decisions (release to RAG, release to fine-tuning after editing, drop, keep), the run report, the policy
    with its sign-off, and the compliance records.

    The printed address holds a random token; requests without it are refused. Every decision is applied
    through the run's sinks and written to OUT/audit.jsonl with the reviewer's name and the record's hash.
    """
    import uvicorn

    from prepkit.keys import KeyError_, load_keyring
    from prepkit.policy import PolicyError, load_policy
    from prepkit.sinks.quarantine import QuarantineError, read_quarantine
    from prepkit.web.review import ReviewConfig, create_app

    out = Path(out_dir)
    try:
        loaded = load_policy(policy, run_checks=False)
        keyring = load_keyring(loaded.policy.keys.key_file)
        assert keyring is not None
        read_quarantine(out, keyring)  # fails early on a wrong key or a folder that is no run
    except (PolicyError, KeyError_, QuarantineError) as e:
        fail(str(e))
    try:
        run_sha = json.loads((out / "summary.json").read_text(encoding="utf-8"))["policy"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        run_sha = None
    if run_sha and run_sha != loaded.sha256:
        click.echo(f"warning: {out} was written with another version of the policy (sha256 {run_sha[:12]}…); "
                   "decisions use the one given", err=True)
    token = secrets.token_urlsafe(24)
    app = create_app(ReviewConfig(out, keyring, loaded, token,
                                  approvals_file=Path(approvals_file) if approvals_file else None))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or type(e).__name__}")
    bound = sock.getsockname()[1]
    click.echo(f"prepkit review: open http://{host}:{bound}/queue?token={token}  (Ctrl-C stops)", err=True)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound, log_level="warning", access_log=False))
    server.run(sockets=[sock])
