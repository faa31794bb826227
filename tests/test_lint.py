"""The code stays clean: ruff on everything, mypy on the package (STYLE.md conventions)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_ruff_is_clean():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "prepkit", "tests", "bench", "scripts"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_is_clean(tmp_path):
    res = subprocess.run([sys.executable, "-m", "mypy", "prepkit", "--cache-dir", str(tmp_path / "mypy")],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
