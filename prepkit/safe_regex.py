"""Policy regexes under a time limit: risky patterns are refused when the policy is loaded, and every match runs
with a timeout whose expiry fails the record closed (quarantine), never silently skips the pattern.

Two layers, because neither is enough alone:
- a static check on the parsed pattern refuses the classic catastrophic-backtracking shapes — an unbounded
  quantifier over something that itself repeats without bound (`(a+)+`, `(\\w+\\s*)*`) or over an alternation
  whose branches can start alike (`(a|aa)+`, `(\\w|\\w\\w)*`);
- the `regex` engine's `timeout=` bounds whatever slips past. The engine checks its clock periodically while
  backtracking, so a runaway match can overshoot the limit by a fraction of a second — bounded, not exact.

Presidio's own PatternRecognizer also uses a timeout, but on expiry it logs a warning and *skips the pattern*:
the record would then pass with that entity undetected. `prepkit.detect.safe_pattern.SafePatternRecognizer` raises
`RegexTimeout` instead,
which the pipeline turns into a quarantine decision with error `detect:RegexTimeout`.
"""

from __future__ import annotations

import os
import re
from re import _constants as sre_c
from re import _parser as sre_parse
from typing import Any

import regex

from prepkit.errors import PrepkitError

DEFAULT_TIMEOUT_S = 2.0
ENV_TIMEOUT = "PREPKIT_REGEX_TIMEOUT"  # seconds; lets an operator tighten or loosen the limit without a release


class RegexTimeout(PrepkitError):
    """A policy regex ran past its time limit on some text. The message names the pattern, never the text."""


class UnsafeRegex(PrepkitError, ValueError):
    """A policy regex whose shape allows catastrophic backtracking."""


def timeout_from_env() -> float:
    raw = os.environ.get(ENV_TIMEOUT)
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        raise UnsafeRegex(f"{ENV_TIMEOUT}={raw!r}: expected a number of seconds") from None
    if not value > 0:
        raise UnsafeRegex(f"{ENV_TIMEOUT}={raw!r}: expected a positive number of seconds")
    return value


# -- static check ------------------------------------------------------------------------------------------
_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT}
_UNBOUNDED = sre_c.MAXREPEAT


def risky(pattern: str) -> str | None:
    """Why `pattern` risks catastrophic backtracking, or None. Patterns the stdlib cannot parse (regex-module
    syntax such as \\p{L}) are not judged here; the run-time limit still applies to them."""
    try:
        tree = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    return _walk(list(tree), inside_unbounded=False)


def _walk(items: list[Any], inside_unbounded: bool) -> str | None:
    for op, av in items:
        if op in _REPEATS or op == getattr(sre_c, "POSSESSIVE_REPEAT", None):
            lo, hi, body = av
            unbounded = hi == _UNBOUNDED
            if op != getattr(sre_c, "POSSESSIVE_REPEAT", None):
                if unbounded and inside_unbounded:
                    return "nested unbounded quantifiers (like (a+)+) can backtrack exponentially"
                if unbounded and _ambiguous_branch(list(body)):
                    return ("an unbounded quantifier over alternatives that can match alike (like (a|aa)+) can "
                            "backtrack exponentially")
            why = _walk(list(body), inside_unbounded or (unbounded and op != getattr(sre_c, "POSSESSIVE_REPEAT",
                                                                                        None)))
            if why:
                return why
        elif op == sre_c.SUBPATTERN:
            why = _walk(list(av[-1]), inside_unbounded)
            if why:
                return why
        elif op == sre_c.BRANCH:
            for branch in av[1]:
                why = _walk(list(branch), inside_unbounded)
                if why:
                    return why
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            why = _walk(list(av[1]), inside_unbounded)
            if why:
                return why
        elif op == getattr(sre_c, "ATOMIC_GROUP", None):
            continue  # atomic groups never backtrack into themselves
    return None


def _first(items: list[Any]) -> Any:
    """A comparable stand-in for what a branch's first element can match (None: cannot tell / empty)."""
    while items:
        op, av = items[0]
        if op == sre_c.SUBPATTERN:
            items = list(av[-1])
            continue
        if op in _REPEATS:
            lo, _hi, body = av
            if lo == 0:
                return "optional"  # an optional first element: the branch may start like anything after it
            items = list(body)
            continue
        return (str(op), repr(av))
    return "empty"


def _ambiguous_branch(items: list[Any]) -> bool:
    for op, av in items:
        if op == sre_c.SUBPATTERN:
            return _ambiguous_branch(list(av[-1]))
        if op == sre_c.BRANCH:
            firsts = [_first(list(b)) for b in av[1]]
            if "optional" in firsts or "empty" in firsts:
                return True
            return len(set(firsts)) < len(firsts)
    return False


def compile_error(pattern: str) -> str | None:
    try:
        regex.compile(pattern)
    except regex.error as e:
        return f"not a valid regular expression ({e})"
    return None


def check(pattern: str, where: str) -> None:
    why = risky(pattern)
    if why:
        raise UnsafeRegex(f"{where}: regex refused: {why}; rewrite it without nested or ambiguous repetition")
