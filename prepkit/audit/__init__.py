"""Tamper-evident audit log: append-only JSON lines, hash-chained, HMAC'd per entry when a key is configured.

Every entry holds `prev` (the previous entry's hash) and `hash` = sha256 over the entry's canonical JSON (sorted
keys, compact separators) without `hash` and `hmac`; `hmac` is HMAC-SHA256 over the same bytes with the subkey
`keyring.derive("audit-hmac")`. The chain runs across runs: opening an existing log continues from its last entry.

What the chain catches and what it cannot:
- edits, deletions, insertions, reorderings inside the file: the hash chain, seq numbers and HMACs;
- a run cut short: every run ends with a `run_end` entry holding the run's entry count and the chain head;
- whole runs removed from the tail: only the checkpoint kept outside the log (the run manifest), Ed25519-signed
  when a signing key is configured — the signing key is separate from the HMAC key so a holder of the data key
  cannot forge checkpoints;
- an attacker without the HMAC key who rewrites the chain from some entry on: the HMACs (and the checkpoint).

One module per job: `fields` (what an entry may hold: never a raw value), `signing` (Ed25519 checkpoint keys),
`log` (the writer, torn-tail recovery), `verify` (reading and checking), `export` (filters, CSV, text lines).
"""

from prepkit.audit.export import CSV_COLUMNS, csv_row, select_entries, text_line
from prepkit.audit.fields import (
    FORMAT_VERSION,
    GENESIS,
    HMAC_PURPOSE,
    RESERVED,
    SAFE_STRING_KEYS,
    SAFE_SUFFIXES,
    AuditError,
    AuditFieldError,
    ProblemKind,
    canonical,
    check_fields,
    clean_fields,
    entry_hash,
)
from prepkit.audit.log import AuditLog, recover_torn_tail
from prepkit.audit.signing import (
    load_public_key,
    load_signing_key,
    sign_checkpoint,
    signing_key_from_env,
    write_signing_key,
)
from prepkit.audit.verify import VerifyReport, load_checkpoint, read_entries, verify

__all__ = [
    "CSV_COLUMNS", "FORMAT_VERSION", "GENESIS", "HMAC_PURPOSE", "RESERVED", "SAFE_STRING_KEYS", "SAFE_SUFFIXES",
    "AuditError", "AuditFieldError", "AuditLog", "ProblemKind", "VerifyReport", "canonical", "check_fields",
    "clean_fields", "csv_row", "entry_hash", "load_checkpoint", "load_public_key", "load_signing_key",
    "read_entries", "recover_torn_tail", "select_entries", "sign_checkpoint", "signing_key_from_env", "text_line",
    "verify", "write_signing_key",
]
