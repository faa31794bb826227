"""`prepkit reidentify`: reverse `encrypt`ed values for key holders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from prepkit.cli.base import fail, main
from prepkit.keys import KeyError_, KeyRing, load_keyring
from prepkit.transform.crypto import DecryptError, reidentify_lines


@main.command()
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Key file the values were encrypted with (default: PREPKIT_KEY_FILE / PREPKIT_KEY).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (mode 0600, must not exist) instead of stdout.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def reidentify(key_file: Path | None, out: Path | None, file: Path) -> None:
    """Replace every ⟦enc:…⟧ token in FILE (JSONL or text) by the original value.

    The output holds real personal data again: keep it where the original data may live. Refuses (exit 2)
    without the key, with a different key, or when a token was altered.
    """
    try:
        keyring = KeyRing.from_file(key_file) if key_file else load_keyring(required=True)
    except KeyError_ as e:
        fail(f"{e}; reidentify needs the key the values were encrypted with (--key-file)")
    assert keyring is not None
    jsonl = file.suffix.lower() in {".jsonl", ".ndjson", ".json"}
    try:
        src = file.open(encoding="utf-8", newline="")
    except OSError as e:
        fail(f"{file}: cannot read: {e.strerror}")
    # Decrypt everything before writing anything, so a wrong key or a damaged token leaves no partial output.
    chunks: list[str] = []
    total = 0
    try:
        with src:
            for _, text, n in reidentify_lines(keyring, src, jsonl=jsonl):
                chunks.append(text)
                total += n
    except DecryptError as e:
        fail(f"{file}: {e}")
    except UnicodeDecodeError as e:
        fail(f"{file}: not UTF-8 (byte {e.start})")
    if out is None:
        sys.stdout.write("".join(chunks))
    else:
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            fail(f"{out} already exists; refusing to overwrite")
        except OSError as e:
            fail(f"{out}: cannot create: {e.strerror}")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write("".join(chunks))
    click.echo(f"reidentified {total} value(s) from {file}", err=True)
