"""Well-formed prose keeps its common words: sentence-opening plural nouns and imperatives, Markdown headings and
field labels are not names (regressions seen on samples/docs), while real names around them still are."""

from __future__ import annotations

from prepkit.records import Record, Segment

DOC = ("# Security FAQ\n\nOwner: Darlene Jones\n\nPasswords must be at least 14 characters. Report phishing to "
       "the security team. Laptops are encrypted. Employees may claim travel. Jacob lives in Denver.")


def test_common_words_in_prose_are_not_people(default_pipeline):
    [findings] = default_pipeline.detector.detect([Record("d", "t", "text", [Segment("text", DOC)])])
    found = {DOC[f.start:f.end]: f.entity_type for f in findings}
    for word in ("Security", "Owner", "Passwords", "Report", "Laptops", "Employees"):
        assert not any(word in k for k in found), (word, found)
    assert found.get("Darlene Jones") == "PERSON"
    assert "Jacob" in found


def test_a_hashtag_post_is_not_a_heading(default_pipeline):
    text = "# Kestrel fans meet Maria Lopez tonight"
    [findings] = default_pipeline.detector.detect([Record("t", "t", "text", [Segment("text", text)])])
    assert any(text[f.start:f.end].startswith("Maria") for f in findings)
