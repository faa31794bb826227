"""What every surrogate generator shares: the retry budget, its error, and shape-keeping helpers."""

from __future__ import annotations

import random
import string

from faker import Faker

from prepkit.errors import PrepkitError

MAX_ATTEMPTS = 40


class SurrogateError(PrepkitError, RuntimeError):
    """No surrogate distinct from the record's real values could be drawn. Never carries the value."""


def fill_digits(template: str, digits: list[str]) -> str:
    """Put `digits` into the digit positions of `template`, keeping every other character."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in template)


def same_class(c: str, rng: random.Random, first: bool = False) -> str:
    if c.isdigit():
        return str(rng.randrange(1 if first and c != "0" else 0, 10))
    if c.isascii() and c.isupper():
        return rng.choice(string.ascii_uppercase)
    if c.isascii() and c.islower():
        return rng.choice(string.ascii_lowercase)
    return c


def fake_generic(value: str, rng: random.Random) -> str:
    """Same shape: digits to digits, letters to letters (case kept), everything else as is."""
    return "".join(same_class(c, rng, first=i == 0) for i, c in enumerate(value))


def case_like(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template.islower():
        return word.lower()
    return word


def provider_words(locale: str, attr: str, *, dict_values: bool = False) -> frozenset[str]:
    """Every string a locale's Faker providers list under `attr`. A dict gives its keys (weighted name lists),
    or its values with `dict_values` (states keyed by abbreviation)."""
    out: set[str] = set()
    for p in Faker(locale).providers:
        items = getattr(p, attr, ())
        if isinstance(items, dict) and dict_values:
            items = items.values()
        out |= {w.lower() for w in items if isinstance(w, str)}
    return frozenset(out)


