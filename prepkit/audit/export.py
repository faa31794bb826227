"""Reviewing and exporting audit entries: filters, one CSV row per entry for compliance tooling, and a terminal line
for a reviewer."""

from __future__ import annotations

import json
from typing import Any


def select_entries(entries: list[dict[str, Any]], *, record_id: str | None = None, run_id: str | None = None,
                   event: str | None = None) -> list[dict[str, Any]]:
    return [e for e in entries
            if (record_id is None or e.get("record_id") == record_id)
            and (run_id is None or e.get("run_id") == run_id)
            and (event is None or e.get("event") == event)]


CSV_COLUMNS = ("seq", "ts", "run_id", "event", "record_id", "source", "line", "input_sha256", "route", "reason",
               "rule", "labels", "entities", "operators", "verification_passed", "verification_failures", "error",
               "policy_name", "policy_version", "policy_sha256", "prepkit_version", "other", "prev", "hash", "hmac")
_CSV_DIRECT = {"seq", "ts", "run_id", "event", "record_id", "source", "line", "input_sha256", "route", "reason",
               "rule", "error", "prev", "hash", "hmac"}
_CSV_CONSUMED = _CSV_DIRECT | {"labels", "entities", "operators", "verification", "policy", "versions", "v"}


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _counts(d: Any) -> str:
    return ";".join(f"{k}={v}" for k, v in d.items()) if isinstance(d, dict) else ""


def csv_row(e: dict[str, Any]) -> dict[str, Any]:
    """One flat row per entry, for compliance tooling; nested counts become `TYPE=n;TYPE=n`."""
    row: dict[str, Any] = {k: e.get(k, "") for k in _CSV_DIRECT}
    ver, pol, vers = _dict(e.get("verification")), _dict(e.get("policy")), _dict(e.get("versions"))
    row.update({
        "labels": ";".join(map(str, e.get("labels") or [])),
        "entities": _counts(e.get("entities")),
        "operators": _counts(e.get("operators")),
        "verification_passed": "" if "passed" not in ver else str(bool(ver["passed"])).lower(),
        "verification_failures": ";".join(f"{f.get('check')}:{f.get('entity_type')}"
                                          for f in ver.get("failures", []) if isinstance(f, dict)),
        "policy_name": pol.get("name", ""), "policy_version": pol.get("version", ""),
        "policy_sha256": pol.get("sha256", ""), "prepkit_version": vers.get("prepkit", ""),
        "other": json.dumps({k: v for k, v in e.items() if k not in _CSV_CONSUMED}, sort_keys=True,
                            separators=(",", ":")),
    })
    return row


def text_line(e: dict[str, Any]) -> str:
    """One line per entry for a reviewer's terminal: what happened to which record and why."""
    head = f"{e.get('seq', '?'):>6} {e.get('ts', '')} {e.get('event', '?'):<10}"
    ev = e.get("event")
    if ev == "record":
        ver = _dict(e.get("verification"))
        vtxt = "verified" if ver.get("passed", True) else "VERIFY-FAILED " + ",".join(
            f"{f.get('check')}:{f.get('entity_type')}" for f in ver.get("failures", []) if isinstance(f, dict))
        loc = f"{e.get('source', '')}" + (f":{e['line']}" if e.get("line") is not None else "")
        return (f"{head} {e.get('record_id', '')} [{loc}] -> {e.get('route', '')} ({e.get('reason', '')}) "
                f"entities[{_counts(e.get('entities')) or '-'}] ops[{_counts(e.get('operators')) or '-'}] {vtxt}"
                + (f" error={e['error']}" if e.get("error") else ""))
    skip = {"seq", "ts", "event", "prev", "hash", "hmac", "v", "policy", "versions"}
    rest = " ".join(f"{k}={json.dumps(v, sort_keys=True, separators=(',', ':'))}"
                    for k, v in e.items() if k not in skip)
    if ev == "run_start" and isinstance(e.get("policy"), dict):
        pol = e["policy"]
        rest += f" policy={pol.get('name')}@{pol.get('version')} sha256={str(pol.get('sha256', ''))[:12]}"
    return f"{head} {rest}"
