"""Places: each line or comma part of an address becomes a fake street, city, state, ZIP or country; and
nationalities."""

from __future__ import annotations

import re
from functools import cache

from faker import Faker

from prepkit.transform.context import DocContext
from prepkit.transform.fakes.common import case_like, fake_generic, fill_digits, provider_words
from prepkit.transform.subjects import normalize


@cache
def _place_sets(locale: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    return (provider_words(locale, "countries"), provider_words(locale, "states", dict_values=True),
            provider_words(locale, "states_abbr"))


_STATE_ZIP = re.compile(r"^([A-Za-z]{2})(\s+)(\d{5}(?:-\d{4})?)$")
_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")


def _call(f: Faker, *methods: str) -> str:
    """The first provider method this locale has (not every Faker locale has states, or secondary addresses)."""
    for m in methods:
        fn = getattr(f, m, None)
        if fn is not None:
            try:
                return str(fn())
            except AttributeError:
                continue
    raise AttributeError(methods[-1])


def _fake_place_part(part: str, index: int, f: Faker, locale: str) -> str:
    countries, states, abbrs = _place_sets(locale)
    s = part.strip()
    low = s.lower()
    if not s:
        return part
    if index == 0 and s[0].isdigit():
        out = _call(f, "street_address", "address")
        if re.search(r"(?i)\b(apt|suite|ste|unit|#)", s) and not re.search(r"(?i)\b(apt|suite)", out):
            out += " " + _call(f, "secondary_address", "building_number")
    elif re.match(r"(?i)^(apt|suite|ste|unit|#)\.?\s*\w+$", s):
        out = _call(f, "secondary_address", "building_number")
    elif m := _STATE_ZIP.match(s):
        zip_digits = [str(f.random_digit()) for _ in re.sub(r"\D", "", m[3])]
        region = fake_generic(m[1], f.random) if getattr(f, "state_abbr", None) is None else f.state_abbr()
        out = f"{region}{m[2]}{fill_digits(m[3], zip_digits)}"
    elif _ZIP.match(s):
        out = fill_digits(s, [str(f.random_digit()) for _ in re.sub(r"\D", "", s)])
    elif low in countries:
        out = f.country()
    elif low in states:
        out = _call(f, "state", "city")
    elif low in abbrs and len(s) == 2:
        out = _call(f, "state_abbr", "city")
    elif index == 0 and re.search(r"(?i)\b(street|st|avenue|ave|road|rd|lane|ln|drive|dr|blvd|way|court|ct)\b\.?$", s):
        out = _call(f, "street_name", "street_address")
    else:
        out = f.city()
    out = re.sub(r"\s*\n\s*", " ", out)  # some locales write a street on two lines; this part is one
    lead = part[: len(part) - len(part.lstrip())]
    trail = part[len(part.rstrip()):]
    return lead + case_like(s, out) + trail


def fake_location(value: str, ctx: DocContext, attempt: int) -> str:
    """Addresses stay addresses: each line or comma part becomes a fake street, city, state, ZIP or country."""
    f = ctx.shared.seeded("LOCATION", normalize(value), attempt)
    parts = re.split(r"(\n|,)", value)
    out = []
    idx = 0
    for p in parts:
        if p in ("\n", ","):
            out.append(p)
        else:
            out.append(_fake_place_part(p, idx, f, ctx.shared.locale) if p.strip() else p)
            idx += 1 if p.strip() else 0
    return "".join(out)


NATIONALITIES = [
    "American", "Brazilian", "Canadian", "Chilean", "Danish", "Dutch", "Finnish", "French", "German", "Greek",
    "Irish", "Italian", "Japanese", "Kenyan", "Korean", "Mexican", "Norwegian", "Peruvian", "Polish",
    "Portuguese", "Spanish", "Swedish", "Swiss", "Turkish", "Vietnamese",
]
