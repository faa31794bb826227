"""Recognizers that can only match where a digit is, and a guard that skips them on texts without one.

Most of prepkit's and Presidio's regex recognizers look for numbers (SSNs, cards, IBANs, ZIP codes, licences). A
CSV name or e-mail cell, a tweet or a verification window around a replaced name holds no digit, yet every such
recognizer ran its patterns over it: on a CSV corpus, a few percent of the run. Skipping them there changes no
finding, because the claim is proved from each pattern's syntax tree, not guessed from its name:

- a pattern *needs a digit* when every way through it consumes one: a literal `0`–`9`, a class made only of
  digits (`\\d`, `[0-9]`), a group or repeat (at least once) of something that needs one, a choice whose every
  branch needs one, or a sequence with any element that needs one. Anything else (lookarounds, `.`, negated
  classes, back-references) is assumed to need nothing;
- a recognizer is *digit-bound* when its matches can only come from its patterns (its `analyze` is one of the
  known pattern-running ones below) and every pattern needs a digit;
- a text *may hold a digit* when `\\d` finds one, or (Presidio compiles with the `regex` module, whose Unicode
  tables can be newer than this Python's) when it holds a character this Python does not know.

A pattern `re` cannot parse, or one with `{` not followed by a count (the `regex` module's fuzzy matching,
`\\p{...}`), is never claimed to need a digit.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from re import _constants as sre_c
from re import _parser as sre_parse
from typing import Any

from presidio_analyzer import EntityRecognizer, PatternRecognizer
from presidio_analyzer.predefined_recognizers import IbanRecognizer

from prepkit.detect.rules import RegexRecognizer
from prepkit.detect.safe_pattern import SafePatternRecognizer

_ASCII_DIGITS = frozenset(map(ord, "0123456789"))
_NOT_A_COUNT = re.compile(r"(?<!\\)\{(?![\d,])")
_ANY_DIGIT = re.compile(r"\d")
_RE_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.ASCII  # the `regex` module's share these
# `analyze` implementations whose every result is a match of `self.patterns` (Presidio's and prepkit's)
_PATTERN_ANALYZERS = (PatternRecognizer.analyze, IbanRecognizer.analyze, SafePatternRecognizer.analyze)


def needs_digit(pattern: str, flags: int = 0) -> bool:
    """True when no match of `pattern` can avoid a digit (see the module doc)."""
    if _NOT_A_COUNT.search(pattern):
        return False
    try:
        with warnings.catch_warnings():  # `re` warns about syntax it reads differently from `regex` ("[[:")
            warnings.simplefilter("ignore", FutureWarning)
            parsed = sre_parse.parse(pattern, int(flags) & _RE_FLAGS)
    except (re.error, TypeError, ValueError, OverflowError, RecursionError):
        return False
    return _sequence(parsed)


def _sequence(items: Any) -> bool:
    return any(_item(op, av) for op, av in items)


def _item(op: Any, av: Any) -> bool:
    if op is sre_c.LITERAL:
        return av in _ASCII_DIGITS
    if op is sre_c.IN:
        return bool(av) and all(_digit_member(o, a) for o, a in av)
    if op is sre_c.SUBPATTERN:
        return _sequence(av[-1])
    if op is sre_c.ATOMIC_GROUP:
        return _sequence(av)
    if op is sre_c.BRANCH:
        return all(_sequence(branch) for branch in av[1])
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        low, _high, body = av
        return low >= 1 and _sequence(body)
    return False


def _digit_member(op: Any, av: Any) -> bool:
    if op is sre_c.LITERAL:
        return av in _ASCII_DIGITS
    if op is sre_c.RANGE:
        return av[0] in _ASCII_DIGITS and av[1] in _ASCII_DIGITS
    if op is sre_c.CATEGORY:
        return av is sre_c.CATEGORY_DIGIT
    return False  # NEGATE and anything else


def may_hold_digit(text: str) -> bool:
    if _ANY_DIGIT.search(text):
        return True
    if text.isascii():
        return False
    return any(unicodedata.category(c) == "Cn" for c in text if not c.isascii())


def digit_bound(rec: EntityRecognizer) -> bool:
    """Can `rec` only report spans of texts that hold a digit?"""
    analyze = type(rec).analyze
    if isinstance(rec, RegexRecognizer) and analyze is RegexRecognizer.analyze:
        return bool(rec.rules) and all(needs_digit(r.regex.pattern, r.regex.flags) for r in rec.rules)
    if isinstance(rec, PatternRecognizer) and analyze in _PATTERN_ANALYZERS:
        flags = int(getattr(rec, "global_regex_flags", 0) or 0)
        patterns = list(getattr(rec, "patterns", None) or [])
        return bool(patterns) and all(needs_digit(p.regex, flags) for p in patterns)
    return False


def guard(rec: EntityRecognizer) -> bool:
    """Make a digit-bound recognizer return no results, without running, on a text that holds no digit. Returns
    whether it was guarded."""
    if not digit_bound(rec):
        return False
    inner: Callable[..., Any] = rec.analyze

    def analyze(text: str, *args: Any, **kwargs: Any) -> Any:
        if not may_hold_digit(text):
            return []
        return inner(text, *args, **kwargs)

    rec.analyze = analyze  # type: ignore[method-assign]
    return True
