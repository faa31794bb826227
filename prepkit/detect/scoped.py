"""Run some of Presidio's pattern recognizers only on the words that can hold a match.

Presidio scans the whole text with every pattern. For the URL recognizer that is costly: its four patterns
start with `[a-z0-9.\\-]{1,253}[.](?:com|edu|...)`, so at every letter of every word the engine runs along the
word and backtracks through a list of 1,500 TLDs — about 5% of all detection time on support tickets, and paid
again by the verification re-scan. The email pattern is cheaper but of the same kind.

None of these patterns can match across whitespace, and each needs a character most words lack ("." before a
letter for a URL, "@" for an email...). So a match lies inside one whitespace-delimited word holding that
character; running the recognizer on each such word, with one character of context either side for `\\b` and
the one-character lookbehinds, finds exactly the matches the whole-text scan finds, at the same offsets.
tests/test_detect_scoped.py checks that equality on real and adversarial texts.

The scoping is installed on the recognizer instance (not a wrapper), so its name, id, context words and class
stay what Presidio and the context enhancer expect.
"""

from __future__ import annotations

from typing import Any

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer, UrlRecognizer

# A whitespace-delimited word containing the trigger. `regex`'s \s, as in Presidio's own patterns. The lookbehind
# anchors each attempt at a word start, so a word without the trigger costs one pass, not one per position.
_TRIGGERS: dict[type, str] = {
    UrlRecognizer: r"\.[^\W\d_]",  # "." then the TLD's first letter
    EmailRecognizer: r"@",
}
# Not IP, MAC or UUID: their patterns are cheap, and the words that could hold one (dates, phone numbers, times)
# are common enough that a call per word cost more than it saved (measured on Faker tickets).
_WORDS = {cls: regex.compile(r"(?<!\S)\S*?" + trig + r"\S*") for cls, trig in _TRIGGERS.items()}


def scope(recognizer: EntityRecognizer) -> bool:
    """Install word scoping on `recognizer` if its exact class is one of the above; True if it was."""
    words = _WORDS.get(type(recognizer))
    if words is None:
        return False
    whole = recognizer.analyze

    def analyze(text: str, entities: list[str], nlp_artifacts: Any = None, *args: Any,
                **kwargs: Any) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        for m in words.finditer(text):
            lo, hi = max(m.start() - 1, 0), min(m.end() + 1, len(text))
            for r in whole(text[lo:hi], entities, nlp_artifacts, *args, **kwargs) or []:
                r.start += lo
                r.end += lo
                out.append(r)
        return out

    recognizer.analyze = analyze  # type: ignore[method-assign]
    return True
