"""`prepkit serve` and `prepkit serve-tokens`: role-scoped RAG queries over HTTP without handing out the key."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from prepkit.cli.base import fail, main


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@main.command()
@click.argument("out_dir", metavar="OUT", type=click.Path(file_okay=False, exists=True))
@click.option("--tokens", "token_file", required=True, type=click.Path(dir_okay=False),
              help="File of `ROLE TOKEN` lines (mode 0600); make one with `prepkit serve-tokens`.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes the service to the network.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--policy", "-p", type=click.Path(dir_okay=False), default=None,
              help="Policy (for keys.key_file and outputs.rag.store_query_text).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True), default=None,
              help="PEM certificate, to serve HTTPS (advised off loopback).")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True), default=None, help="PEM key for --tls-cert.")
def serve(out_dir: str, token_file: str, host: str, port: int, policy: str | None, tls_cert: str | None,
          tls_key: str | None) -> None:
    """Serve role-scoped retrieval from OUT's encrypted RAG store over HTTP (JSON; OpenAPI at /openapi.json).

    The server holds the master key (PREPKIT_KEY_FILE / PREPKIT_KEY); an application holds only its role's
    token and sends `Authorization: Bearer TOKEN`. The token decides the role, the store filters chunks by the
    role's grants, and every query (and every refused request) is written to OUT/audit.jsonl. Unknown tokens
    get 401.

    \b
    Example:
      prepkit serve-tokens build/serve.tokens --role support --role hr
      prepkit serve build/run --tokens build/serve.tokens
      curl -s -H "Authorization: Bearer $TOKEN" -d '{"question": "reset VPN token", "k": 3}' \\
           -H 'Content-Type: application/json' http://127.0.0.1:8765/v1/query
    """
    import uvicorn

    from prepkit.cli.rag import _policy_and_key
    from prepkit.rag import open_store
    from prepkit.rag.store import store_path
    from prepkit.web.serve import ServeConfig, create_app
    from prepkit.web.tokens import read_token_file

    if bool(tls_cert) != bool(tls_key):
        fail("--tls-cert and --tls-key go together")
    tokens = read_token_file(token_file)
    loaded, keyring = _policy_and_key(policy)
    out = Path(out_dir)
    if not store_path(out).is_file():
        fail(f"{out}: no RAG store there (expected {out}/rag/store.db from `prepkit run`)")
    roles = sorted(set(tokens.values()))
    cfg = ServeConfig(out, keyring, tokens, policy_identity=loaded.identity if loaded else None,
                      store_query_text=bool(loaded and loaded.policy.outputs.rag.store_query_text))
    app = create_app(cfg)
    store = open_store(out, keyring)
    try:
        granted = store.grants()
    finally:
        store.close()
    app.state.audit("serve_start", roles=roles, store=str(store_path(out)), port=port,
                    loopback=_loopback(host), tls=bool(tls_cert))
    for role in roles:
        if not granted.get(role):
            click.echo(f"warning: role {role} has no grant in this store; its token will see nothing", err=True)
    if not _loopback(host):
        click.echo(f"warning: binding {host} exposes the service beyond this machine"
                   + ("" if tls_cert else "; tokens and chunks travel unencrypted without --tls-cert"), err=True)
    scheme = "https" if tls_cert else "http"
    click.echo(f"prepkit serve: {scheme}://{host}:{port}/v1/query for role(s) {', '.join(roles)} "
               f"(OpenAPI: {scheme}://{host}:{port}/openapi.json); Ctrl-C stops", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                ssl_certfile=tls_cert, ssl_keyfile=tls_key)


@main.command(name="serve-tokens")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--role", "-r", "roles", required=True, multiple=True, help="A role to make a token for (repeat).")
def serve_tokens(file: str, roles: tuple[str, ...]) -> None:
    """Create FILE (mode 0600) with a random bearer token for each --role, for `prepkit serve --tokens FILE`."""
    from prepkit.web.tokens import write_token_file

    p = write_token_file(file, list(roles))
    click.echo(f"wrote {len(set(roles))} token(s) to {p}; give each application only its role's line")
