"""What a finished run should tell its operator beyond the counts, and the `--fail-on` conditions a pipeline can
turn into a failing exit code. Both read only the run summary (summary.json), so they say the same thing as the
summary, the report and the audit log's run_end.
"""

from __future__ import annotations

from typing import Any

# --fail-on NAME → (test on the summary, what it means); exit code EXIT_FAIL_ON when any named one holds
FAIL_ON: dict[str, str] = {
    "empty-finetune": "the fine-tune set is empty",
    "any-rejection": "an input record was rejected (unreadable; such a run exits 2 in any case)",
    "any-quarantine": "a record was quarantined",
}
EXIT_FAIL_ON = 1  # "the command found what it checks for", as `scan` finding PII


def _routes(summary: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in (summary.get("routes") or {}).items()}


def failed_conditions(summary: dict[str, Any], conditions: list[str]) -> list[str]:
    """The `--fail-on` conditions that hold for this run, in the order given."""
    routes = _routes(summary)
    holds = {"empty-finetune": routes.get("finetune", 0) == 0,
             "any-rejection": routes.get("rejected", 0) > 0,
             "any-quarantine": routes.get("quarantine", 0) > 0}
    return [c for c in conditions if holds[c]]


def warnings_for(summary: dict[str, Any], *, out: str, cache: bool) -> list[str]:
    """One line each, for stderr; empty when the run went as a run should."""
    routes = _routes(summary)
    n = int(summary.get("records_in") or 0)
    lines: list[str] = []
    if summary.get("interrupted"):
        again = (f"run again with --resume to continue (records already done come from {out}/.cache)" if cache
                 else "run again to process every record (without --no-cache, --resume can continue instead)")
        lines.append(f"interrupted — the outputs hold only the records processed so far; {again}")
    if n == 0:
        lines.append("no input records: the inputs held no file prepkit reads (.jsonl, .csv, .parquet, .txt, .md) "
                     "or only empty ones")
    elif routes.get("rejected", 0) == n:
        lines.append(f"every input record was rejected ({n}): nothing was processed; the reasons are in "
                     f"{out}/rejected.jsonl")
    if n and routes.get("finetune", 0) == 0 and routes.get("rejected", 0) < n:
        withheld: dict[str, int] = (summary.get("finetune") or {}).get("withheld") or {}
        if withheld:
            why = ", ".join(f"{k} {v}" for k, v in sorted(withheld.items(), key=lambda kv: -kv[1]))
            lines.append(f"the fine-tune set is empty: the {sum(withheld.values())} record(s) routed to it were all "
                         f"withheld by its filters ({why}; see finetune/README.md)")
        else:
            lines.append("the fine-tune set is empty: no record was routed to fine-tuning (see the decision reasons "
                         "in report.html)")
    return lines
