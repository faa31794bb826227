"""`prepkit run` and `prepkit scan`."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

from prepkit.cli.base import EXIT_ERROR, EXIT_FOUND, EXIT_OK, fail, format_option, main
from prepkit.cli.options import engine_options, input_options
from prepkit.errors import PrepkitError
from prepkit.run_warnings import EXIT_FAIL_ON, FAIL_ON, failed_conditions, warnings_for


@main.command()
@input_options
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Output folder.")
@engine_options
@click.option("--batch-size", type=int, default=64, show_default=True, help="Records per detection batch.")
@click.option("--finetune-format", type=click.Choice(["auto", "chat", "prompt_completion", "text", "parquet"]),
              default=None, help="Override the policy's fine-tune output format.")
@click.option("--rag-url", default=None, help="PostgreSQL URL for the RAG store (default: embedded store).")
@click.option("--sync", is_flag=True, help="Delete RAG chunks of records no longer in the input.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable record (exit 2) instead of rejecting it.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary text.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@click.option("--resume", is_flag=True,
              help="Continue a run that was killed or interrupted: records it finished come from OUT/.cache.")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the per-record result cache in OUT/.cache (recompute everything).")
@click.option("--force", is_flag=True,
              help="Process every record even when OUT is up to date with the same inputs, policy and versions "
                   "(by default such a run only checks that and keeps OUT; cached records are still replayed).")
@click.option("--require-approved", is_flag=True,
              help="Refuse (exit 2) a policy whose sha256 has no approval signed with the audit signing key "
                   "(`prepkit policy approve`).")
@click.option("--approvals", "approvals_file", type=click.Path(dir_okay=False), default=None,
              help="Approvals file for --require-approved (default: POLICY.approvals.json beside the policy).")
@click.option("--fail-on", "fail_on", multiple=True, callback=lambda _c, _p, v: _conditions(v),
              metavar="COND[,COND]",
              help="Exit 1 when a condition holds after the run: " + ", ".join(f"{k} ({v})" for k, v in FAIL_ON.items())
                   + ". Repeat or separate with commas.")
@click.option("--allow-policy-change", is_flag=True,
              help="Write into an OUT an earlier run wrote with another policy (or another version of it): this run's "
                   "records are replaced, the others stay as the old policy left them (--sync deletes those "
                   "no longer in the input). Without it such a run is refused.")
def run(policy: str, inputs: tuple[str, ...], text_field: str | None, id_field: str | None,
        text_columns: tuple[str, ...], spacy_model: str | None, out: str, workers: int | None, engine: str,
        batch_size: int,
        finetune_format: str | None, rag_url: str | None, sync: bool, strict: bool, quiet: bool,
        as_json: bool, resume: bool, no_cache: bool, force: bool, require_approved: bool,
        approvals_file: str | None, fail_on: list[str], allow_policy_change: bool) -> None:
    """Run the whole pipeline: detect, transform, verify, route and write.

    Writes under OUT: finetune/ (train/validation files, card, manifest), rag/ (encrypted store), quarantine/
    (records for human review, the only raw text), rejected.jsonl (unreadable input with file, line, reason),
    audit.jsonl (hash-chained decisions), summary.json, report.html and manifest.json.

    Warnings go to stderr when the fine-tune set is empty, every input was rejected, or the run was interrupted.

    Exit codes: 0 done, 1 a --fail-on condition holds, 2 error (policy, input path, key, an OUT written with
    another policy), any input record rejected (the other records are still processed and written) or counts
    that fail to add up, 130 interrupted. `--input -` reads JSONL (or a JSON array) from standard input.
    """
    from prepkit.io.readers import discover
    from prepkit.runner import RunConfig
    from prepkit.runner import run as do_run

    if require_approved:
        _check_approved(policy, approvals_file)
    workers = _workers(engine, workers, inputs)
    cfg = RunConfig(policy=policy, inputs=list(inputs), out=out, spacy_model=spacy_model, text_field=text_field,
                    id_field=id_field, text_columns=text_columns or None, workers=workers, engine=engine,
                    batch_size=batch_size,
                    strict=strict, finetune_format=finetune_format, rag_url=rag_url, sync=sync,
                    cache=not no_cache, resume=resume, force=force)
    if resume and no_cache:
        fail("--resume needs the result cache; drop --no-cache")
    if not allow_policy_change:
        _refuse_policy_change(Path(out), policy)
    show = not quiet and not as_json and sys.stderr.isatty()
    try:
        total = sum(_size(p) for p, _ in discover(list(inputs), exclude=[out]))
        if show:
            with click.progressbar(length=total, label="prepkit run", file=sys.stderr,
                                   show_percent=True, show_eta=True) as bar:
                outcome = do_run(cfg, progress=bar.update)
                if outcome.summary.get("interrupted"):
                    bar.label = "prepkit run (interrupted)"
                    bar.render_progress()
                else:  # progress counts characters read, the total file bytes: finish the bar at 100%
                    bar.update(max(0, total - bar.pos))
        else:
            outcome = do_run(cfg)
    except PrepkitError:
        raise  # the one CLI handler prints it and exits with its code
    except OSError as e:
        fail(_os_error(e, out))
    except _database_write_errors() as e:
        fail(f"{out}: a database write failed ({type(e).__name__}); the disk may be full: free space and re-run "
             "with --resume to continue")
    s = outcome.summary
    warnings = warnings_for(s, out=str(outcome.out_dir), cache=not no_cache)
    failed = failed_conditions(s, fail_on)
    if as_json:
        click.echo(json.dumps({**s, "warnings": warnings, "fail_on": failed}, indent=2, sort_keys=True))
    elif not quiet:
        _print_summary(s, outcome.out_dir)
    if not quiet:
        for w in warnings:
            click.echo(f"warning: {w}", err=True)
    for c in failed:
        click.echo(f"fail-on {c}: {FAIL_ON[c]}", err=True)
    code = outcome.exit_code
    sys.exit(code if code != EXIT_OK or not failed else EXIT_FAIL_ON)


def _conditions(values: tuple[str, ...]) -> list[str]:
    out = [c.strip() for v in values for c in v.split(",") if c.strip()]
    unknown = [c for c in out if c not in FAIL_ON]
    if unknown:
        raise click.BadParameter(f"unknown condition {', '.join(unknown)}; choose from {', '.join(FAIL_ON)}",
                                 param_hint="--fail-on")
    return list(dict.fromkeys(out))


def _refuse_policy_change(out: Path, policy: str) -> None:
    """An OUT holds one policy's outputs: a run with another would leave the RAG store (and the rest of OUT) mixing
    records anonymized under both without saying so."""
    from prepkit.policy import load_policy

    try:
        before = json.loads((out / "summary.json").read_text(encoding="utf-8")).get("policy") or {}
    except (OSError, ValueError, AttributeError):
        return  # a new OUT (or one no run finished writing): nothing to mix with
    now = load_policy(policy).identity
    if before.get("sha256") and before["sha256"] != now["sha256"]:
        fail(f"{out}: written by policy {before.get('name')} v{before.get('version')} (sha256 "
             f"{str(before['sha256'])[:12]}), this run uses {now['name']} v{now['version']} (sha256 "
             f"{now['sha256'][:12]}); its RAG store and outputs would mix records of both policies. Use a new --out, "
             "or pass --allow-policy-change to write into it anyway (add --sync to delete records of the earlier "
             "run that are not in this input)")


def _database_write_errors() -> tuple[type[BaseException], ...]:
    # The encrypted stores (apsw) and the result cache (sqlite3) report a full disk as their own errors.
    import sqlite3

    import apsw

    return (apsw.FullError, apsw.IOError, sqlite3.OperationalError)


def _os_error(e: OSError, out: str) -> str:
    """One line for an operating-system failure while writing (most often a full disk): what, where, and that a
    re-run with --resume continues. Names the file (a path the user chose), never data."""
    import errno

    where = e.filename or out
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (f"{where}: the disk is full (or a file size limit was reached): {e.strerror}; free space and "
                f"re-run with --resume to continue")
    return f"{where}: {e.strerror or type(e).__name__} (errno {e.errno})"


def _workers(engine: str, workers: int | None, inputs: tuple[str, ...]) -> int | None:
    """Check the engine can run. None (no --workers) lets the engine choose: the local engine measures the work
    and starts a pool when it pays (prepkit.engine.auto), Ray uses the core count."""
    if engine == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            fail("--engine ray needs Ray Data: pip install 'prepkit[ray]'")
    return workers


def _size(p: Path) -> int:
    try:  # a broken symlink or FIFO is rejected by the reader; the progress bar just does not count it
        return p.stat().st_size if p.is_file() else 0
    except OSError:
        return 0


def _skipped_sentence(skipped: dict[str, Any] | None) -> str | None:
    from prepkit.io.discover import Inputs

    if not skipped:
        return None
    return Inputs(hidden_files=skipped.get("hidden_files", 0), hidden_folders=skipped.get("hidden_folders", 0),
                  symlinked_folders=skipped.get("symlinked_folders", 0),
                  output_folders=list(skipped.get("output_folders", []))).describe_skipped()


def _print_summary(s: dict[str, Any], out: Path) -> None:
    r = s["routes"]
    c = s["conservation"]
    click.echo(f"policy {s['policy']['name']} v{s['policy']['version']} (sha256 {s['policy']['sha256'][:12]})")
    click.echo(f"{s['records_in']} records in {s['duration_s']:.1f}s: "
               f"finetune {r['finetune']}, rag {r['rag']}, quarantine {r['quarantine']}, drop {r['drop']}, "
               f"rejected {r['rejected']}")
    mark = "ok" if c["ok"] else "MISMATCH"
    click.echo(f"conservation {mark}: {c['records_in']} in = {c['accounted']} accounted for")
    if s.get("up_to_date"):
        click.echo(f"up to date: inputs, policy and versions unchanged since run {s['up_to_date']['same_as']}, "
                   "whose outputs were kept (--force to process again)")
    if s.get("entities_before"):
        ents = ", ".join(f"{k} {v}" for k, v in sorted(s["entities_before"].items(), key=lambda kv: -kv[1]))
        click.echo(f"entities found: {ents}")
    fails = s.get("verification_failures", {}).get("by_check", {})
    if fails:
        click.echo("verification failures: " + ", ".join(f"{k} {v}" for k, v in fails.items()))
    if s.get("rejected_reasons"):
        click.echo(f"rejected: {r['rejected']} input record(s), each with file, line and reason in "
                   f"{out / 'rejected.jsonl'} (exit code 2)", err=True)
    skipped = _skipped_sentence(s.get("skipped"))
    if skipped:
        click.echo(skipped, err=True)
    click.echo(f"outputs in {out}/ (summary.json, report.html, audit.jsonl)")


@main.command()
@input_options
@format_option("text", "json", "jsonl", "csv")
@click.option("--limit", type=int, default=None, help="Stop after N records.")
@engine_options
def scan(policy: str, inputs: tuple[str, ...], text_field: str | None, id_field: str | None,
         text_columns: tuple[str, ...], spacy_model: str | None, fmt: str, limit: int | None,
         workers: int | None, engine: str) -> None:
    """Report PII findings without writing any output.

    --format jsonl prints one line per record: {"id", "source", "line", "findings": [{"start", "end",
    "entity_type", "score", "context"}]} with offsets into that record's text (for chat and tables, each finding
    also names its "segment" key). --format csv prints one row per finding: id, source, line, field, entity_type,
    start, end, score, context. The context is a few words either side with every detected value shown as
    ⟪TYPE⟫ and other digits as #: the output never holds a detected value.

    Exit codes: 0 no PII found, 1 PII found, 2 error (including detection failing for a record and no PII found).
    """
    from prepkit.scan import scan_inputs

    workers = _workers(engine, workers, inputs)
    found_any = False
    summary: dict[str, Any] = {"records": 0, "records_with_pii": 0, "rejected": 0, "failed": 0, "entities": {}}
    lines: list[dict[str, Any]] = []
    csv_out = csv.DictWriter(sys.stdout, fieldnames=SCAN_CSV_COLUMNS, lineterminator="\n")
    if fmt == "csv":
        csv_out.writeheader()
    for item in scan_inputs(policy, list(inputs), text_field=text_field, id_field=id_field,
                            text_columns=text_columns or None, spacy_model=spacy_model, limit=limit,
                            workers=workers, engine=engine):
        if "rejected" in item:
            summary["rejected"] += 1
            click.echo(f"rejected: {item['rejected']}", err=True)
            continue
        summary["records"] += 1
        if item.get("error"):  # detection failed: no findings here does not mean no PII
            summary["failed"] += 1
            click.echo(f"detection failed for record {item['id']}: {item['error']}", err=True)
        if item["findings"]:
            found_any = True
            summary["records_with_pii"] += 1
            for f in item["findings"]:
                summary["entities"][f["entity_type"]] = summary["entities"].get(f["entity_type"], 0) + 1
        if fmt == "jsonl":
            click.echo(json.dumps(item, ensure_ascii=False))
        elif fmt == "json":
            lines.append(item)
        elif fmt == "csv":
            for row in _csv_rows(item):
                csv_out.writerow(row)
        else:
            _echo_findings(item)
    if fmt == "json":
        click.echo(json.dumps({"summary": summary, "records": lines}, indent=2, ensure_ascii=False))
    elif fmt == "text":
        click.echo(f"{summary['records']} records, {summary['records_with_pii']} with PII, "
                   f"{summary['rejected']} rejected" + (f", {summary['failed']} failed" if summary["failed"] else ""))
    sys.exit(EXIT_FOUND if found_any else EXIT_ERROR if summary["failed"] else EXIT_OK)


def _check_approved(policy: str, approvals_file: str | None) -> None:
    """--require-approved: exit 2 unless the policy's exact sha256 has a validly signed approval."""
    from prepkit.approvals import approved, default_path
    from prepkit.policy import load_policy

    loaded = load_policy(policy, run_checks=False)
    found = approved(loaded, approvals_file)
    if not found:
        where = approvals_file or default_path(policy)
        fail(f"{policy}: policy sha256 {loaded.sha256[:12]}… has no approval signed with the audit signing key in "
             f"{where}; approve it with `prepkit policy approve {policy} --by NAME`")

SCAN_CSV_COLUMNS = ["id", "source", "line", "field", "entity_type", "start", "end", "score", "context", "error"]


def _csv_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per finding; a record whose detection failed gets one row with the error (no findings there does
    not mean no PII)."""
    base = {"id": item["id"], "source": item["source"], "line": item.get("line", "")}
    rows = [{**base, "field": f.get("segment", item.get("field", "")), "entity_type": f["entity_type"],
             "start": f["start"], "end": f["end"], "score": round(f["score"], 4), "context": f["context"]}
            for f in item["findings"]]
    if item.get("error"):
        rows.append({**base, "error": item["error"]})
    return rows


def _echo_findings(item: dict[str, Any]) -> None:
    where = item["source"] + (f":{item['line']}" if item.get("line") else "")
    head = item["id"] if where == item["id"] else f"{item['id']} ({where})"
    findings = item["findings"]
    click.echo(f"{head}: {len(findings)} finding(s)")
    for f in findings:
        field = f.get("segment", item.get("field", ""))
        click.echo(f"  {f['entity_type']} in {field} [{f['start']}-{f['end']}]: {f['context']}")
