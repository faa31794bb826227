"""`prepkit scan` output people and spreadsheets can use: field and masked context per finding, a CSV that
`--help` promises, and never a detected value in any format; the top-level help lists whole first sentences."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.snippet import masked_context
from tests.conftest import DEFAULT_POLICY

NAME, EMAIL, ACCOUNT = "Alexandra Chavez", "sheriboyd@example.org", "4471902"
RECORDS = [
    {"id": "a", "text": f"Hi, this is {NAME}. Account {ACCOUNT} is locked; mail {EMAIL} please."},
    {"id": "b", "messages": [{"role": "user", "content": f"Reach me at {EMAIL} please."},
                             {"role": "assistant", "content": "Sure, I will write to you there."}]},
    {"id": "c", "text": "The build finished without errors."},
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    src = tmp_path_factory.mktemp("in") / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    out = {}
    for fmt in ("text", "csv"):  # jsonl carries the same findings (tests/test_cli.py)
        r = CliRunner().invoke(main, ["scan", "-p", str(DEFAULT_POLICY), "-i", str(src), "--format", fmt,
                                      "--workers", "1"])
        assert r.exit_code == 1, r.output  # PII found
        out[fmt] = r.stdout
    return out


def test_no_format_holds_a_detected_value_or_a_missed_number(outputs):
    for fmt, text in outputs.items():
        for value in (NAME, EMAIL, ACCOUNT, "Chavez"):
            assert value not in text, (fmt, value)


def test_text_names_the_field_and_shows_masked_context(outputs):
    text = outputs["text"]
    assert "a (in.jsonl:1): " in text
    assert "PERSON in text [12-28]: Hi, this is ⟪PERSON⟫. Account ####### is…" in text
    assert "EMAIL_ADDRESS in messages[0].content [12-33]: Reach me at ⟪EMAIL_ADDRESS⟫ please." in text
    assert text.rstrip().endswith("3 records, 2 with PII, 0 rejected")


def test_csv_has_one_row_per_finding(outputs):
    rows = list(csv.DictReader(io.StringIO(outputs["csv"])))
    listed = [x for x in outputs["text"].splitlines() if x.startswith("  ")]
    assert [(r["entity_type"], r["field"], r["context"]) for r in rows] == \
        [(x.split()[0], x.split()[2], x.split("]: ", 1)[1]) for x in listed]
    assert list(rows[0]) == ["id", "source", "line", "field", "entity_type", "start", "end", "score", "context",
                             "error"]
    email = next(r for r in rows if r["id"] == "b")
    assert email["field"] == "messages[0].content" and email["entity_type"] == "EMAIL_ADDRESS"
    assert email["line"] == "2" and email["context"] == "Reach me at ⟪EMAIL_ADDRESS⟫ please."
    assert {r["id"] for r in rows} == {"a", "b"}


def test_masked_context_edges():
    text = "alpha beta gamma SECRET delta epsilon zeta eta theta iota kappa"
    s = text.index("SECRET")
    ctx = masked_context(text, s, s + 6, [(s, s + 6, "X"), (0, 5, "Y")], width=12)
    assert ctx == "…beta gamma ⟪X⟫ delta…"  # whole words only at the edges
    # a finding that straddles the window edge is masked whole, never cut in half
    ctx = masked_context(text, s, s + 6, [(s, s + 6, "X"), (5, 14, "Y")], width=10)
    assert "⟪Y⟫" in ctx and "gam" not in ctx and "bet" not in ctx


def test_top_level_help_lists_whole_first_sentences():
    r = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert r.exit_code == 0
    listing = r.stdout.split("Commands:", 1)[1]
    flat = " ".join(listing.split())
    assert "Erase a data subject (GDPR art. 17): delete every RAG chunk and fine-tune record" in flat
    assert "..." not in listing


def test_scan_prints_pseudonyms_for_ids_and_file_names_that_could_identify_someone(tmp_path):
    # ids and file names are printed unscanned: the same keyed pseudonyms `prepkit run` writes replace any that
    # look like personal data, in every format
    src = tmp_path / "maria_gonzalez.jsonl"
    src.write_text(json.dumps({"id": EMAIL, "text": "The build finished."}) + "\n"
                   + json.dumps({"id": "ticket-7", "text": "Nothing to see."}) + "\n", encoding="utf-8")
    for fmt in ("jsonl", "csv", "text"):
        r = CliRunner().invoke(main, ["scan", "-p", str(DEFAULT_POLICY), "-i", str(src), "--format", fmt,
                                      "--workers", "1"])
        assert r.exit_code == 0, r.output
        assert EMAIL not in r.output and "maria" not in r.output.lower(), (fmt, r.output)
    r = CliRunner().invoke(main, ["scan", "-p", str(DEFAULT_POLICY), "-i", str(src), "--format", "jsonl"])
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert [x["id"][:3] for x in lines] == ["id-", "tic"] and lines[1]["id"] == "ticket-7"
    assert lines[0]["source"].startswith("file-")
