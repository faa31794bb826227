"""Detection's Unicode normalisation (prepkit/detect/normalize.py): offsets map back to the original text exactly,
and the map costs memory in proportion to what changed, not to the text's length (one 20M-character record)."""

from __future__ import annotations

import pytest

from prepkit.detect.normalize import normalize


@pytest.mark.parametrize("text,value,original", [
    ("Mail j\u200bohn@example.com now", "john@example.com", "j\u200bohn@example.com"),
    ("Mail ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ now", "john@example.com", "ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
    ("Signed J o h n  S m i t h, clerk", "John", "J o h n"),
    ("Ein ﬁle von Ｊ ö r g ﬁ", "Jörg", "Ｊ ö r g"),  # a ligature expands to two letters before the name
    ("half ½ of A\u00adnna's share", "Anna", "A\u00adnna"),
])
def test_a_normalised_value_maps_back_to_exactly_its_original_characters(text, value, original):
    n = normalize(text)
    start = n.text.index(value)
    s, e = n.span(start, start + len(value))
    assert text[s:e] == original


def test_the_offset_map_grows_with_the_changes_not_with_the_text():
    text = ("The applicant “Mr A.” lives in Zürich; call j\u200bohn. " * 20_000)
    n = normalize(text)
    assert n.starts is not None and len(n.text) == len(text) - 20_000
    runs = sum(len(m.at) for m in n.starts)
    assert runs <= 2 * 20_000 + 1  # one run after each removed character, none for the characters kept as they were
    i = n.text.index("john", len(n.text) // 2)
    s, e = n.span(i, i + 4)
    assert text[s:e] == "j\u200bohn"
    assert normalize("“Zürich” is already normal").starts is None
