"""Quarantine: records a human must review. The one output that keeps raw text: owner-only, and every entry is
encrypted with a subkey of the master key (AES-256-GCM), so the file is readable only through `prepkit review`
and `prepkit quarantine show` with the key.

Each line is `{"v": 1, "nonce": ..., "ct": ...}`. The nonce is an HMAC of the plaintext under a second subkey
(a synthetic IV, as in SIV): the same record and key give the same line, so outputs stay byte-identical across
runs and worker counts, and equal lines reveal only that two entries are equal. The nonce, in hex, is also the
entry's queue id (`qid`): it names an entry without saying anything about it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from prepkit.errors import PrepkitError
from prepkit.keys import KeyRing
from prepkit.records import Record, Rejected, Result, Segment, Transformed
from prepkit.sinks.files import JsonlSink, dumps

QUARANTINE_FILE = Path("quarantine") / "records.jsonl"
DECISIONS_FILE = Path("quarantine") / "decisions.jsonl"
ENC_PURPOSE = "quarantine-aead"
NONCE_PURPOSE = "quarantine-nonce"
_AAD = b"prepkit-quarantine-v1"


class QuarantineError(PrepkitError):
    """The quarantine file cannot be read: missing, malformed or another key. Messages name file and line only."""


class QuarantineCipher:
    def __init__(self, keyring: KeyRing) -> None:
        self._aead = AESGCM(keyring.derive(ENC_PURPOSE))
        self._nonce_key = keyring.derive(NONCE_PURPOSE)

    def seal(self, entry: dict[str, Any]) -> dict[str, Any]:
        plain = dumps(entry).encode()
        nonce = hmac.new(self._nonce_key, plain, hashlib.sha256).digest()[:12]
        ct = self._aead.encrypt(nonce, plain, _AAD)
        return {"v": 1, "nonce": base64.b64encode(nonce).decode(), "ct": base64.b64encode(ct).decode()}

    def open(self, line: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(qid, entry); raises ValueError when the line is not ours or the key is another one."""
        try:
            nonce = base64.b64decode(line["nonce"], validate=True)
            ct = base64.b64decode(line["ct"], validate=True)
            plain = self._aead.decrypt(nonce, ct, _AAD)
        except (KeyError, TypeError, binascii.Error) as e:
            raise ValueError(f"not an encrypted quarantine entry ({type(e).__name__})") from None
        except InvalidTag:
            raise ValueError("cannot be decrypted with this key (wrong key, or the entry was altered)") from None
        return nonce.hex(), json.loads(plain)


@dataclass(frozen=True)
class QuarantineEntry:
    qid: str
    data: dict[str, Any]

    @property
    def record_id(self) -> str:
        return str(self.data["id"])

    def to_record(self) -> Record:
        """The record as it was read (raw text), rebuilt from the entry."""
        d = self.data
        shape = d["record"]
        msgs = iter(shape.get("messages") or [])
        segs = []
        for s in d.get("segments") or []:
            text = next(msgs)["content"] if s.get("role") is not None else shape[s["key"]]
            segs.append(Segment(s["key"], text, s.get("role")))
        return Record(d["id"], d["source"], d.get("kind") or "text", segs, d.get("metadata") or {}, d.get("line"),
                      d.get("input_sha256") or "")

    def transformed(self) -> Transformed | None:
        t = self.data.get("transformed")
        if not t:
            return None
        return Transformed(list(t["texts"]), [], list(t.get("subject_hashes") or []))


def read_quarantine(out_dir: Path, keyring: KeyRing) -> list[QuarantineEntry]:
    """Every entry of OUT/quarantine/records.jsonl, decrypted, in file order."""
    path = Path(out_dir) / QUARANTINE_FILE
    if not path.is_file():
        raise QuarantineError(f"{path}: no quarantine file (is {out_dir} the output folder of `prepkit run`?)")
    cipher = QuarantineCipher(keyring)
    out: list[QuarantineEntry] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                qid, data = cipher.open(obj)
            except ValueError as e:
                msg = str(e) if "decrypt" in str(e) or "encrypted" in str(e) else "not a JSON line"
                raise QuarantineError(f"{path}:{n}: {msg}") from None
            out.append(QuarantineEntry(qid, data))
    return out


def record_shape(record: Record, texts: list[str] | None = None) -> dict[str, Any]:
    """The record in its input shape (chat stays chat, a row stays a row), with `texts` replacing segment texts."""
    texts = texts if texts is not None else [s.text for s in record.segments]
    if record.kind == "chat":
        msgs = [{"role": s.role, "content": t} for s, t in zip(record.segments, texts, strict=True)
                if s.role is not None]
        out: dict[str, Any] = {"messages": msgs}
        extra = {s.key: t for s, t in zip(record.segments, texts, strict=True) if s.role is None}
        out.update(extra)
        return out
    return {s.key: t for s, t in zip(record.segments, texts, strict=True)}


class QuarantineWriter:
    def __init__(self, out_dir: Path, keyring: KeyRing) -> None:
        self.sink = JsonlSink(out_dir / QUARANTINE_FILE)
        self.cipher = QuarantineCipher(keyring)
        # Review decisions belong to the entries of the run that wrote them; this run writes new entries.
        (out_dir / DECISIONS_FILE).unlink(missing_ok=True)

    def add(self, result: Result) -> None:
        r = result.record
        t = result.transformed
        self.sink.write(self.cipher.seal({
            "id": r.id, "source": r.source, "line": r.line, "input_sha256": r.input_sha256,
            "reason": result.decision.reason, "rule": result.decision.rule, "error": result.error,
            "verification": {"passed": result.verification.passed,
                             "failures": [{"check": f.check, "entity_type": f.entity_type, "segment": f.segment}
                                          for f in result.verification.failures]},
            "findings": [{"segment": f.segment, "start": f.start, "end": f.end, "entity_type": f.entity_type,
                          "score": f.score} for f in result.findings],
            "record": record_shape(r), "metadata": r.metadata, "kind": r.kind,
            "segments": [{"key": sg.key, "role": sg.role} for sg in r.segments],
            "labels": list(result.decision.labels),
            # The anonymised text the run made, for a reviewer who releases or edits it; None when it failed.
            "transformed": {"texts": t.texts, "subject_hashes": t.subject_hashes,
                            "applied": [{"segment": a.segment, "start": a.start, "end": a.end,
                                         "entity_type": a.entity_type, "operator": a.operator} for a in t.applied]}
            if t is not None else None,
        }))

    def close(self) -> int:
        self.sink.close()
        return self.sink.count


def remove_quarantined(out_dir: Path, ids: set[str], keyring: KeyRing) -> int:
    """Remove the quarantined records whose id is in `ids` (an erasure); returns how many were removed. Entries
    are decrypted to read their id; one that cannot be is kept (it is not provably the subject's). The file is
    rewritten under a temporary name and renamed into place."""
    import os

    path = Path(out_dir) / QUARANTINE_FILE
    if not path.is_file() or not ids:
        return 0
    cipher = QuarantineCipher(keyring)
    kept: list[bytes] = []
    removed = 0
    with path.open("rb") as f:
        for line in f:
            try:
                _, data = cipher.open(json.loads(line))
                rid = data.get("id")
            except (ValueError, AttributeError, TypeError, KeyError):
                rid = None
            if rid in ids:
                removed += 1
            else:
                kept.append(line)
    if removed:
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.writelines(kept)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    return removed


class RejectedWriter:
    def __init__(self, out_dir: Path) -> None:
        self.sink = JsonlSink(out_dir / "rejected.jsonl")

    def add(self, rej: Rejected) -> None:
        self.sink.write({"file": rej.source, "line": rej.line, "field": rej.field, "reason": rej.reason,
                         "raw_sha256": rej.raw_sha256})

    def close(self) -> int:
        self.sink.close()
        return self.sink.count
