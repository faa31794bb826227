"""Hostile policy YAML: alias bombs, deep nesting and duplicated keys are refused with exit 2 and a line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.policy import PolicyError, load_policy
from tests.conftest import DEFAULT_POLICY

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)]
) + "\n"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("command", [["policy", "lint"], ["policy", "show"]])
def test_alias_bomb_is_refused_quickly_with_exit_2(tmp_path: Path, command: list[str]) -> None:
    p = _write(tmp_path, BOMB)  # 10**9 leaves once expanded
    t0 = time.monotonic()
    res = CliRunner().invoke(main, [*command, str(p)])
    assert time.monotonic() - t0 < 5
    assert res.exit_code == 2, res.output
    assert "alias" in res.output and f"{p}:" in res.output
    assert "Traceback" not in res.output


def test_alias_bomb_refused_by_run_before_any_output(tmp_path: Path) -> None:
    p = _write(tmp_path, BOMB)
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "hello"}\n')
    res = CliRunner().invoke(main, ["run", "-p", str(p), "-i", str(data), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "alias" in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_is_refused_without_recursion_error(tmp_path: Path, opener: str, closer: str) -> None:
    p = _write(tmp_path, "name: x\nextra: " + opener * 20000 + closer * 20000 + "\n")
    with pytest.raises(PolicyError) as err:
        load_policy(p)
    assert "nested more than" in str(err.value) and ":2:" in str(err.value)
    res = CliRunner().invoke(main, ["policy", "lint", str(p)])
    assert res.exit_code == 2 and "RecursionError" not in res.output


def test_duplicated_top_level_key_is_an_error(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    # a second routing block that would send everything to fine-tuning if it silently won
    text += "\nrouting:\n  default: finetune\n"
    p = _write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(p)
    msg = str(err.value)
    assert "duplicate key 'routing'" in msg
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("routing:"))
    assert f"first given on line {first}" in msg


def test_duplicated_nested_key_is_an_error(tmp_path: Path) -> None:
    p = _write(tmp_path, "version: 1\nname: x\ndetection:\n  threshold: 0.5\n  threshold: 1.0\n"
                         "routing:\n  default: quarantine\n")
    with pytest.raises(PolicyError, match=r":5: detection.threshold: duplicate key"):
        load_policy(p)


def test_small_aliases_still_load(tmp_path: Path) -> None:
    # anchors and aliases are legitimate YAML; only exponential expansion is refused
    p = _write(tmp_path, "version: 1\nname: x\ndetection: {entities: [PERSON]}\nactions: {DEFAULT: {operator: redact}}\n"
                         "routing: {default: {route: quarantine, reason: r}}\n"
                         "access:\n  roles:\n    a: &labels [public]\n    b: *labels\n")
    loaded = load_policy(p)
    assert loaded.policy.access.roles["b"] == ["public"]
