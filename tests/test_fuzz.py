"""Property tests with random and adversarial text through the real Pipeline and readers: no crash, offsets in
bounds, one result per input (conservation), and no detected value survives in text that leaves quarantine."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepkit.io.readers import InputOptions, read_file
from prepkit.records import Record, Route, Segment
from prepkit.transform.match import identifying

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "i": "\u0456"}
PII = ["Anna Keller", "Ravi Iyer", "anna.keller@example.com", "ravi_iyer99@mail.example.org", "212-555-0187",
       "+1 (646) 555-0142", "4111 1111 1111 1111", "5555555555554444", "536-22-8745", "EMP-004211",
       "GB82 WEST 1234 5698 7654 32", "10.20.30.40"]
GLUE = ["Please contact ", " about the invoice. ", "\n", " or ", ", ", " — ", "Call ", " tomorrow.", " ", "\t",
        "Kontakt: ", " 请联系 ", " تواصل ", "🙂 "]


def _zero_width(s: str, data: st.DataObject) -> str:
    i = data.draw(st.integers(0, len(s)))
    return s[:i] + data.draw(st.sampled_from(ZERO_WIDTH)) + s[i:]


def _homoglyph(s: str) -> str:
    return "".join(HOMOGLYPHS.get(c, c) for c in s)


def _split_lines(s: str, data: st.DataObject) -> str:
    i = data.draw(st.integers(1, max(1, len(s) - 1)))
    return s[:i] + data.draw(st.sampled_from(["\n", "\r\n", "-\n", " \n "])) + s[i:]


@st.composite
def adversarial_text(draw: st.DrawFn) -> str:
    data = draw(st.data())
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["pii", "zw", "homoglyph", "split", "glue", "random", "long"]))
        if kind == "pii":
            parts.append(draw(st.sampled_from(PII)))
        elif kind == "zw":
            parts.append(_zero_width(draw(st.sampled_from(PII)), data))
        elif kind == "homoglyph":
            parts.append(_homoglyph(draw(st.sampled_from(PII))))
        elif kind == "split":
            parts.append(_split_lines(draw(st.sampled_from(PII)), data))
        elif kind == "glue":
            parts.append(draw(st.sampled_from(GLUE)))
        elif kind == "random":
            parts.append(draw(st.text(max_size=60)))
        else:
            parts.append(draw(st.sampled_from(["x", "A1", "@", "9", "é"])) * draw(st.integers(200, 4000)))
    return "".join(parts)


def _check(result, rec: Record) -> None:
    for f in result.findings:
        assert 0 <= f.segment < len(rec.segments)
        assert 0 <= f.start < f.end <= len(rec.segments[f.segment].text), f
    assert result.decision.route in (Route.FINETUNE, Route.RAG, Route.QUARANTINE, Route.DROP)
    t = result.transformed
    if t is not None:
        assert len(t.texts) == len(rec.segments)
        for a in t.applied:
            assert 0 <= a.start <= a.end <= len(t.texts[a.segment]), a
    if result.decision.route in (Route.FINETUNE, Route.RAG):
        # leaving quarantine requires a transformed text without any detected value in it
        assert t is not None and result.error is None
        out = "\n".join(t.texts)
        for f in result.findings:
            value = rec.segments[f.segment].text[f.start:f.end].strip()
            # spans that name no one (a lone title, a number labelled DATE_TIME that is no calendar date) are
            # deliberately left alone by the operators and the verifier; everything else must be gone
            if len(value) >= 5 and any(ch.isalnum() for ch in value) and identifying(value, f.entity_type):
                assert not _as_word(value, out), (f.entity_type, value)


def _as_word(value: str, text: str) -> bool:
    """The value as a whole token (not glued to letters/digits): the verifier's notion of "appears"."""
    left = r"(?<!\w)" if value[0].isalnum() else ""
    right = r"(?!\w)" if value[-1].isalnum() else ""
    return re.search(left + re.escape(value) + right, text) is not None


# Was a known gap (a second mention glued to a long token, '...A1Anna Keller', missed by NER and by the verifier's
# whole-word search). Since scores are calibrated, the proper-noun pass's span over the glued token passes the name
# threshold and takes the mention with it: caught, though by a wide span rather than by the name itself.
def test_glued_mention_of_a_detected_name_does_not_survive(default_pipeline):
    text = "A1" * 200 + "Anna KellerPlease contact Anna Keller"
    [res] = default_pipeline.process_batch([Record("g", "fuzz", "text", [Segment("text", text)], {}, 1, "g")])
    assert any(text[f.start:f.end] == "Anna Keller" for f in res.findings)
    assert res.decision.route == Route.QUARANTINE or "Anna Keller" not in res.transformed.texts[0]


@SETTINGS
@given(texts=st.lists(adversarial_text(), min_size=1, max_size=4))
def test_adversarial_text_through_the_pipeline(default_pipeline, texts):
    recs = [Record(f"f{i}", "fuzz", "text", [Segment("text", t)], {}, i + 1, str(i)) for i, t in enumerate(texts)]
    results = default_pipeline.process_batch(recs)
    assert len(results) == len(recs)  # conservation: one result per record, in order
    for res, rec in zip(results, recs, strict=True):
        assert res.record is rec
        _check(res, rec)


@SETTINGS
@given(turns=st.lists(st.tuples(st.sampled_from(["user", "assistant", "system"]), adversarial_text()),
                      min_size=1, max_size=4))
def test_adversarial_chat_through_the_pipeline(default_pipeline, turns):
    rec = Record("chat", "fuzz", "chat", [Segment(f"messages[{i}].content", c, r) for i, (r, c) in enumerate(turns)],
                 {}, 1, "c")
    [res] = default_pipeline.process_batch([rec])
    _check(res, rec)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.one_of(
    st.binary(max_size=80),
    st.text(max_size=80).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.dictionaries(st.sampled_from(["id", "text", "messages", "x"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=30),
                              st.lists(st.dictionaries(st.sampled_from(["role", "content"]),
                                                       st.one_of(st.text(max_size=10), st.integers()),
                                                       max_size=2), max_size=3)),
                    max_size=4).map(lambda d: json.dumps(d).encode()),
), max_size=12))
def test_reader_yields_exactly_one_item_per_line(tmp_path_factory, lines):
    path = Path(tmp_path_factory.mktemp("fz")) / "f.jsonl"
    lines = [ln.replace(b"\n", b" ").replace(b"\r", b" ") for ln in lines]
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_file(path, "f.jsonl", InputOptions()))
    content_lines = [ln for ln in lines if ln.strip()]
    binary = len(items) == 1 and items[0].line is None
    if not binary:  # a head of mostly control bytes is one whole-file rejection
        assert len(items) == max(len(content_lines), 1)
    for it in items:
        if isinstance(it, Record):
            for s in it.segments:
                s.text.encode("utf-8")  # every accepted text can be written out
