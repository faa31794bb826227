"""Transformer and operators on hand-built records (real Faker, real keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepkit.keys import KeyRing
from prepkit.policy import load_policy
from prepkit.policy.load import LoadedPolicy, PolicyError
from prepkit.records import Finding, Record, Segment
from prepkit.transform import Transformer, resolve_overlaps

KEY = KeyRing.from_bytes(b"\x01" * 32, "test")
OTHER_KEY = KeyRing.from_bytes(b"\x02" * 32, "test")

BASE = """
version: 1
name: t
detection: {{entities: [PERSON, EMAIL_ADDRESS, PHONE_NUMBER]}}
routing: {{default: {{route: quarantine, reason: r}}}}
actions:
{actions}
"""


def policy(tmp_path: Path, actions: str) -> LoadedPolicy:
    p = tmp_path / "p.yaml"
    p.write_text(BASE.format(actions=actions))
    return load_policy(p)


def rec(*texts: str) -> Record:
    return Record("r1", "s.jsonl", "text" if len(texts) == 1 else "chat", [Segment(f"t{i}", t) for i, t in enumerate(texts)])


def find(r: Record, value: str, etype: str, seg: int = 0, score: float = 0.85) -> list[Finding]:
    text = r.segments[seg].text
    out, i = [], text.find(value)
    while i >= 0:
        out.append(Finding(seg, i, i + len(value), etype, score))
        i = text.find(value, i + 1)
    return out


def test_replace_numbers_per_document_and_offsets_point_at_output(tmp_path: Path) -> None:
    lp = policy(tmp_path, "  DEFAULT: {operator: replace}")
    r = rec("Anna met Ben. Anna left.")
    fs = find(r, "Anna", "PERSON") + find(r, "Ben", "PERSON")
    out = Transformer(lp, KEY).transform(r, fs)
    assert out.texts == ["<PERSON_1> met <PERSON_2>. <PERSON_1> left."]
    for a in out.applied:
        assert out.texts[0][a.start:a.end].startswith("<PERSON_")


def test_overlaps_resolve_by_score_then_length(tmp_path: Path) -> None:
    fs = [Finding(0, 0, 5, "A", 0.5), Finding(0, 2, 9, "B", 0.9), Finding(0, 0, 9, "C", 0.9), Finding(0, 10, 12, "D", 0.1)]
    kept = resolve_overlaps(fs)
    assert [f.entity_type for f in kept] == ["C", "D"]
    assert resolve_overlaps(list(reversed(fs))) == kept


def test_unknown_operator_is_reported_at_load_with_suggestion(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as e:
        policy(tmp_path, "  PERSON: {operator: synthesise}\n  EMAIL_ADDRESS: {operator: mask, chars: 3}")
    msg = str(e.value)
    assert "actions.PERSON.operator" in msg and "did you mean 'synthesize'" in msg
    assert "actions.EMAIL_ADDRESS.chars" in msg
