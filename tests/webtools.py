"""Helpers for the web tests: a free port, the real CLI in a subprocess, a small run with quarantined records."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# Chats a run with the default policy routes: two quarantined (a government id, a bank id), two to fine-tuning.
SSN_VALUE = "536-22-8471"
IBAN_VALUE = "DE89 3704 0044 0532 0130 00"
CHATS = [
    {"id": "t-ssn", "messages": [
        {"role": "user", "content": f"Hi, this is Maria Gonzalez. My SSN is {SSN_VALUE} and my address changed."},
        {"role": "assistant", "content": "Thanks, I have updated the address on file."}]},
    {"id": "t-iban", "messages": [
        {"role": "user", "content": f"Please refund to IBAN {IBAN_VALUE}, account of Peter Novak."},
        {"role": "assistant", "content": "The refund has been scheduled for Friday."}]},
    {"id": "t-ok1", "messages": [
        {"role": "user", "content": "How do I reset my password on the portal?"},
        {"role": "assistant", "content": "Open the portal, choose Forgot password and follow the e-mail link."}]},
    {"id": "t-ok2", "messages": [
        {"role": "user", "content": "The export to CSV fails with a timeout."},
        {"role": "assistant", "content": "Try a smaller date range; large exports time out after two minutes."}]},
]


def make_run(tmp: Path) -> Path:
    """A real `prepkit run` (default policy) over CHATS; returns OUT."""
    from prepkit.runner import RunConfig, run

    inp = tmp / "chats.jsonl"
    inp.write_text("".join(json.dumps(c) + "\n" for c in CHATS), encoding="utf-8")
    out = tmp / "out"
    outcome = run(RunConfig(policy=ROOT / "policies" / "default.yaml", inputs=[inp], out=out))
    assert outcome.summary["routes"]["quarantine"] == 2, outcome.summary["routes"]
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], port: int, env: dict[str, str] | None = None,
          ready: str = "/v1/health") -> subprocess.Popen[bytes]:
    """`prepkit ARGS` in a subprocess; returns once GET `ready` answers (any status but a refused connection)."""
    proc = subprocess.Popen([sys.executable, "-c", "from prepkit.cli import main; main()", *args],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not answer within 120 s")


def stop(proc: subprocess.Popen[bytes]) -> str:
    """Stop the server; returns what it printed on stderr."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode()


def copy_run(template: Path, tmp: Path) -> Path:
    """A private copy of a run folder, for a test that changes it."""
    import shutil

    return Path(shutil.copytree(template, tmp / "out"))


def start_review(out: Path, extra: list[str] | None = None,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """`prepkit review OUT` on a free port; returns the process and the printed URL (with its token)."""
    port = free_port()
    proc = start(["review", str(out), "--policy", str(ROOT / "policies" / "default.yaml"), "--port", str(port),
                  *(extra or [])], port, env=env, ready="/queue")
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    text = ""
    deadline = time.monotonic() + 10
    while "token=" not in text and time.monotonic() < deadline:
        chunk = proc.stderr.read()
        text += chunk.decode() if chunk else ""
        time.sleep(0.05)
    os.set_blocking(proc.stderr.fileno(), True)
    m = re.search(r"(http://127\.0\.0\.1:\d+/queue\?token=\S+)", text)
    assert m, text
    return proc, m.group(1)


def audit_entries(out: Path, event: str) -> list[dict]:
    return [e for e in map(json.loads, (out / "audit.jsonl").read_text().splitlines()) if e["event"] == event]
