"""STUB owned by the audit helper; replaced by the real hash-chained log. Interface only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prepkit.keys import KeyRing
from prepkit.records import Result


class AuditLog:
    def __init__(self, path: str | Path, *, keyring: KeyRing | None, run_id: str, policy: dict[str, str],
                 versions: dict[str, str]) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.policy = policy
        self.versions = versions
        self._f = self.path.open("a", encoding="utf-8")
        self.count = 0

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        entry = {"event": event, "run_id": self.run_id, **fields}
        self._f.write(json.dumps(entry, sort_keys=True) + "\n")
        self.count += 1
        return entry

    def record(self, result: Result) -> None:
        r = result.record
        self.append("record", record_id=r.id, source=r.source, input_sha256=r.input_sha256,
                    entities=result.entity_counts, operators=result.operators, route=str(result.decision.route),
                    reason=result.decision.reason, verification="passed" if result.verification.passed else "failed",
                    policy=self.policy)

    def close(self, **fields: Any) -> dict[str, Any]:
        self.append("run_end", **fields)
        self._f.close()
        return {"entries": self.count}
