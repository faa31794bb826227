"""The inputs people have: compressed JSONL, standard input, JSON arrays, PDF and DOCX documents; and what a
folder walk leaves out (hidden entries, the run's own output folder), counted and said."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.io.readers import InputOptions, find_inputs, read_file
from prepkit.rag.chunk import Span, chunk_spans, document_locator
from prepkit.records import Record, Rejected
from prepkit.runner import RunConfig, run
from tests.conftest import DEFAULT_POLICY

GOOD = "Please reset the dashboard password for the analytics team today."
ROOT = Path(__file__).resolve().parent.parent


def _lines(*objs: object) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


# -- small documents built here ---------------------------------------------------------------------------
def make_pdf(path: Path, pages: list[str]) -> None:
    """A minimal valid PDF (one Helvetica text line per page), written by hand with a correct xref table."""
    objs: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode("latin-1")
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_id = len(objs)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
                    % content_id)
        kids.append(len(objs))
    objs[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> None:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, v in enumerate(row):
                t.cell(r, c).text = v
    doc.save(str(path))


# -- reader level -----------------------------------------------------------------------------------------
def test_a_huge_integer_id_is_one_rejection_and_the_next_lines_are_read(tmp_path):
    p = tmp_path / "big.jsonl"
    p.write_bytes(_lines({"id": "a", "text": GOOD}) + b'{"id": ' + b"7" * 5000 + b', "text": "x"}\n'
                  + _lines(*({"id": f"n{i}", "text": GOOD} for i in range(50))))
    items = list(read_file(p, p.name, InputOptions()))
    assert len(items) == 52
    rej = items[1]
    assert isinstance(rej, Rejected) and rej.line == 2 and "4300 digits" in rej.reason and "7777" not in rej.reason
    assert [i.id for i in items if isinstance(i, Record)] == ["a"] + [f"n{i}" for i in range(50)]


def _alias_bomb(levels: int = 6) -> str:
    """Each level lists the one before ten times: a few hundred bytes that expand to 10**levels nodes."""
    lines = ["x0: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines)


@pytest.mark.parametrize("front", [
    "a: " + "[" * 20000,  # nesting past the YAML limits (the composer recursed until the file was rejected)
    _alias_bomb(),
    "doc_type: faq\ndoc_type: policy",  # a key given twice: which one routes?
    "doc_type: [unclosed",  # not YAML
])
def test_unreadable_front_matter_is_text_not_metadata_and_the_file_is_read(tmp_path, front):
    body = "Call Jane Doe at 555-0100 about the VPN."
    p = tmp_path / "note.md"
    p.write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8")
    [rec] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rec, Record)
    assert rec.metadata == {"doc_type": "document"}
    assert rec.segments[0].text.startswith("---\n") and rec.segments[0].text.endswith(body + "\n")


def test_readable_front_matter_is_metadata_and_leaves_the_text(tmp_path):
    p = tmp_path / "faq.md"
    p.write_text("---\ndoc_type: faq\nupdated: 2026-01-02\ntags: [a, b]\n---\nThe VPN is down.\n", encoding="utf-8")
    [rec] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rec, Record)
    assert rec.metadata == {"doc_type": "faq", "updated": "2026-01-02"}
    assert rec.segments[0].text == "The VPN is down.\n"


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_jsonl_is_read_line_by_line(tmp_path, suffix):
    data = _lines({"id": "c1", "text": GOOD}) + b"{broken\n" + _lines({"id": "c2", "text": GOOD})
    packed = gzip.compress(data) if suffix == ".gz" else zstandard.ZstdCompressor().compress(data)
    p = tmp_path / f"chats.jsonl{suffix}"
    p.write_bytes(packed)
    items = list(read_file(p, p.name, InputOptions()))
    assert [(type(i).__name__, i.line) for i in items] == [("Record", 1), ("Rejected", 2), ("Record", 3)]


def test_a_truncated_gzip_keeps_what_was_read_and_rejects_the_rest(tmp_path):
    data = gzip.compress(_lines(*({"id": f"t{i}", "text": GOOD * 4} for i in range(400))))
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    items = list(read_file(p, p.name, InputOptions()))
    *records, last = items
    assert records and all(isinstance(r, Record) for r in records)
    assert isinstance(last, Rejected) and "cannot be read to the end" in last.reason
    assert last.line == len(records) + 1


def test_compressed_binary_and_unknown_inner_types_are_rejected(tmp_path):
    p = tmp_path / "img.png.gz"
    p.write_bytes(gzip.compress(b"\x89PNG"))
    [rej] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rej, Rejected) and "'.png.gz'" in rej.reason
    q = tmp_path / "bin.jsonl.zst"
    q.write_bytes(zstandard.ZstdCompressor().compress(bytes(range(256)) * 8))
    [rej] = list(read_file(q, q.name, InputOptions()))
    assert isinstance(rej, Rejected) and "binary file" in rej.reason


def test_json_array_is_read_element_by_element(tmp_path):
    p = tmp_path / "records.json"
    p.write_text(json.dumps([{"id": "a", "text": GOOD}, {"id": "b", "text": 5}, {"text": GOOD}], indent=1))
    a, b, c = list(read_file(p, p.name, InputOptions()))
    assert isinstance(a, Record) and a.id == "a" and a.line == 2
    assert isinstance(b, Rejected) and b.field == "[1].text" and b.line == 6
    assert isinstance(c, Record) and c.id == "records.json#3"


def test_a_broken_json_array_keeps_the_elements_before_and_names_the_line(tmp_path):
    p = tmp_path / "broken.json"
    good = json.dumps({"id": "a", "text": GOOD})
    p.write_text(f'[\n{good},\n{{"id": "b", "text": oops}},\n{{"id": "c", "text": "x"}}\n]')
    a, rej = list(read_file(p, p.name, InputOptions()))
    assert isinstance(a, Record)
    assert isinstance(rej, Rejected) and rej.line == 3 and rej.field == "[1]" and "rest of the array" in rej.reason


def test_a_json_array_longer_than_the_read_buffer(tmp_path):
    rows = [{"id": f"r{i}", "text": f"{GOOD} {i}"} for i in range(3000)]
    p = tmp_path / "many.json"
    p.write_text(json.dumps(rows))
    items = list(read_file(p, p.name, InputOptions()))
    assert [i.id for i in items if isinstance(i, Record)] == [r["id"] for r in rows]


def test_csv_duplicate_header_is_rejected_by_position_without_names(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("id,customer_anna,customer_anna\n1,a,b\n")
    [rej] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rej, Rejected) and rej.line == 1 and rej.field == "column 3"
    assert "duplicate column name" in rej.reason and "column 2" in rej.reason and "anna" not in rej.reason


def test_csv_unterminated_quote_is_rejected_and_the_rows_it_swallowed_are_read(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('id,body,team\nr1,"never closed,ops\nr2,second row,ops\nr3,third row,ops\n')
    items = list(read_file(p, p.name, InputOptions()))
    assert [(type(i).__name__, i.line) for i in items] == [("Rejected", 2), ("Record", 3), ("Record", 4)]
    assert "quote opened on this line" in items[0].reason or "may never be closed" in items[0].reason
    # a legitimate quoted cell over several lines is still one record
    p.write_text('id,body,team\nr1,"two\nlines",ops\nr2,next,ops\n')
    a, b = list(read_file(p, p.name, InputOptions()))
    assert isinstance(a, Record) and a.segments[0].text == "two\nlines" and isinstance(b, Record) and b.line == 4


def test_pdf_pages_and_docx_paragraphs_are_kept_as_places(tmp_path):
    pdf = tmp_path / "handbook.pdf"
    make_pdf(pdf, ["Expense claims need receipts.", "Travel is booked through the portal.", "Ask the desk."])
    [rec] = list(read_file(pdf, pdf.name, InputOptions()))
    assert isinstance(rec, Record) and rec.metadata["layout"] == "pages" and rec.metadata["pages"] == 3
    text = rec.segments[0].text
    locate = document_locator(rec.metadata, text)
    assert locate is not None
    assert locate(Span(text.index("Travel"), text.index("portal"))) == "#page=2"
    assert locate(Span(0, len(text))) == "#page=1-3"

    doc = tmp_path / "guide.docx"
    make_docx(doc, ["Welcome to the team.", "", "Laptops are issued on day one.\nBring ID."],
              table=[["Desk", "Floor 2"], ["Badge", "Reception"]])
    [rec] = list(read_file(doc, doc.name, InputOptions()))
    assert isinstance(rec, Record) and rec.metadata == {"doc_type": "document", "layout": "paragraphs",
                                                        "paragraphs": 4}
    text = rec.segments[0].text
    assert "Badge | Reception" in text and "Laptops are issued on day one.\nBring ID." in text
    locate = document_locator(rec.metadata, text)
    assert locate is not None and locate(Span(text.index("Badge"), len(text))) == "#paragraph=4"
    spans = chunk_spans(text, 40, 0)
    assert [locate(s) for s in spans][0] == "#paragraph=1"


def test_a_corrupt_pdf_is_one_rejection(tmp_path):
    p = tmp_path / "bad.pdf"
    p.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    [rej] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rej, Rejected) and "PDF" in rej.reason


def test_missing_docs_extra_is_a_clear_error_naming_it(tmp_path):
    """A Python where python-docx cannot be imported (as in an install without prepkit[docs])."""
    make_docx(tmp_path / "a.docx", ["Some text."])
    code = "import sys; sys.modules['docx'] = None; from prepkit.cli import main; main()"
    p = subprocess.run([sys.executable, "-c", code, "run", "--policy", str(DEFAULT_POLICY), "--input",
                        str(tmp_path), "--out", str(tmp_path / "o"), "--quiet"], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 2, p.stderr[-2000:]
    assert "prepkit[docs]" in p.stderr and "a.docx" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o" / "summary.json").exists()


# -- discovery --------------------------------------------------------------------------------------------
def test_hidden_entries_and_symlinked_folders_are_counted_not_read(tmp_path):
    d = tmp_path / "in"
    (d / ".git").mkdir(parents=True)
    (d / ".git" / "config.jsonl").write_bytes(_lines({"text": GOOD}))
    (d / ".env").write_text("SECRET=1")
    (d / "a.jsonl").write_bytes(_lines({"text": GOOD}))
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", d / "link")
    found = find_inputs([d])
    assert [n for _, n in found.files] == ["in/a.jsonl"]
    assert found.skipped() == {"hidden_files": 1, "hidden_folders": 1, "symlinked_folders": 1,
                               "output_folders": []}


def test_out_inside_the_input_folder_is_never_read(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.jsonl").write_bytes(_lines({"id": "a", "text": GOOD}, {"id": "b", "text": GOOD}))
    out = d / "out"
    for _ in range(2):  # the second run would read the first run's audit log and outputs
        outcome = run(RunConfig(policy=DEFAULT_POLICY, inputs=[d], out=out, cache=False))
        s = outcome.summary
        assert s["records_in"] == 2 and s["inputs"] == ["data/a.jsonl"] and s["conservation"]["ok"]
    assert s["skipped"]["output_folders"] == ["data/out"] and outcome.exit_code == 0
    res = CliRunner().invoke(main, ["run", "--policy", str(DEFAULT_POLICY), "--input", str(d), "--out", str(out),
                                    "--no-cache"])
    assert res.exit_code == 0 and "the output folder data/out (inside the input)" in res.output
    res = CliRunner().invoke(main, ["run", "--policy", str(DEFAULT_POLICY), "--input", str(d), "--out", str(d),
                                    "--quiet"])
    assert res.exit_code == 2 and "choose an --out outside it" in res.output
    # an earlier run's output folder is not read either, whatever --out this run has
    found = find_inputs([d])
    assert [n for _, n in found.files] == ["data/a.jsonl"] and found.output_folders == ["data/out"]


# -- standard input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["jsonl", "array"])
def test_standard_input(tmp_path, shape):
    rows = [{"id": "s1", "text": GOOD}, {"id": "s2", "text": 7}, {"id": "s3", "text": GOOD}]
    data = _lines(*rows) if shape == "jsonl" else json.dumps(rows).encode()
    res = CliRunner().invoke(main, ["run", "--policy", str(DEFAULT_POLICY), "-i", "-", "--out",
                                    str(tmp_path / "o"), "--json"], input=data)
    assert res.exit_code == 2, res.output  # one record was rejected
    s = json.loads(res.stdout)
    assert s["inputs"] == ["stdin"] and s["records_in"] == 3 and s["routes"]["rejected"] == 1
    assert s["conservation"]["ok"] and sum(s["routes"].values()) == 3
    [rej] = [json.loads(x) for x in (tmp_path / "o" / "rejected.jsonl").read_text().splitlines()]
    assert rej["file"] == "stdin" and rej["field"] == ("text" if shape == "jsonl" else "[1].text")


# -- a run over documents ---------------------------------------------------------------------------------
def test_documents_reach_the_rag_store_with_their_pages(tmp_path):
    d = tmp_path / "kb"
    d.mkdir()
    make_pdf(d / "expenses.pdf", ["Expense claims above 25 EUR need a receipt.",
                                  "Travel is booked through the travel portal only."])
    make_docx(d / "onboarding.docx", ["Laptops are issued on the first day.", "Badges come from reception."])
    out = tmp_path / "o"
    outcome = run(RunConfig(policy=DEFAULT_POLICY, inputs=[d], out=out, cache=False))
    s = outcome.summary
    assert s["records_in"] == 2 and s["routes"]["rag"] == 2 and s["conservation"]["ok"], s
    res = CliRunner().invoke(main, ["rag", "query", str(out), "booking travel portal", "--role", "support",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    hits = json.loads(res.output)["hits"]
    segments = {h["record_id"]: h["segment"] for h in hits}
    assert segments["kb/expenses.pdf"].startswith("text#page=")
    assert segments["kb/onboarding.docx"].startswith("text#paragraph=")


# -- streaming --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "json"])
def test_csv_and_json_arrays_stream_instead_of_being_read_whole(tmp_path, kind):
    """Peak memory while reading stays a small fraction of the file (a whole-file read holds its bytes and text)."""
    import tracemalloc

    n = 15_000
    p = tmp_path / f"big.{kind}"
    if kind == "csv":
        p.write_text("id,body\n" + "".join(f"r{i},{GOOD} {i}\n" for i in range(n)), encoding="utf-8")
    else:
        p.write_text(json.dumps([{"id": f"r{i}", "text": f"{GOOD} {i}"} for i in range(n)]), encoding="utf-8")
    size = p.stat().st_size
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_file(p, p.name, InputOptions()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert peak < size / 4, (peak, size)


def test_a_pretty_printed_json_object_is_one_record(tmp_path):
    p = tmp_path / "ticket.json"
    p.write_text(json.dumps({"id": "t1", "text": GOOD, "team": "ops"}, indent=2))
    [rec] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rec, Record) and rec.id == "t1" and rec.segments[0].text == GOOD
    p.write_text('{\n  "id": "t2",\n  "text": oops\n}\n')
    [rej] = list(read_file(p, p.name, InputOptions()))
    assert isinstance(rej, Rejected) and "malformed JSON" in rej.reason
    q = tmp_path / "lines.json"  # JSONL under a .json name still reads line by line
    q.write_bytes(_lines({"id": "a", "text": GOOD}, {"id": "b", "text": GOOD}))
    assert [i.id for i in read_file(q, q.name, InputOptions()) if isinstance(i, Record)] == ["a", "b"]
    q.write_bytes(_lines({"id": "long", "text": GOOD * 400}, {"id": "b", "text": GOOD}))  # a first line over 8 KiB
    assert [i.id for i in read_file(q, q.name, InputOptions()) if isinstance(i, Record)] == ["long", "b"]
