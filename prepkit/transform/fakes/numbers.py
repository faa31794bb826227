"""Numbers that keep their format and stay valid: cards (issuer prefix, length, Luhn digit), IBANs (country,
length, mod-97), phones (country code, trunk prefix, North American numbering rules), SSNs (issuable areas), ages."""

from __future__ import annotations

import random
import re

from prepkit.checksums import iban_check_digits, luhn_check_digit
from prepkit.transform.fakes.common import fake_generic, fill_digits, same_class


def _issuer_prefix(d: str) -> int:
    """How many leading digits name the card network (not the bank: the full BIN would narrow the holder)."""
    if d.startswith("6011") or d[:3] in {f"64{i}" for i in range(4, 10)}:
        return 4 if d.startswith("6011") else 3
    if d[:2] in {"34", "37", "35", "36", "38", "65", "62"} or "51" <= d[:2] <= "55":
        return 2
    if "2221" <= d[:4] <= "2720":
        return 4
    return 1


def fake_card(value: str, rng: random.Random) -> str:
    d = re.sub(r"\D", "", value)
    keep = min(_issuer_prefix(d), max(len(d) - 2, 0))
    body = list(d[:keep]) + [str(rng.randrange(10)) for _ in range(len(d) - keep - 1)]
    payload = "".join(body)
    return fill_digits(value, list(payload + luhn_check_digit(payload)))



def fake_iban(value: str, rng: random.Random) -> str:
    compact = re.sub(r"\s", "", value)
    country, bban = compact[:2], compact[4:]
    new_bban = "".join(same_class(c, rng) for c in bban)
    new = country + iban_check_digits(country, new_bban) + new_bban
    it = iter(new)
    out = "".join(c if c.isspace() else next(it) for c in value)
    return out if value[:2].isupper() else out.lower()


def fake_phone(value: str, rng: random.Random) -> str:
    d = re.sub(r"\D", "", value)
    s = value.lstrip()
    if s.startswith("00"):
        keep = 4
    elif s.startswith("+"):
        keep = 1 if d[:1] in {"1", "7"} else 2  # country code: keep, a phone stays in its country
    elif len(d) == 11 and d.startswith("1"):
        keep = 1
    elif d.startswith("0"):
        keep = 1  # national trunk prefix
    else:
        keep = 0
    rest = len(d) - keep
    new = list(d[:keep])
    nanp = rest == 10 and (keep == 0 or d[:keep] in {"1", "001"} or (keep == 1 and d[0] == "1"))
    for i in range(rest):
        if nanp and i in (0, 3):
            new.append(str(rng.randrange(2, 10)))  # area code and exchange never start with 0 or 1
        elif nanp and i == 1:
            new.append(str(rng.randrange(0, 9)))  # no N9X area codes, and not N11 (see below)
        elif i == 0 and keep:
            new.append(str(rng.randrange(1, 10)))  # "0" then "0" would read as an international prefix
        else:
            new.append(str(rng.randrange(10)))
    if nanp and new[keep + 1] == new[keep + 2] == "1":
        new[keep + 2] = "2"
    return fill_digits(value, new)


def fake_ssn(value: str, rng: random.Random) -> str:
    d = re.sub(r"\D", "", value)
    if len(d) != 9:
        return fake_generic(value, rng)
    area = rng.choice([a for a in range(1, 900) if a != 666])
    digits = f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"
    return fill_digits(value, list(digits))


def fake_age(value: str, rng: random.Random) -> str:
    def sub(m: re.Match[str]) -> str:
        n = int(m.group())
        if n > 89:
            return "90+"  # HIPAA: ages over 89 are grouped
        delta = rng.choice([-3, -2, -1, 1, 2, 3])
        return str(min(max(n + delta, 1), 89))

    return re.sub(r"\d+", sub, value, count=1)
