"""The README's code examples marked `<!-- readme-example: NAME -->` run as written, from the repository root, in
a fresh interpreter (as a reader would paste them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

_MARKED = re.compile(r"<!-- readme-example: (\S+)[^>]*-->\n```python\n(.*?)\n```", re.S)


def examples() -> dict[str, str]:
    return dict(_MARKED.findall((ROOT / "README.md").read_text(encoding="utf-8")))


def test_the_readme_has_its_examples():
    assert "batches" in examples()


@pytest.mark.parametrize("name", sorted(examples()))
def test_readme_example_runs(name: str, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-c", examples()[name]], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
