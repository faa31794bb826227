"""`prepkit keygen FILE`: create a new random key file (mode 0600). Prints the path, never the key."""

from __future__ import annotations

from pathlib import Path

import click

from prepkit.cli.base import fail, main
from prepkit.keys import write_key_file


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def keygen(file: Path) -> None:
    """Write a new 256-bit key to FILE (mode 0600); refuses to overwrite an existing file.

    Use it with PREPKIT_KEY_FILE=FILE or `keys.key_file` in the policy. Losing the file means encrypted values
    cannot be re-identified and surrogates change; keep a copy where your secrets live.
    """
    try:
        p = write_key_file(file)
    except FileExistsError:
        fail(f"{file} already exists; refusing to overwrite a key (delete it first if you really mean to)")
    except OSError as e:
        fail(f"{file}: cannot create key file: {e.strerror}")
    click.echo(f"created key file {p} (mode 0600)")
