"""Check digits of the numbers prepkit detects and synthesizes: Luhn (cards, NPI) and ISO 13616 mod-97 (IBAN).

One implementation, used by the recognizers that confirm a match and by the surrogates that must stay valid.
"""

from __future__ import annotations

import re


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, c in enumerate(reversed(payload)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """The digits of `number` (separators ignored) end in their Luhn check digit."""
    d = re.sub(r"\D", "", number)
    return len(d) >= 2 and luhn_check_digit(d[:-1]) == d[-1]


def iban_check_digits(country: str, bban: str) -> str:
    s = bban.upper() + country.upper() + "00"
    num = int("".join(str(int(c, 36)) for c in s))
    return f"{98 - num % 97:02d}"


def iban_valid(iban: str) -> bool:
    s = re.sub(r"\s", "", iban).upper()
    if len(s) < 5 or not s[:2].isalpha():
        return False
    num = int("".join(str(int(c, 36)) for c in s[4:] + s[:4]))
    return num % 97 == 1
