"""Field safety for audit entries: what may be written (never a raw value), and the canonical bytes that are hashed.

`clean_fields` enforces it structurally: numbers and booleans are allowed anywhere, but a string may only sit under
a key known to hold identifiers, hashes, types or policy-defined text (see `SAFE_STRING_KEYS`); anything else raises
`AuditFieldError`, so a free-text field cannot slip in by accident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import PurePath
from typing import Any, Literal

from prepkit.errors import PrepkitError

HMAC_PURPOSE = "audit-hmac"
GENESIS = "0" * 64
FORMAT_VERSION = 1

# Keys whose string values are safe: identifiers, hashes, enum-like types, file locations and policy-defined
# text (routing reasons are written by the policy author, not taken from the data). Keys ending in one of
# SAFE_SUFFIXES are safe too. Everything else may hold only numbers, booleans or None.
SAFE_STRING_KEYS = frozenset({
    "event", "run_id", "ts", "prev", "hash", "hmac", "key_id",
    "record_id", "source", "kind", "route", "reason", "rule", "labels", "label", "status", "error",
    "operator", "operators", "check", "checks", "entity_type", "entity_types", "types", "detector",
    "name", "version", "sha256", "policy", "versions", "prepkit", "presidio", "spacy_model", "model",
    "store", "backend", "collection", "role", "roles", "previous_roles", "mode", "engine", "command", "format", "formats",
    "inputs", "input", "out", "output", "out_dir", "file", "files", "split", "result", "action", "head",
    "field", "fields", "column", "columns", "text_field", "id_field", "scope",
    # The question text of a RAG query, written only when the policy opts in (outputs.rag.store_query_text);
    # the caller checks the policy, as the question is the user's, not the corpus's.
    "query_text",
    # People who decide: a reviewer of quarantined records, an approver of a policy (prepkit review / approve).
    "reviewer", "approver",
})
SAFE_SUFFIXES = ("_id", "_ids", "_sha256", "_hash", "_hashes", "_path", "_paths", "_version", "_type", "_types",
                 "_route", "_reason", "_status", "_at")
RESERVED = frozenset({"seq", "ts", "run_id", "event", "policy", "versions", "prev", "hash", "hmac", "v"})

ProblemKind = Literal["edited", "deleted", "inserted", "reordered", "truncated", "bad_hmac", "bad_signature",
                      "malformed", "checkpoint_mismatch"]


class AuditError(PrepkitError):
    """The audit log cannot be opened, read or appended to. Messages name the file, never an entry's content."""


class AuditFieldError(AuditError, ValueError):
    """A field would put free text (possibly a raw value) into the audit log."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k not in ("hash", "hmac")}
    return hashlib.sha256(canonical(body)).hexdigest()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _string_safe(key: str) -> bool:
    return key in SAFE_STRING_KEYS or key.endswith(SAFE_SUFFIXES)


def clean_fields(fields: dict[str, Any], _path: str = "", _safe: bool = False) -> dict[str, Any]:
    """A JSON-ready copy of `fields` (sets become sorted lists, tuples lists, paths strings), or AuditFieldError
    if a string sits under a key not known to hold identifiers, hashes or types."""
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if not isinstance(k, str):
            raise AuditFieldError(f"audit field {_path}{k!r}: keys must be strings")
        out[k] = _clean_value(v, f"{_path}{k}", _safe or _string_safe(k))
    return out


def check_fields(fields: dict[str, Any]) -> None:
    clean_fields(fields)


def _clean_value(v: Any, path: str, safe: bool) -> Any:
    if v is None or isinstance(v, bool | int):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise AuditFieldError(f"audit field {path!r}: NaN/infinite numbers cannot be hashed canonically")
        return v
    if isinstance(v, str | PurePath):
        if not safe:
            raise AuditFieldError(
                f"audit field {path!r} would hold free text; audit entries hold only ids, hashes, types and "
                "counts (pass a sha256 or a count, or use a field named *_id / *_sha256 / *_type)"
            )
        return str(v)
    if isinstance(v, set | frozenset):
        v = sorted(v, key=lambda x: (type(x).__name__, str(x)))  # canonical order
    if isinstance(v, list | tuple):
        return [_clean_value(item, f"{path}[{i}]", safe) for i, item in enumerate(v)]
    if isinstance(v, dict):
        # Dict keys are types or ids (entity types, check names); their values follow the parent's rule.
        return clean_fields(v, f"{path}.", safe)
    raise AuditFieldError(f"audit field {path!r}: type {type(v).__name__} is not allowed (JSON scalars, lists, dicts)")
