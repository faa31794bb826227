"""Long texts are detected window by window: no spaCy length error, no truncation, nothing lost or doubled on a
window boundary, offsets into the whole text."""

from __future__ import annotations

import random

import pytest

from prepkit.detect.chunking import merge_window_findings, windows
from prepkit.records import Record, Segment

FILLER = ["The", "quarterly", "review", "covered", "the", "rollout", "plan,", "the", "support", "backlog", "and", "the", "training", "schedule", "for", "the", "new", "reporting", "tools."]

# Multi-word values, so a whitespace cut can land inside them.
PLANTS = [
    ("4111 1111 1111 1111", "CREDIT_CARD", "Please charge card {} for the renewal."),
    ("(212) 555-0187", "PHONE_NUMBER", "Call the office at {} after lunch."),
    ("DE89 3704 0044 0532 0130 00", "IBAN_CODE", "Wire the refund to {} by Friday."),
    ("Margaret Thompson", "PERSON", "The request came from Margaret Thompson yesterday.".replace(
        "Margaret Thompson", "{}")),
]


def _filler(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(words))


def _cut_points(text: str, size: int, overlap: int) -> list[int]:
    return [off + len(piece) for off, piece in windows(text, size, overlap)][:-1]


def _planted_text(size: int, overlap: int, rounds: int = 3) -> tuple[str, list[tuple[int, int, str]]]:
    """Filler with each PLANT placed so that a window edge falls strictly inside the value (checked, not hoped)."""
    rng = random.Random(5)
    text = _filler(rng, 30) + ". "
    spans: list[tuple[int, int, str]] = []
    tail = " " + _filler(rng, size // 3) + "."
    for value, etype, template in PLANTS * rounds:
        pre, post = template.split("{}")
        for pad in range(0, 400):
            candidate = text + _filler(rng, 3 + pad % 40) + ". " + pre
            start = len(candidate)
            end = start + len(value)
            full = candidate + value + post + tail
            if any(start < cut < end for cut in _cut_points(full, size, overlap)):
                spans.append((start, end, etype))
                text = candidate + value + post + " "
                break
        else:
            raise AssertionError(f"could not place {etype} across a window edge")
    return text + tail, spans


def test_windows_cover_the_text_and_respect_the_size():
    rng = random.Random(1)
    text = _filler(rng, 3000)
    pieces = list(windows(text, 500, 100))
    assert len(pieces) > 10
    covered = 0
    for i, (off, piece) in enumerate(pieces):
        assert text[off:off + len(piece)] == piece
        assert len(piece) <= 500
        assert off <= covered, f"gap before window {i}"
        if i:
            assert covered - off >= 50, "windows overlap by at least half the requested overlap"
        covered = off + len(piece)
    assert covered == len(text)


def test_windows_without_whitespace_and_bad_overlap():
    text = "x" * 2500
    pieces = list(windows(text, 1000, 200))
    assert pieces[-1][0] + len(pieces[-1][1]) == 2500
    assert all(len(p) <= 1000 for _, p in pieces)
    with pytest.raises(ValueError, match="overlap"):
        list(windows(text, 100, 80))


def test_windows_on_20_mb_text_is_linear_and_complete():
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 360_000)[:20_000_000]
    pieces = list(windows(text, 100_000, 400))
    assert pieces[-1][0] + len(pieces[-1][1]) == len(text)
    assert max(len(p) for _, p in pieces) <= 100_000
    assert 200 <= len(pieces) <= 205


class _R:
    def __init__(self, start: int, end: int, etype: str, score: float = 0.9):
        self.start, self.end, self.entity_type, self.score = start, end, etype, score
        self.recognition_metadata = {"recognizer_name": "t"}


def test_overlap_findings_are_owned_by_one_window():
    # window A = [0, 100), window B = [60, 160): the overlap [60, 100) splits at 80
    per_window = [[(0, _R(90, 99, "PHONE_NUMBER")), (0, _R(70, 75, "PERSON"))],  # 90-99 is cut at A's edge
                  [(60, _R(30, 45, "PHONE_NUMBER")), (60, _R(10, 15, "PERSON"))]]  # 90-105 whole; 70-75 again
    got = merge_window_findings(per_window, [(0, 100), (60, 160)])
    assert sorted((s, e, t) for s, e, t, _, _ in got) == [(70, 75, "PERSON"), (90, 105, "PHONE_NUMBER")]


def test_windowed_detection_equals_whole_text_detection(default_pipeline, monkeypatch):
    det = default_pipeline.detector
    text, spans = _planted_text(400, 120)
    rec = Record("long", "t", "text", [Segment("text", text)])
    whole = {(f.start, f.end, f.entity_type) for f in det.detect([rec])[0]}  # one window: the reference
    for span in spans:
        assert span in whole

    nlp = det.analyzer.nlp_engine.nlp[det.language]
    monkeypatch.setattr(det, "window", 400)
    monkeypatch.setattr(det, "overlap", 120)
    # spaCy now refuses anything longer than 1,000 characters: the whole text would raise E088 if not windowed
    monkeypatch.setattr(nlp, "max_length", 1000)
    assert len(text) > 3 * 1000
    cuts = _cut_points(text, det.window, det.overlap)
    for start, end, _ in spans:  # the premise: every planted value is split by a window edge
        assert any(start < c < end for c in cuts)

    windowed = {(f.start, f.end, f.entity_type) for f in det.detect([rec])[0]}
    for start, end, etype in spans:
        assert (start, end, etype) in windowed, f"{etype} at {start}-{end} (across a window edge) missed/misplaced"
    # no fragment of a cut value reported as something else, nothing doubled, nothing lost elsewhere
    assert windowed == whole, f"extra {sorted(windowed - whole)}, missing {sorted(whole - windowed)}"

    # NER in groups of a bounded number of characters (memory of one huge record): the same findings
    from prepkit.detect import engine

    monkeypatch.setattr(engine, "NER_GROUP_CHARS", 900)
    assert len(engine._char_groups([text[i:i + 400] for i in range(0, len(text), 400)], 900)) > 2
    grouped = {(f.start, f.end, f.entity_type) for f in det.detect([rec])[0]}
    assert grouped == windowed


def test_char_groups_cover_every_text_once_within_the_budget():
    from prepkit.detect.engine import _char_groups

    rnd = random.Random(3)
    for _ in range(200):
        texts = ["x" * rnd.randint(0, 50) for _ in range(rnd.randint(0, 30))]
        budget = rnd.randint(1, 120)
        groups = _char_groups(texts, budget)
        assert [i for lo, hi in groups for i in range(lo, hi)] == list(range(len(texts)))
        for lo, hi in groups:
            assert hi > lo and (hi - lo == 1 or sum(map(len, texts[lo:hi])) <= budget)
