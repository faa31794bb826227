"""Keys: keygen, loading precedence, secrecy; reidentify for key holders only (real CLI, real files)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.keys import KeyError_, KeyRing, load_keyring, write_key_file
from prepkit.policy import load_policy
from prepkit.records import Finding, Record, Segment
from prepkit.transform import Transformer
from tests.conftest import fixed_key

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
    a.write_text(fixed_key("11"))
    b.write_text(fixed_key("22"))
    monkeypatch.delenv("PREPKIT_KEY", raising=False)
    monkeypatch.setenv("PREPKIT_KEY_FILE", str(a))
    ring = load_keyring(str(b))
    assert ring is not None and ring.master == bytes.fromhex(fixed_key("11"))
    assert fixed_key("11") not in repr(Transformer(_policy(tmp_path), ring).shared.keys)
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
    kf.write_text(fixed_key("ab"))
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
    kf.write_text(fixed_key("ab"))
    other.write_text(fixed_key("cd"))
    f, _ = _encrypted_jsonl(tmp_path, KeyRing.from_file(kf))
    res = runner.invoke(main, ["reidentify", str(f)])
    assert res.exit_code == 2 and "no key" in res.output and "Maria" not in res.output
    res = runner.invoke(main, ["reidentify", "--key-file", str(other), str(f)])
    assert res.exit_code == 2 and "line 1" in res.output and KeyRing.from_file(kf).key_id in res.output
    assert "Maria" not in res.output and fixed_key("cd") not in res.output
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


# -- malformed and weak keys are refused (issue 15) ---------------------------------------------------------
ED25519_PUB = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHVkZXhhbXBsZWtleWZvcnByZXBraXR0ZXN0aW5nb25seQ "
               "anna@laptop\n")
SCRIPT = "#!/bin/sh\necho deploying\nexport PATH=/usr/local/bin:$PATH\nrm -rf /tmp/build && make all\n"
PEM_PUB = ("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
           "-----END PUBLIC KEY-----\n")


@pytest.mark.parametrize("text", [ED25519_PUB, SCRIPT, PEM_PUB, "7f 7f 7f", "not a key at all"])
def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path, text: str) -> None:
    kf = tmp_path / "master.key"
    kf.write_text(text)
    with pytest.raises(KeyError_, match="not a prepkit key") as err:
        KeyRing.from_file(kf)
    assert str(kf) in str(err.value)


@pytest.mark.parametrize("value", ["aaaaaaaaaaaaaaaaaaaaaaaa", "00" * 32, "7f" * 32,
                                   "0123456789abcdef" * 4, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
def test_low_entropy_keys_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.delenv("PREPKIT_KEY_FILE", raising=False)
    monkeypatch.setenv("PREPKIT_KEY", value)
    with pytest.raises(KeyError_, match="not random|too short") as err:
        load_keyring()
    assert value not in str(err.value) and "PREPKIT_KEY" in str(err.value)


def test_weak_key_refused_by_run_with_exit_2(tmp_path: Path, runner: CliRunner) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "hello"}\n')
    (tmp_path / "p.yaml").write_text(POLICY)
    res = runner.invoke(main, ["run", "-p", str(tmp_path / "p.yaml"), "-i", str(data), "-o", str(tmp_path / "o")],
                        env={"PREPKIT_KEY": "00" * 32})
    assert res.exit_code == 2 and "not random" in res.output and "Traceback" not in res.output


def test_generated_keys_and_base64_keys_are_accepted(tmp_path: Path) -> None:
    import base64
    import secrets

    kf = write_key_file(tmp_path / "k.key")
    assert len(KeyRing.from_file(kf).master) == 32
    raw = secrets.token_bytes(32)
    for text in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(), raw.hex().upper()):
        kf2 = tmp_path / "b.key"
        kf2.write_text(text + "\n")
        assert KeyRing.from_file(kf2).master == raw


def test_derived_keys_are_hkdf_of_the_master_per_purpose_and_length() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    ring = KeyRing.from_bytes(bytes(range(32)))
    for purpose, length in [("subject", 32), ("subject", 16), ("surrogate", 32), ("subject", 32)]:
        expect = HKDF(hashes.SHA256(), length, salt=b"prepkit-v1", info=purpose.encode()).derive(ring.master)
        assert ring.derive(purpose, length) == expect  # the same whether derived now or remembered
    assert "_derived" not in repr(ring) and bytes(range(32)).hex() not in repr(ring)
