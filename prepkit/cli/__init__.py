"""Command line: the only package that knows click. Each module here adds its commands to `main`.

Modules are discovered, so a new command group is a new file and nobody edits a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil

from prepkit.cli.base import main

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _m.name not in {"base", "options"}:
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["main"]
