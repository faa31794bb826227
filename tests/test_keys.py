"""Keys: keygen, loading precedence, secrecy; reidentify for key holders only (real CLI, real files)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.keys import KeyError_, KeyRing, load_keyring
from prepkit.policy import load_policy
from prepkit.records import Finding, Record, Segment
from prepkit.transform import Transformer

POLICY = """
version: 1
name: k
detection: {entities: [PERSON]}
routing: {default: {route: quarantine, reason: r}}
actions: {DEFAULT: {operator: encrypt}}
"""


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("PREPKIT_KEY_FILE", raising=False)
    monkeypatch.delenv("PREPKIT_KEY", raising=False)
    return CliRunner()


def test_keygen_writes_0600_refuses_overwrite_never_prints_key(tmp_path: Path, runner: CliRunner) -> None:
    kf = tmp_path / "sub" / "dev.key"
    res = runner.invoke(main, ["keygen", str(kf)])
    assert res.exit_code == 0 and str(kf) in res.output
    key = kf.read_text().strip()
    assert stat.S_IMODE(kf.stat().st_mode) == 0o600 and len(bytes.fromhex(key)) == 32
    assert key not in res.output
    again = runner.invoke(main, ["keygen", str(kf)])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output and key not in again.output
    assert kf.read_text().strip() == key


def test_environment_wins_and_errors_never_show_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.key", tmp_path / "b.key"
    a.write_text("11" * 32)
    b.write_text("22" * 32)
    monkeypatch.delenv("PREPKIT_KEY", raising=False)
    monkeypatch.setenv("PREPKIT_KEY_FILE", str(a))
    ring = load_keyring(str(b))
    assert ring is not None and ring.master == bytes.fromhex("11" * 32)
    assert "11" * 32 not in repr(Transformer(_policy(tmp_path), ring).shared.keys)
    monkeypatch.delenv("PREPKIT_KEY_FILE")
    monkeypatch.setenv("PREPKIT_KEY", "short")
    with pytest.raises(KeyError_) as e:
        load_keyring(None)
    assert "short" not in str(e.value) and "PREPKIT_KEY" in str(e.value)


def _policy(tmp_path: Path):  # type: ignore[no-untyped-def]
    p = tmp_path / "enc.yaml"
    p.write_text(POLICY)
    return load_policy(p)


def _encrypted_jsonl(tmp_path: Path, key: KeyRing) -> tuple[Path, list[str]]:
    t = Transformer(_policy(tmp_path), key)
    lines, originals = [], []
    for i, name in enumerate(["Maria Lopez", "Ben Okafor", "Zoë Ångström"]):
        text = f"ticket from {name} about billing"
        out = t.transform(Record(str(i), "s", "text", [Segment("text", text)]), [Finding(0, 12, 12 + len(name), "PERSON", 0.9)])
        lines.append(json.dumps({"id": i, "text": out.texts[0]}))  # ASCII-escaped tokens, as json.dumps writes them
        originals.append(text)
    f = tmp_path / "out.jsonl"
    f.write_text("\n".join(lines) + "\n")
    return f, originals


def test_reidentify_reverses_tokens_with_the_key(tmp_path: Path, runner: CliRunner) -> None:
    kf = tmp_path / "k.key"
    kf.write_text("ab" * 32)
    f, originals = _encrypted_jsonl(tmp_path, KeyRing.from_file(kf))
    assert "Maria" not in f.read_text()
    res = runner.invoke(main, ["reidentify", "--key-file", str(kf), str(f)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert [r["text"] for r in rows] == originals and [r["id"] for r in rows] == [0, 1, 2]
    out = tmp_path / "plain.jsonl"
    res = runner.invoke(main, ["reidentify", "--key-file", str(kf), "--out", str(out), str(f)])
    assert res.exit_code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == originals
    txt = tmp_path / "notes.txt"
    txt.write_text("\n".join(json.loads(x)["text"] for x in f.read_text().splitlines()))
    res = runner.invoke(main, ["reidentify", "--key-file", str(kf), str(txt)])
    assert res.exit_code == 0 and res.stdout.splitlines() == originals


def test_reidentify_refuses_without_or_with_wrong_key(tmp_path: Path, runner: CliRunner) -> None:
    kf, other = tmp_path / "k.key", tmp_path / "other.key"
    kf.write_text("ab" * 32)
    other.write_text("cd" * 32)
    f, _ = _encrypted_jsonl(tmp_path, KeyRing.from_file(kf))
    res = runner.invoke(main, ["reidentify", str(f)])
    assert res.exit_code == 2 and "no key" in res.output and "Maria" not in res.output
    res = runner.invoke(main, ["reidentify", "--key-file", str(other), str(f)])
    assert res.exit_code == 2 and "line 1" in res.output and KeyRing.from_file(kf).key_id in res.output
    assert "Maria" not in res.output and "cd" * 32 not in res.output
    res = runner.invoke(main, ["reidentify", "--key-file", str(tmp_path / "missing.key"), str(f)])
    assert res.exit_code == 2 and "does not exist" in res.output
    tampered = tmp_path / "tampered.jsonl"
    lines = f.read_text().splitlines()
    row = json.loads(lines[1])
    row["text"] = row["text"].replace("\u27e7", "x\u27e7")  # one extra ciphertext character
    tampered.write_text("\n".join([lines[0], json.dumps(row), lines[2]]) + "\n")
    out = tmp_path / "plain.jsonl"
    res = runner.invoke(main, ["reidentify", "--key-file", str(kf), "--out", str(out), str(tampered)])
    assert res.exit_code == 2 and "line 2" in res.output and not os.path.exists(out)  # nothing half-written
