"""Verification fails closed: planted leaks are caught by each check; clean output passes.

The pattern scan is built from Presidio's real regex recognizers (the same kind the lead's Detector runs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from prepkit.keys import KeyRing
from prepkit.policy import load_policy
from prepkit.policy.load import LoadedPolicy
from prepkit.records import Finding, Record, Segment, Transformed, VerifyFailure
from prepkit.transform import Transformer
from prepkit.verify import Verifier

KEY = KeyRing.from_bytes(b"\x33" * 32, "test")

POLICY = """
version: 1
name: v
detection:
  entities: [PERSON, CREDIT_CARD, US_SSN, IBAN_CODE, PHONE_NUMBER]
  allow_list: [Acme Help Desk]
verification: {{full_rescan: {full}}}
routing: {{default: {{route: quarantine, reason: r}}}}
actions:
  DEFAULT: {{operator: {op}}}
"""

Scan = Callable[[str], list[tuple[int, int, str, float]]]


@pytest.fixture(scope="module")
def pattern_scan() -> Scan:
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer, UsSsnRecognizer

    recs = [CreditCardRecognizer(), IbanRecognizer(), UsSsnRecognizer()]

    def scan(text: str) -> list[tuple[int, int, str, float]]:
        return [(r.start, r.end, r.entity_type, r.score) for rec in recs for r in rec.analyze(text, rec.supported_entities, None)]

    return scan


def lp(tmp_path: Path, op: str = "synthesize", full: str = "false") -> LoadedPolicy:
    p = tmp_path / f"{op}-{full}.yaml"
    p.write_text(POLICY.format(op=op, full=full))
    return load_policy(p)


def findings(r: Record, pairs: list[tuple[str, str]]) -> list[Finding]:
    out = []
    for i, seg in enumerate(r.segments):
        for value, etype in pairs:
            j = seg.text.find(value)
            while j >= 0:
                out.append(Finding(i, j, j + len(value), etype, 0.9))
                j = seg.text.find(value, j + 1)
    return out


CARD = "4111 1111 1111 1111"
TEXT = f"Maria Lopez paid with {CARD}; call 415-555-0132."


@pytest.mark.parametrize("op", ["synthesize", "replace", "redact", "hash", "encrypt", "mask"])
def test_clean_output_passes(tmp_path: Path, pattern_scan: Scan, op: str) -> None:
    policy = lp(tmp_path, op)
    r = Record("r", "s", "text", [Segment("text", TEXT)])
    fs = findings(r, [("Maria Lopez", "PERSON"), (CARD, "CREDIT_CARD"), ("415-555-0132", "PHONE_NUMBER")])
    out = Transformer(policy, KEY).transform(r, fs)
    v = Verifier(policy, KEY, pattern_scan=pattern_scan).verify(r, fs, out)
    assert v.passed, v.failures
    assert v.checks == ("original_values", "pattern_rescan")


def test_missed_card_is_caught_by_pattern_rescan(tmp_path: Path, pattern_scan: Scan) -> None:
    """The planted leak: the first pass missed the card; only the rescan can see it."""
    policy = lp(tmp_path)
    r = Record("r", "s", "text", [Segment("text", TEXT)])
    fs = findings(r, [("Maria Lopez", "PERSON"), ("415-555-0132", "PHONE_NUMBER")])
    out = Transformer(policy, KEY).transform(r, fs)
    v = Verifier(policy, KEY, pattern_scan=pattern_scan).verify(r, fs, out)
    assert not v.passed
    assert [(f.check, f.entity_type, f.segment) for f in v.failures] == [("pattern_rescan", "CREDIT_CARD", 0)]


def test_inserted_surrogates_are_not_failures(tmp_path: Path, pattern_scan: Scan) -> None:
    """A synthesized card is Luhn-valid, so the rescan sees a card: it must know prepkit put it there."""
    policy = lp(tmp_path)
    r = Record("r", "s", "text", [Segment("text", f"card {CARD} and IBAN DE89 3704 0044 0532 0130 00")])
    fs = findings(r, [(CARD, "CREDIT_CARD"), ("DE89 3704 0044 0532 0130 00", "IBAN_CODE")])
    out = Transformer(policy, KEY).transform(r, fs)
    assert {e for _, _, e, _ in pattern_scan(out.texts[0])} == {"CREDIT_CARD", "IBAN_CODE"}
    assert Verifier(policy, KEY, pattern_scan=pattern_scan).verify(r, fs, out).passed


def test_second_mention_and_metadata_leaks_are_caught(tmp_path: Path) -> None:
    policy = lp(tmp_path)
    text = "Maria Lopez wrote in. Later MARIA  LOPEZ wrote again."
    r = Record("r", "s", "text", [Segment("text", text)], metadata={"author": {"name": "maria lopez"}})
    first = [Finding(0, 0, 11, "PERSON", 0.9)]  # the second, oddly spaced mention was missed
    # Planted leak: without propagation the missed mention stays in the text.
    out = Transformer(policy, KEY, propagate=False).transform(r, first)
    v = Verifier(policy, KEY).verify(r, first, out)
    assert [(f.check, f.segment) for f in v.failures] == [("original_values", 0)]
    # Propagation replaces it with the same surrogate; the metadata copy is still reported (it is not rewritten).
    out = Transformer(policy, KEY).transform(r, first)
    fake = out.texts[0][: out.applied[0].end]
    assert out.texts[0] == f"{fake} wrote in. Later {fake.upper().replace(' ', '  ')} wrote again."
    v = Verifier(policy, KEY).verify(r, first, out)
    assert [(f.check, f.segment) for f in v.failures] == [("original_values", -1)]


def test_phone_leak_found_whatever_the_formatting(tmp_path: Path) -> None:
    policy = lp(tmp_path)
    r = Record("r", "s", "chat", [Segment("m0", "call 415-555-0132"), Segment("m1", "or (415) 555 0132 after 5")])
    fs = [Finding(0, 5, 17, "PHONE_NUMBER", 0.9)]
    out = Transformer(policy, KEY, propagate=False).transform(r, fs)
    v = Verifier(policy, KEY).verify(r, fs, out)
    assert [(f.check, f.entity_type, f.segment) for f in v.failures] == [("original_values", "PHONE_NUMBER", 1)]
    out = Transformer(policy, KEY).transform(r, fs)
    assert Verifier(policy, KEY).verify(r, fs, out).passed
    assert [a.segment for a in out.applied] == [0, 1] and out.texts[1].endswith(" after 5")


def test_tampered_output_fails_and_allow_list_is_respected(tmp_path: Path) -> None:
    policy = lp(tmp_path)
    r = Record("r", "s", "text", [Segment("text", "Maria Lopez at Acme Help Desk")])
    fs = [Finding(0, 0, 11, "PERSON", 0.9), Finding(0, 15, 29, "ORGANIZATION", 0.6)]
    good = Transformer(policy, KEY).transform(r, fs[:1])
    assert Verifier(policy, KEY).verify(r, fs, good).passed  # allow-listed value may stay
    bad = Transformed(texts=["Maria Lopez at Acme Help Desk"], applied=good.applied)
    assert not Verifier(policy, KEY).verify(r, fs, bad).passed
    short = Transformed(texts=[], applied=[])
    assert not Verifier(policy, KEY).verify(r, fs, short).passed


def test_full_rescan_needs_a_scanner_and_runs_when_asked(tmp_path: Path, pattern_scan: Scan) -> None:
    policy = lp(tmp_path, full="true")
    with pytest.raises(ValueError, match="full_rescan"):
        Verifier(policy, KEY, pattern_scan=pattern_scan)
    r = Record("r", "s", "text", [Segment("text", f"x {CARD}")])
    out = Transformer(policy, KEY).transform(r, [])
    v = Verifier(policy, KEY, pattern_scan=None, full_scan=pattern_scan).verify(r, [], out)
    assert v.checks == ("original_values", "full_rescan")
    assert [f.check for f in v.failures] == ["full_rescan"]


def test_placeholder_text_is_not_mistaken_for_a_leak(tmp_path: Path) -> None:
    """spaCy tags the word "SSN" as an ORGANIZATION; the SSN's own `<SSN>` redaction must not count as it."""
    p = tmp_path / "ph.yaml"
    p.write_text(POLICY.format(op="replace", full="false").replace(
        "DEFAULT: {operator: replace}", "DEFAULT: {operator: replace}\n  US_SSN: {operator: redact, text: '<SSN>'}"))
    policy = load_policy(p)
    text = "my SSN is 536-22-8741"
    r = Record("r", "s", "text", [Segment("text", text)])
    fs = [Finding(0, 3, 6, "ORGANIZATION", 0.85), Finding(0, 10, 21, "US_SSN", 0.85)]
    out = Transformer(policy, KEY).transform(r, fs)
    assert out.texts == ["my <ORGANIZATION_1> is <SSN>"]
    assert Verifier(policy, KEY).verify(r, fs, out).passed
    # ...but the same word left in plain text is still found.
    left = Transformed(texts=["my SSN is <SSN>"], applied=[a for a in out.applied if a.entity_type == "US_SSN"])
    left.applied[0] = type(left.applied[0])(0, 10, 15, "US_SSN", "redact")
    assert not Verifier(policy, KEY).verify(r, fs, left).passed


def test_rescan_ignores_a_lone_title(tmp_path: Path) -> None:
    from presidio_analyzer import Pattern, PatternRecognizer

    titles = PatternRecognizer("TITLE", patterns=[Pattern("t", r"\b(?:Sir|Ms\.|Dr\.)(?:\s+[A-Z]\w+)?", 0.9)])

    def scan(text: str) -> list[tuple[int, int, str, float]]:
        return [(r.start, r.end, r.entity_type, r.score) for r in titles.analyze(text, ["TITLE"], None)]

    policy = lp(tmp_path)
    r = Record("r", "s", "text", [Segment("text", "Excuse me, Sir, I asked Dr. Okafor.")])
    out = Transformer(policy, KEY).transform(r, [])
    v = Verifier(policy, KEY, pattern_scan=scan).verify(r, [], out)
    assert [(f.check, f.entity_type) for f in v.failures] == [("pattern_rescan", "TITLE")]  # "Dr. Okafor" only


def test_windowed_rescan_reads_around_changes_only(tmp_path: Path, pattern_scan: Scan) -> None:
    """With `rescan_margin` the verifier is told detection already ran the scan over the input: a card missed next
    to a replaced name is still caught, one far from every change is detection's call and is not re-scanned."""
    from prepkit.verify import RESCAN_MARGIN

    policy = lp(tmp_path)
    far = " ".join(["filler"] * 200)
    r = Record("r", "s", "text", [Segment("text", f"Maria Lopez paid with {CARD}. {far} Later {CARD} again.")])
    fs = findings(r, [("Maria Lopez", "PERSON")])
    out = Transformer(policy, KEY).transform(r, fs)
    whole = Verifier(policy, KEY, pattern_scan=pattern_scan).verify(r, fs, out)
    seen: list[str] = []

    def spy(text: str) -> list[tuple[int, int, str, float]]:
        seen.append(text)
        return pattern_scan(text)

    windowed = Verifier(policy, KEY, pattern_scan=spy, rescan_margin=RESCAN_MARGIN).verify(r, fs, out)
    assert whole.failures == windowed.failures == [VerifyFailure("pattern_rescan", "CREDIT_CARD", 0)]
    assert len(seen) == 1 and CARD in seen[0] and "Later" not in seen[0]
    # the same card only far away: the windowed re-scan leaves it to detection, the whole-text one reports it
    r2 = Record("r", "s", "text", [Segment("text", f"Maria Lopez paid. {far} Later {CARD} again.")])
    out2 = Transformer(policy, KEY).transform(r2, findings(r2, [("Maria Lopez", "PERSON")]))
    assert not Verifier(policy, KEY, pattern_scan=pattern_scan).verify(r2, [], out2).passed
    assert Verifier(policy, KEY, pattern_scan=pattern_scan, rescan_margin=RESCAN_MARGIN).verify(r2, [], out2).passed


def test_rescan_windows_cover_the_margin_and_cut_on_whitespace() -> None:
    from prepkit.verify import _WINDOW_INNER, rescan_windows

    text = " ".join(f"w{i:04d}" for i in range(60_000))  # 360k characters
    spans = [(s, s + 5) for s in range(1_000, len(text) - 1_000, 300)]
    wins = rescan_windows(text, spans, 256)
    assert len(wins) > 2  # dense changes over a long text: several windows, none holding the whole text
    for wlo, whi, ilo, ihi in wins:
        assert ihi - ilo <= _WINDOW_INNER + 512 and wlo <= ilo - 256 and whi >= ihi + 256
        assert wlo == 0 or text[wlo].isspace()
        assert whi == len(text) or text[whi - 1].isspace()
    for s, e in spans:
        assert any(ilo <= s - 256 and e + 256 <= ihi for _, _, ilo, ihi in wins)
    assert rescan_windows(text, [], 256) == []


def test_pipeline_keeps_a_pattern_finding_swallowed_by_a_dropped_guess(default_pipeline) -> None:  # type: ignore[no-untyped-def]
    """NER reads "24/09/2026 about card 2131..." as one date; the analyzer merges the date pattern's "24/09/2026"
    into it and the false-positive filter drops the long guess for overlapping the card. Detection keeps the date
    pattern's finding, as the verification re-scan (which runs the patterns alone) would see it."""
    text = ("Customer Tina Davis (SSN 419-04-9895, born 2017-04-23) called from (826)481-2666x4795 on 24/09/2026 "
            "about card 213122491504382. Refund to IBAN DE30294904108537244577.")
    res = next(default_pipeline.process([text]))
    start = text.index("24/09/2026")
    assert any(f.start <= start and start + 10 <= f.end for f in res.findings)
    assert res.verification.passed, res.verification.failures


def test_prepared_haystack_finds_what_the_whole_text_search_finds() -> None:
    """A long output is searched through an index of where the needles could start: same answers as the search."""
    from prepkit.transform.match import Haystack, Needle

    docs = " ".join(p.read_text(encoding="utf-8") for p in sorted((Path(__file__).parent.parent / "samples" /
                                                                   "docs").iterdir()))
    docs = " ".join([docs] * 4)
    text = docs + " Call (415) 555-0132 or 4111-1111-1111-1111; Maria  LOPEZ, _under_score, x9y, 90210 and 12345."
    values = [("Maria Lopez", "PERSON"), ("maria", "PERSON"), ("415.555.0132", "PHONE_NUMBER"),
              ("4111 1111 1111 1111", "CREDIT_CARD"), ("_under_score", "PERSON"), ("x9y", "PERSON"),
              ("90210", "ZIP_CODE"), ("1234", "ZIP_CODE"), ("5550132", "PHONE_NUMBER"), ("Nobody Here", "PERSON"),
              ("(415) 555", "PHONE_NUMBER"), ("LOPEZ,", "PERSON"), ("the", "ORGANIZATION")]
    values += [(w, "PERSON") for w in sorted(set(docs.split()))[:300]]
    needles = [Needle(v, t) for v, t in values]
    plain, prepared = Haystack(text), Haystack(text)
    prepared.prepare(needles)
    assert len(text) > 4096 and prepared._word_at is not None
    got = [n.found_in(prepared) for n in needles]
    assert got == [n.found_in(plain) for n in needles]
    assert got[:5] == [True, True, True, True, True] and not got[9]


def _marked(s: str) -> tuple[str, list[tuple[int, int]]]:
    """"a [[b]] c" -> ("a b c", [(2, 3)]): [[...]] marks the spans prepkit inserted."""
    out, spans, i = "", [], 0
    while (j := s.find("[[", i)) >= 0:
        k = s.index("]]", j)
        out += s[i:j]
        spans.append((len(out), len(out) + k - j - 2))
        out += s[j + 2:k]
        i = k + 2
    return out + s[i:], spans


# (output with inserted spans marked, what the whole-text re-scan reports)
HIDDEN_CASES = [
    ("Paid by [[Zoe Quinn]] with 4111 1111 1111 1111 today.", ["CREDIT_CARD"]),  # missed next to a change
    ("Ref [[4111]] 1111 1111 1111 ok", []),  # joined to an inserted value: prepkit's, both ways
    ("card [[4111 1111]] 1111 1111 ok", []),
    ("Call [[Zoe]]415-555-0132 now", []),  # a letter before it: no phone number, whichever the scan
    ("Call [[Zoe-]]415-555-0132 now", ["PHONE_NUMBER"]),  # a kept value whose neighbour changed
    ("Call [[(555) 201-9876]] 415-555-0132 now", ["PHONE_NUMBER"]),
    ("my SSN [[536-22-8741]]/536-22-8741", []),
    ("Sincerely,\n[[Zoe Quinn\n]]Chief Financial Officer\n", ["TITLE"]),  # `^` after the inserted line break
    ("write to [[zoe]]@example.com or [[x]] bob.smith@example.com", ["EMAIL_ADDRESS"]),
    ("IP [[10.0.0.]]1 and 192.168.1.20 seen", ["IP_ADDRESS"]),
    ("Contact [[Zoe Quinn]] (tel 415 555 0132), DOB 1984-03-02, IBAN DE89 3704 0044 0532 0130 00",
     ["PHONE_NUMBER", "DATE_TIME", "IBAN_CODE"]),
    ("[[Dr.]]Okafor and @mlopez99", ["PERSON"]),
]


@pytest.mark.parametrize(("marked", "expected"), HIDDEN_CASES)
def test_rescan_with_inserted_values_hidden_reports_what_the_whole_text_scan_reports(
        default_pipeline, marked: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The windowed re-scan hides the inside of inserted values (one character kept at each end): on planted
    misses, joins and changed neighbours it reports what the detector's pattern scan of the whole output does."""
    from prepkit import verify
    from prepkit.records import Applied
    from prepkit.verify import RESCAN_MARGIN

    text, spans = _marked(marked)
    r = Record("r", "s", "text", [Segment("text", text)])
    out = Transformed(texts=[text], applied=[Applied(0, s, e, "PERSON", "synthesize") for s, e in spans])
    scan = default_pipeline.detector.pattern_scan
    whole = Verifier(default_pipeline.loaded, KEY, pattern_scan=scan).verify(r, [], out)
    seen: list[str] = []

    def spy(t: str) -> list[tuple[int, int, str, float]]:
        seen.append(t)
        return scan(t)

    hidden = Verifier(default_pipeline.loaded, KEY, pattern_scan=spy, rescan_margin=RESCAN_MARGIN).verify(r, [], out)
    assert [f.entity_type for f in whole.failures] == expected
    assert hidden.failures == whole.failures
    assert seen == [verify.hide_inserted(text, spans, 0, len(text))[0]]  # one window, the insides hidden


def test_the_kept_end_character_is_what_lookarounds_read(default_pipeline, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Hiding every inserted character (a NUL in place of the letter before a number, of the line break before a
    title line) would change the answer; keeping one character at each end gives the whole-text answer."""
    from prepkit import verify
    from prepkit.records import Applied

    scan = default_pipeline.detector.pattern_scan
    for marked in ("Call [[Zoe]]415-555-0132 now", "Sincerely,\n[[Zoe Quinn\n]]Chief Financial Officer\n"):
        text, spans = _marked(marked)
        r = Record("r", "s", "text", [Segment("text", text)])
        out = Transformed(texts=[text], applied=[Applied(0, s, e, "PERSON", "synthesize") for s, e in spans])
        whole = Verifier(default_pipeline.loaded, KEY, pattern_scan=scan).verify(r, [], out).failures
        kept = Verifier(default_pipeline.loaded, KEY, pattern_scan=scan, rescan_margin=256).verify(r, [], out).failures
        monkeypatch.setattr(verify, "_KEEP", 0)
        bare = Verifier(default_pipeline.loaded, KEY, pattern_scan=scan, rescan_margin=256).verify(r, [], out).failures
        monkeypatch.setattr(verify, "_KEEP", 1)
        assert kept == whole != bare


def test_hide_inserted_maps_offsets_back() -> None:
    from prepkit.verify import _unhide, hide_inserted

    text = "aa XXXXXX bb YY cc ZZZZ"
    spans = [(3, 9), (13, 15), (19, 23)]
    window, pieces = hide_inserted(text, spans, 0, len(text))
    assert window == "aa X\x00X bb YY cc Z\x00Z"  # a two-character span has no inside to hide
    starts = [p[0] for p in pieces]
    for i, c in enumerate(window):
        j = _unhide(pieces, starts, i)
        assert (text[j] == c) if c != "\x00" else (j in (4, 20))
    assert _unhide(pieces, starts, window.index("\x00") + 1) == 8  # a match ending after the NUL ends in the span
    assert _unhide(pieces, starts, len(window)) == len(text)
    part, pcs = hide_inserted(text, spans, 5, 14)  # a window starting inside a span
    assert part == "\x00X bb Y" and _unhide(pcs, [p[0] for p in pcs], 1) == 8
    assert hide_inserted(text, [], 2, 6) == (text[2:6], [(0, 2, -1)])
