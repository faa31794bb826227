"""Input discovery: which files a run reads, in a stable order, and what it leaves out and why.

A folder means every file under it, sorted, so runs are stable. Every non-directory entry is listed, including
broken symlinks, FIFOs and sockets: they become rejections with a reason rather than vanishing from the counts.
Left out, and counted in the run summary: hidden files and folders (names starting with '.'), symlinks to
folders (not followed, so a link cannot loop or leave the input), and the run's own output folder when it lies
inside an input folder (the next run would otherwise read its own audit log and outputs), or any other folder
holding a run's `audit.jsonl` and `manifest.json` (an earlier run's output).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prepkit.io.common import InputError
from prepkit.io.sources import STDIN_NAME, is_stdin


@dataclass
class Inputs:
    files: list[tuple[Path, str]] = field(default_factory=list)  # (file, display name)
    hidden_files: int = 0
    hidden_folders: int = 0
    symlinked_folders: int = 0
    output_folders: list[str] = field(default_factory=list)  # display names of excluded output folders

    def skipped(self) -> dict[str, Any]:
        return {"hidden_files": self.hidden_files, "hidden_folders": self.hidden_folders,
                "symlinked_folders": self.symlinked_folders, "output_folders": list(self.output_folders)}

    def describe_skipped(self) -> str | None:
        """One sentence for the console, or None when nothing was left out."""
        parts = []
        if self.hidden_files or self.hidden_folders:
            parts.append(f"{self.hidden_files} hidden file(s) and {self.hidden_folders} hidden folder(s) "
                         "(names starting with '.')")
        if self.symlinked_folders:
            parts.append(f"{self.symlinked_folders} symlinked folder(s) (not followed)")
        if self.output_folders:
            parts.append("the output folder " + ", ".join(self.output_folders) + " (inside the input)")
        return "skipped " + "; ".join(parts) if parts else None


def find_inputs(paths: Sequence[str | Path], *, exclude: Sequence[str | Path] = ()) -> Inputs:
    """Expand inputs into files; `exclude` holds output folders that must never be read as input."""
    found = Inputs()
    excluded = {_resolved(Path(x)) for x in exclude}
    stdin_seen = False
    for raw in paths:
        if is_stdin(raw):
            if stdin_seen:
                raise InputError("-: standard input given twice as --input")
            stdin_seen = True
            found.files.append((Path(str(raw)), STDIN_NAME))
            continue
        p = Path(raw)
        if not p.exists():
            raise InputError(f"{p}: input path does not exist")
        if p.is_dir():
            if _resolved(p) in excluded:
                raise InputError(f"{p}: the output folder is this input folder; choose an --out outside it")
            _walk(p, excluded, found)
        else:
            found.files.append((p, p.name))
    return found


def discover(paths: Sequence[str | Path], *, exclude: Sequence[str | Path] = ()) -> list[tuple[Path, str]]:
    return find_inputs(paths, exclude=exclude).files


def _walk(root: Path, excluded: set[Path], found: Inputs) -> None:
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        keep = []
        for d in dirnames:
            sub = here / d
            if d.startswith("."):
                found.hidden_folders += 1
            elif sub.is_symlink():
                found.symlinked_folders += 1
            elif _resolved(sub) in excluded or _is_run_output(sub):
                found.output_folders.append(f"{root.name}/{sub.relative_to(root).as_posix()}")
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            if f.startswith("."):
                found.hidden_files += 1
            else:
                files.append(here / f)
    for path in sorted(files):
        found.files.append((path, f"{root.name}/{path.relative_to(root).as_posix()}"))


def _is_run_output(folder: Path) -> bool:
    """An earlier run's --out (its audit log and manifest side by side): outputs, never inputs."""
    return (folder / "audit.jsonl").is_file() and (folder / "manifest.json").is_file()


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return p.absolute()
