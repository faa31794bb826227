"""Property tests per reader: every line, row or element ends as exactly one record or one rejection (with its
line number), and nothing after a bad one is lost."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepkit.io.readers import InputOptions, read_file
from prepkit.records import Record, Rejected

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WORDS = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=20).filter(lambda s: s.strip())

# JSONL lines that cannot become a record; the line after each must still be read.
BAD_JSONL = [
    b'{"id": ' + b"9" * 5000 + b', "text": "x"}',  # an id the parser cannot turn into an int
    b'{"id": "u", "text": "unterminated',
    b"[1, 2]",
    b'{"id": "n", "text": 42}',
    b'{"id": "s", "text": "half \\ud800"}',
    b'{"id": "l", "text": "caf\xe9"}',
    b"[" * 5000,
    b'{"id": "z", "text": "nul \x00"}',
]


def _jsonl_lines(draw_good: list[str], bad: list[int | None]) -> tuple[list[bytes], dict[int, str]]:
    """Lines (good records interleaved with bad ones) and the expected record id per line number."""
    lines: list[bytes] = []
    good: dict[int, str] = {}
    for i, (text, b) in enumerate(zip(draw_good, bad, strict=True)):
        lines.append(json.dumps({"id": f"g{i}", "text": text}).encode())
        good[len(lines)] = f"g{i}"
        if b is not None:
            lines.append(BAD_JSONL[b])
    return lines, good


def _check_lines(items: list[Record | Rejected], good: dict[int, str], n_lines: int) -> None:
    assert sorted(it.line for it in items if it.line is not None) == list(range(1, n_lines + 1))
    assert all(it.line is not None for it in items)
    for it in items:
        if it.line in good:
            assert isinstance(it, Record) and it.id == good[it.line], it
        else:
            assert isinstance(it, Rejected), it


GOOD_AND_BAD = st.lists(st.tuples(WORDS, st.one_of(st.none(), st.integers(0, len(BAD_JSONL) - 1))),
                        min_size=1, max_size=8)


@SETTINGS
@given(rows=GOOD_AND_BAD, compress=st.sampled_from(["", ".gz", ".zst"]))
def test_jsonl_every_line_is_one_item_and_bad_lines_do_not_end_the_file(tmp_path, rows, compress):
    lines, good = _jsonl_lines([t for t, _ in rows], [b for _, b in rows])
    data = b"\n".join(lines) + b"\n"
    if compress == ".gz":
        data = gzip.compress(data)
    elif compress == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path = tmp_path / f"f.jsonl{compress}"
    path.write_bytes(data)
    _check_lines(list(read_file(path, path.name, InputOptions())), good, len(lines))


@SETTINGS
@given(rows=GOOD_AND_BAD, pretty=st.booleans())
def test_json_array_every_element_is_one_item(tmp_path, rows, pretty):
    """Elements that are valid JSON but not records are rejected one by one, with the line they start on."""
    elements: list[object] = []
    expected: list[str | None] = []
    for i, (text, b) in enumerate(rows):
        elements.append({"id": f"g{i}", "text": text})
        expected.append(f"g{i}")
        if b is not None:
            elements.append([1, 2] if b % 3 == 0 else {"id": "n", "text": 42} if b % 3 == 1 else {"body": "x"})
            expected.append(None)
    raw = json.dumps(elements, indent=2 if pretty else None)
    path = tmp_path / "f.json"
    path.write_text(raw, encoding="utf-8")
    items = list(read_file(path, path.name, InputOptions()))
    assert len(items) == len(expected)
    for it, want in zip(items, expected, strict=True):
        if want is None:
            assert isinstance(it, Rejected) and it.field is not None and it.field.startswith("[")
        else:
            assert isinstance(it, Record) and it.id == want
        assert it.line is not None and 1 <= it.line <= raw.count("\n") + 1


BAD_CSV = [
    'b,"an unterminated quote,x',   # swallows the lines after it until something goes wrong
    "b,only two",                    # ragged
    'b,"closed"junk,x',              # text after a closing quote
    "b,nul \x00 here,x",
    "b,,",                           # no text
]


@SETTINGS
@given(rows=st.lists(st.tuples(WORDS, st.one_of(st.none(), st.integers(0, len(BAD_CSV) - 1)),
                               st.booleans()), min_size=1, max_size=8))
def test_csv_every_row_is_one_item_and_rows_after_a_bad_one_are_kept(tmp_path, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "body", "team"])
    lines = [buf.getvalue().rstrip("\n")]
    good: dict[int, str] = {}
    for i, (text, bad, quoted) in enumerate(rows):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL if quoted else csv.QUOTE_MINIMAL).writerow(
            [f"g{i}", text, "ops"])
        lines.append(buf.getvalue().rstrip("\n"))
        good[len(lines)] = f"g{i}"
        if bad is not None:
            lines.append(BAD_CSV[bad])
    path = tmp_path / "f.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    items = list(read_file(path, path.name, InputOptions()))
    # the header is line 1 and no record
    assert sorted(it.line for it in items if it.line is not None) == list(range(2, len(lines) + 1)), items
    for it in items:
        if it.line in good:
            assert isinstance(it, Record) and it.id == good[it.line], it
        else:
            assert isinstance(it, Rejected), it


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.just(""), WORDS), min_size=1, max_size=10))
def test_parquet_every_row_is_one_item(tmp_path, values):
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(len(values))], "text": values}), path)
    items = list(read_file(path, path.name, InputOptions()))
    assert [it.line for it in items] == list(range(1, len(values) + 1))
    for it, v in zip(items, values, strict=True):
        assert isinstance(it, Record) == bool(v and v.strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), ext=st.sampled_from([".txt", ".md"]))
def test_text_file_is_exactly_one_item(tmp_path, data, ext):
    path = Path(tmp_path) / f"f{ext}"
    path.write_bytes(data)
    items = list(read_file(path, path.name, InputOptions()))
    assert len(items) == 1


PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30).filter(lambda s: s.strip())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paragraphs=st.lists(st.one_of(PLAIN, st.just(""), PLAIN.map(lambda s: s + "\n\n" + s)), min_size=1,
                           max_size=8))
def test_docx_is_one_record_and_every_paragraph_keeps_its_number(tmp_path, paragraphs):
    from prepkit.rag.chunk import Span, document_locator
    from tests.test_inputs import make_docx

    path = tmp_path / "d.docx"
    make_docx(path, paragraphs)
    items = list(read_file(path, path.name, InputOptions()))
    assert len(items) == 1
    kept = [re.sub(r"\n\s*\n", "\n", p).strip() for p in paragraphs if p.strip()]
    if not kept:
        assert isinstance(items[0], Rejected)
        return
    rec = items[0]
    assert isinstance(rec, Record) and rec.metadata["paragraphs"] == len(kept)
    text = rec.segments[0].text
    locate = document_locator(rec.metadata, text)
    assert locate is not None
    at = 0
    for number, p in enumerate(kept, start=1):
        at = text.index(p, at)
        assert locate(Span(at, at + len(p))) == f"#paragraph={number}"
        at += len(p)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.lists(PLAIN, min_size=1, max_size=5))
def test_pdf_is_one_record_and_every_page_keeps_its_number(tmp_path, pages):
    from prepkit.rag.chunk import Span, document_locator
    from tests.test_inputs import make_pdf

    path = tmp_path / "d.pdf"
    make_pdf(path, pages)
    [rec] = list(read_file(path, path.name, InputOptions()))
    assert isinstance(rec, Record) and rec.metadata["pages"] == len(pages)
    text = rec.segments[0].text
    locate = document_locator(rec.metadata, text)
    assert locate is not None
    parts = text.split("\f")
    assert len(parts) == len(pages)
    at = 0
    for number, part in enumerate(parts, start=1):
        if part.strip():
            start = at + part.index(part.strip()[0])
            assert locate(Span(start, start + 1)) == f"#page={number}"
        at += len(part) + 1
