"""The bad-input matrix: every broken input becomes one rejection naming file, line/row, field and what was
expected; the run goes on, the counts add up, and `--strict` stops at the first one with exit 2.

One real `prepkit run` over a folder holding every case (built in tmp_path) keeps this module fast.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.io.readers import InputOptions, discover, read_file, read_inputs
from prepkit.records import Record, Rejected
from prepkit.runner import RunConfig, run
from tests.conftest import DEFAULT_POLICY

GOOD = "Please reset the dashboard password for the analytics team today."


def _jsonl_lines() -> list[bytes]:
    """(line bytes) — line numbers matter: the expected table below names them."""
    return [
        json.dumps({"id": "g1", "text": GOOD}).encode(),                          # 1 good
        b'{"id": "m1", "text": "unterminated',                                      # 2 malformed JSON
        b'[1, 2, 3]',                                                               # 3 not an object
        json.dumps({"id": "m3", "body": GOOD}).encode(),                          # 4 missing text field
        json.dumps({"id": "m4", "text": 42}).encode(),                            # 5 non-string text
        json.dumps({"id": "m5", "messages": [{"content": "hi"}]}).encode(),       # 6 chat: missing role
        json.dumps({"id": "m6", "messages": [{"role": "user"}]}).encode(),        # 7 chat: missing content
        json.dumps({"id": "m7", "text": "   "}).encode(),                         # 8 empty record
        b'{"id": "m8", "text": "half a pair \\ud800 here"}',                      # 9 lone surrogate escape
        b'{"id": "m9", "text": "nul \x00 inside"}',                                 # 10 NUL byte
        b'{"id": "m10", "text": "caf\xe9 zebrafish"}',                                # 11 invalid UTF-8
        b"[" * 200_000,                                                             # 12 nested too deeply
        json.dumps({"id": "g2", "messages": [{"role": "user", "content": GOOD},
                                             {"role": "assistant", "content": "Done."}]}).encode(),  # 13 good
        json.dumps({"id": "m11", "messages": []}).encode(),                       # 14 chat: empty list
        b'{"id": ' + b"9" * 5000 + b', "text": "x"}',                              # 15 int too long to parse
        json.dumps({"id": "g3", "text": GOOD}).encode(),                          # 16 good: read on after 15
    ]


# file, line, field, words the reason must contain (what was expected)
EXPECTED = [
    ("a_lines.jsonl", 2, None, "malformed JSON"),
    ("a_lines.jsonl", 3, None, "expected a JSON object, got list"),
    ("a_lines.jsonl", 4, "text", "missing text field"),
    ("a_lines.jsonl", 5, "text", "expected a string, got int"),
    ("a_lines.jsonl", 6, "messages[0].role", "missing or non-string role"),
    ("a_lines.jsonl", 7, "messages[0].content", "missing or non-string content"),
    ("a_lines.jsonl", 8, "text", "empty"),
    ("a_lines.jsonl", 9, "text", "surrogate"),
    ("a_lines.jsonl", 10, None, "NUL bytes"),
    ("a_lines.jsonl", 11, None, "invalid UTF-8"),
    ("a_lines.jsonl", 12, None, "nested too deeply"),
    ("a_lines.jsonl", 14, "messages", "non-empty list of messages"),
    ("a_lines.jsonl", 15, None, "more than 4300 digits"),
    ("arr.json", 1, "[1].text", "expected a string, got int"),
    ("chats.jsonl.gz", 2, None, "malformed JSON"),
    ("dup_header.csv", 1, "column 3", "duplicate column name"),
    ("quote.csv", 2, None, "may never be closed"),
    ("binary.jsonl", None, None, "binary file"),
    ("empty.jsonl", None, None, "empty file"),
    ("blank.txt", None, None, "empty file"),
    ("image.png", None, None, "unsupported file type"),
    ("latin1.txt", None, None, "invalid UTF-8"),
    ("ragged.csv", 3, None, "ragged row: 2 fields, header has 3"),
    ("ragged.csv", 4, None, "empty record"),
    ("ragged.csv", 5, "body", "NUL bytes"),
    ("table.parquet", 2, None, "text is null or empty"),
    ("gone.jsonl", None, None, "broken symbolic link"),
    ("pipe.jsonl", None, None, "not a regular file"),
]
# a_lines g1/g2/g3, bom.jsonl, notes.md, ragged.csv row 2, table.parquet row 1, quote.csv row 3, arr.json [0],
# chats.jsonl.gz line 1, notes.jsonl.zst line 1
GOOD_RECORDS = 3 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1


def make_bad_folder(root: Path) -> Path:
    d = root / "bad"
    d.mkdir()
    (d / "a_lines.jsonl").write_bytes(b"\n".join(_jsonl_lines()) + b"\n")
    (d / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "b1", "text": GOOD}).encode() + b"\n")
    (d / "binary.jsonl").write_bytes(bytes(range(256)) * 8)
    (d / "empty.jsonl").write_bytes(b"")
    (d / "blank.txt").write_text("  \n\n", encoding="utf-8")
    (d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (d / "latin1.txt").write_bytes("Caf\u00e9 M\u00fcller \u00e0 la carte".encode("latin-1"))
    (d / "notes.md").write_text("# Notes\n\n" + GOOD + "\n", encoding="utf-8")
    (d / "ragged.csv").write_text(f"id,body,team\nr1,{GOOD},ops\nr2,only two\nr3,,\nr4,nul \x00 here,ops\n",
                                  encoding="utf-8")
    table = pa.table({"id": ["p1", "p2"], "text": [GOOD, None]})
    pq.write_table(table, d / "table.parquet")
    (d / "dup_header.csv").write_text(f"id,body,body\nd1,{GOOD},x\n", encoding="utf-8")
    (d / "quote.csv").write_text(f'id,body,team\nq1,"never closed,ops\nq2,{GOOD},ops\n', encoding="utf-8")
    (d / "arr.json").write_text(json.dumps([{"id": "j1", "text": GOOD}, {"id": "j2", "text": 5}]))
    (d / "chats.jsonl.gz").write_bytes(gzip.compress(json.dumps({"id": "z1", "text": GOOD}).encode()
                                                     + b"\n{broken\n"))
    (d / "notes.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(
        json.dumps({"id": "z2", "text": GOOD}).encode() + b"\n"))
    (d / ".hidden.jsonl").write_text(json.dumps({"id": "h1", "text": GOOD}) + "\n")  # skipped, and counted
    (d / ".cache").mkdir()
    (d / ".cache" / "x.jsonl").write_text(json.dumps({"id": "h2", "text": GOOD}) + "\n")
    os.symlink(d / "does-not-exist.jsonl", d / "gone.jsonl")
    os.mkfifo(d / "pipe.jsonl")
    return d


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("badinput")
    folder = make_bad_folder(root)
    outcome = run(RunConfig(policy=DEFAULT_POLICY, inputs=[folder], out=root / "out", cache=False))
    return folder, outcome


def test_every_bad_input_is_one_clear_rejection_and_the_run_goes_on(bad_run):
    _folder, outcome = bad_run
    rows = [json.loads(x) for x in (outcome.out_dir / "rejected.jsonl").read_text().splitlines()]
    got = {(r["file"].removeprefix("bad/"), r["line"], r["field"]): r["reason"] for r in rows}
    for file, line, field, words in EXPECTED:
        assert (file, line, field) in got, (file, line, field, sorted(got))
        assert words in got[(file, line, field)], (file, line, got[(file, line, field)])
    assert len(rows) == len(EXPECTED), sorted(got)
    # reasons never quote content
    blob = (outcome.out_dir / "rejected.jsonl").read_text()
    for secret in ("unterminated", "half a pair", "zebrafish", "only two", "caf", "never closed", "999999"):
        assert secret not in blob
    s = outcome.summary
    assert s["routes"]["rejected"] == len(EXPECTED)
    assert s["records_in"] == len(EXPECTED) + GOOD_RECORDS
    assert s["conservation"]["ok"] and s["conservation"]["accounted"] == s["records_in"]
    assert s["skipped"] == {"hidden_files": 1, "hidden_folders": 1, "symlinked_folders": 0, "output_folders": []}
    assert outcome.exit_code == 2  # input was rejected: the run finished, and says so


def test_summary_json_proves_conservation(bad_run):
    _folder, outcome = bad_run
    s = json.loads((outcome.out_dir / "summary.json").read_text())
    assert sum(s["routes"].values()) == s["records_in"] == s["conservation"]["accounted"]
    assert set(s["routes"]) == {"finetune", "rag", "quarantine", "drop", "rejected"}


def test_conservation_is_checked_not_assumed(bad_run):
    """A summary whose routes do not add up must say so (the run then exits 2)."""
    from prepkit.stats import RunStats

    st = RunStats()
    st.records_in = 3
    st.routes["finetune"] = 2
    assert st.summary("r", _loaded().identity, 0.0)["conservation"]["ok"] is False


def _loaded():
    from prepkit.policy import load_policy

    return load_policy(DEFAULT_POLICY)


def test_strict_stops_at_the_first_bad_record_with_exit_2(bad_run, tmp_path):
    folder, _ = bad_run
    res = CliRunner().invoke(main, ["run", "--policy", str(DEFAULT_POLICY), "--input", str(folder), "--out",
                                    str(tmp_path / "o"), "--strict", "--quiet"])
    assert res.exit_code == 2, res.output
    assert "bad/a_lines.jsonl:2" in res.output and "malformed JSON" in res.output
    assert "Traceback" not in res.output


def test_strict_with_a_worker_pool_stops_too(tmp_path):
    """The stop must not hang a process pool: the input generator runs in the pool's feeder thread. A real
    subprocess, so a regression fails on the timeout instead of hanging the suite."""
    (tmp_path / "a.jsonl").write_text("{not json\n" + json.dumps({"text": GOOD}) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PREPKIT_KEY_FILE"}
    p = subprocess.run([sys.executable, "-c", "from prepkit.cli import main; main()", "run", "--policy",
                        str(DEFAULT_POLICY), "--input", str(tmp_path / "a.jsonl"), "--out", str(tmp_path / "o"),
                        "--strict", "--workers", "2", "--quiet"], env=env, capture_output=True, text=True, timeout=90)
    assert p.returncode == 2, p.stderr[-2000:]
    assert "a.jsonl:1" in p.stderr and "malformed JSON" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("which", ["policy", "input"])
def test_missing_policy_or_input_path_exits_2(tmp_path, which):
    args = {"policy": str(DEFAULT_POLICY), "input": str(tmp_path)}
    args[which] = str(tmp_path / "nope.yaml")
    res = CliRunner().invoke(main, ["run", "--policy", args["policy"], "--input", args["input"], "--out",
                                    str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 2
    assert "nope.yaml" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o" / "summary.json").exists()


def test_resume_without_an_earlier_run_is_a_clear_error(tmp_path):
    (tmp_path / "in.jsonl").write_text(json.dumps({"text": GOOD}) + "\n")
    res = CliRunner().invoke(main, ["run", "--policy", str(DEFAULT_POLICY), "--input", str(tmp_path / "in.jsonl"),
                                    "--out", str(tmp_path / "o"), "--resume", "--quiet"])
    assert res.exit_code == 2 and "nothing to resume" in res.output


# -- reader-level cases (no models needed) -----------------------------------------------------------------
def test_latin1_is_rejected_unless_the_policy_allows_replacement(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Caf\u00e9 M\u00fcller".encode("latin-1"))
    [rej] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rej, Rejected) and "encoding_errors: replace" in rej.reason
    [rec] = list(read_file(p, p.name, InputOptions(encoding_errors="replace")))
    assert isinstance(rec, Record) and rec.segments[0].text == "Caf\ufffd M\ufffdller"


def test_bom_is_stripped_not_rejected(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbfid,text\n1," + GOOD.encode() + b"\n")
    [rec] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rec, Record) and rec.id == "1" and rec.segments[0].key == "text"


def test_csv_missing_text_column_is_one_rejection_that_does_not_list_the_header(tmp_path):
    """Header names can be PII (a column named after a customer): the reason counts them, never lists them."""
    p = tmp_path / "t.csv"
    p.write_text("id,anna_kowalski_notes\n1,hello\n", encoding="utf-8")
    [rej] = list(read_file(p, p.name, InputOptions(text_columns=("notes",))))
    assert isinstance(rej, Rejected) and rej.field == "notes" and rej.line == 1
    assert "not in the header" in rej.reason and "2 columns" in rej.reason
    assert "anna" not in rej.reason.lower()


def test_parquet_nested_text_column_is_rejected_per_row(tmp_path):
    p = tmp_path / "t.parquet"
    table = pa.table({"id": ["1", "2"], "text": [GOOD, GOOD], "body": [None, ["nested", "list"]]},
                     schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("body", pa.list_(pa.string()))]))
    pq.write_table(table, p)
    first, second = list(read_file(p, p.name, InputOptions(text_columns=("text", "body"))))
    assert isinstance(first, Record) and [s.key for s in first.segments] == ["text"]
    assert isinstance(second, Rejected) and second.line == 2 and second.field == "body"
    assert "nested/non-string list" in second.reason


def test_long_csv_field_is_read_whole(tmp_path):
    p = tmp_path / "long.csv"
    body = ("word " * 60_000).strip()  # 300k chars: beyond the csv module's default field limit
    p.write_text(f"id,body\n1,{body}\n", encoding="utf-8")
    [rec] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rec, Record) and rec.segments[0].text == body


def test_unreadable_file_is_rejected(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root reading; FIFO and broken-symlink cases in the "
                    "matrix cover unreadable entries")
    p = tmp_path / "locked.jsonl"
    p.write_text(json.dumps({"text": GOOD}) + "\n")
    p.chmod(0)
    [rej] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rej, Rejected) and "permission denied" in rej.reason


def test_every_directory_entry_is_accounted_for(tmp_path):
    d = make_bad_folder(tmp_path)
    names = {name for _, name in discover([d])}
    assert {"bad/gone.jsonl", "bad/pipe.jsonl", "bad/image.png"} <= names
    items = list(read_inputs([d], InputOptions()))
    per_file = {n: sum(1 for i in items if (i.source == n)) for n in names}
    assert all(v >= 1 for v in per_file.values()), per_file


def test_a_20mb_record_is_read_whole(tmp_path):
    """No truncation at read time; detection windows it (see test_window_boundary_entity_is_found)."""
    from prepkit.detect.chunking import windows

    unit = "The quarterly report was filed on time by the operations group. "
    text = unit * (20_000_000 // len(unit) + 1)
    p = tmp_path / "big.jsonl"
    p.write_text(json.dumps({"id": "big", "text": text}) + "\n", encoding="utf-8")
    [rec] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rec, Record) and len(rec.segments[0].text) == len(text) >= 20_000_000
    assert rec.segments[0].text == text
    # The detector's windows cover every character of it, in order, with overlap.
    covered = 0
    for off, piece in windows(text, 100_000, 400):
        assert off <= covered and text[off:off + len(piece)] == piece
        covered = max(covered, off + len(piece))
    assert covered == len(text)


def test_window_boundary_entity_is_found(default_pipeline):
    """A card number and an e-mail straddling a detection window's edge are found whole, at their offsets in the
    full text, in records several windows long (windows shrunk so the NER pass stays fast)."""
    from prepkit.detect.chunking import windows
    from prepkit.records import Segment

    det = default_pipeline.detector
    window, overlap = det.window, det.overlap
    det.window, det.overlap = 3000, 200
    try:
        filler = "The operations group filed the quarterly report on time and closed the ticket. "
        records, wanted = [], []
        for i, (etype, value) in enumerate([("CREDIT_CARD", "4111 1111 1111 1111"),
                                            ("EMAIL_ADDRESS", "jordan.ellis@example.org")]):
            head = (filler * 40)[:det.window - len(value) // 2 - 1].rstrip() + " "
            text = head + value + " " + filler * 80
            start = len(head)
            # the nominal window edge falls inside the value
            assert start < det.window < start + len(value)
            ends = [off + len(piece) for off, piece in windows(text, det.window, det.overlap)]
            assert len(ends) >= 4
            records.append(Record(f"w{i}", "t", "text", [Segment("text", text)]))
            wanted.append((etype, start, start + len(value)))
        for (etype, start, end), found in zip(wanted, det.detect(records), strict=True):
            spans = {(f.entity_type, f.start, f.end) for f in found}
            assert (etype, start, end) in spans, (etype, sorted(spans))
    finally:
        det.window, det.overlap = window, overlap
