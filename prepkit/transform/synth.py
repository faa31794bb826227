"""The synthesize operator: realistic, consistent fake values seeded from a keyed HMAC of the real one.

No lookup table: the surrogate of a value is a function of (key, entity type, normalized value), so the same
value gets the same surrogate in every record, file, worker and run; another key gives other surrogates. Names
are mapped part by part (given and family names separately), which keeps "Maria Lopez", "Ms. Lopez" and "Maria"
coherent within a document and across the corpus. Numbers keep their format: phones their layout, cards their
issuer prefix, length and Luhn digit, IBANs their country, length and mod-97 checksum.
"""

from __future__ import annotations

import ipaddress
import random
import re
import string
from collections.abc import Callable
from functools import cache
from typing import Any

from faker import Faker

from prepkit.transform.context import DocContext
from prepkit.transform.dates import DateRewriter, has_calendar_date
from prepkit.transform.match import identifying
from prepkit.transform.operators import Operator, ParamProblems, register
from prepkit.transform.subjects import normalize

MAX_ATTEMPTS = 40


class SurrogateError(RuntimeError):
    """No surrogate distinct from the record's real values could be drawn. Never carries the value."""


# --- format-preserving digits --------------------------------------------------------------------------------


def _fill(template: str, digits: list[str]) -> str:
    """Put `digits` into the digit positions of `template`, keeping every other character."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in template)


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, c in enumerate(reversed(payload)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    d = re.sub(r"\D", "", number)
    return len(d) >= 2 and luhn_check_digit(d[:-1]) == d[-1]


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
    return _fill(value, list(payload + luhn_check_digit(payload)))


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


def fake_iban(value: str, rng: random.Random) -> str:
    compact = re.sub(r"\s", "", value)
    country, bban = compact[:2], compact[4:]
    new_bban = "".join(_same_class(c, rng) for c in bban)
    new = country + iban_check_digits(country, new_bban) + new_bban
    it = iter(new)
    out = "".join(c if c.isspace() else next(it) for c in value)
    return out if value[:2].isupper() else out.lower()


def _same_class(c: str, rng: random.Random, first: bool = False) -> str:
    if c.isdigit():
        return str(rng.randrange(1 if first and c != "0" else 0, 10))
    if c.isascii() and c.isupper():
        return rng.choice(string.ascii_uppercase)
    if c.isascii() and c.islower():
        return rng.choice(string.ascii_lowercase)
    return c


def fake_generic(value: str, rng: random.Random) -> str:
    """Same shape: digits to digits, letters to letters (case kept), everything else as is."""
    return "".join(_same_class(c, rng, first=i == 0) for i, c in enumerate(value))


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
    return _fill(value, new)


def fake_ssn(value: str, rng: random.Random) -> str:
    d = re.sub(r"\D", "", value)
    if len(d) != 9:
        return fake_generic(value, rng)
    area = rng.choice([a for a in range(1, 900) if a != 666])
    digits = f"{area:03d}{rng.randrange(1, 100):02d}{rng.randrange(1, 10000):04d}"
    return _fill(value, list(digits))


# --- names ---------------------------------------------------------------------------------------------------

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "mister", "madam", "mme", "mlle", "herr", "frau"}
_FEMALE_TITLES = {"mrs", "ms", "miss", "madam", "mme", "mlle", "frau"}
_MALE_TITLES = {"mr", "mister", "sir", "herr"}
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "md", "phd"}
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?\.?|[^\s,;()]+")


def _provider_words(locale: str, attr: str, *, dict_values: bool = False) -> frozenset[str]:
    """Every string a locale's Faker providers list under `attr`. A dict gives its keys (weighted name lists),
    or its values with `dict_values` (states keyed by abbreviation)."""
    out: set[str] = set()
    for p in Faker(locale).providers:
        items = getattr(p, attr, ())
        if isinstance(items, dict) and dict_values:
            items = items.values()
        out |= {w.lower() for w in items if isinstance(w, str)}
    return frozenset(out)


@cache
def _name_lists(locale: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    return (_provider_words(locale, "first_names_female"), _provider_words(locale, "first_names_male"),
            _provider_words(locale, "last_names"))


def _case_like(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template.islower():
        return word.lower()
    return word


def _name_tokens(value: str) -> list[tuple[str, str]]:
    """(kind, token): kind is title, suffix, initial, name, or other (kept as is: spaces, commas)."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _WORD.finditer(value):
        if m.start() > pos:
            out.append(("other", value[pos:m.start()]))
        tok = m.group()
        bare = tok.rstrip(".").lower()
        if bare in _TITLES:
            kind = "title"
        elif bare in _NAME_SUFFIXES and out:
            kind = "suffix"
        elif len(bare) == 1 and bare.isalpha():
            kind = "initial"
        elif any(c.isalpha() for c in tok) and not any(c.isdigit() or c in "@_#/:" for c in tok):
            kind = "name"
        elif any(c.isalnum() for c in tok):
            kind = "handle"  # "@maria_l", "mlopez2": shape kept, letters and digits replaced
        else:
            kind = "other"
        out.append((kind, tok))
        pos = m.end()
    if pos < len(value):
        out.append(("other", value[pos:]))
    return out


class Names:
    """Per-document name-part map: real part -> fake part, consistent across the corpus (seeded by the part)."""

    def __init__(self, ctx: DocContext):
        self.ctx = ctx
        self.locale = ctx.shared.locale
        self.given_parts: set[str] = set()
        self.family_parts: set[str] = set()
        self.real_parts: set[str] = set()
        # Two passes: full and titled names fix which parts are family names, then lone parts are read by them.
        persons = [v for t, v in ctx.findings if t == "PERSON"]
        for learn in (False, True):
            for value in persons:
                toks = _name_tokens(value)
                for (kind, tok), role in zip(toks, self.roles(value, learn=learn), strict=True):
                    if kind != "name":
                        continue
                    bare = tok.rstrip(".").lower()
                    if not learn:
                        self.real_parts.update(p for p in re.split(r"[-’']", bare) if p)
                    if learn or sum(k == "name" for k, _ in toks) > 1 or role == "family":
                        (self.given_parts if role == "given" else self.family_parts).add(bare)
        self.mapped: dict[tuple[str, str], str] = {}
        self.used: dict[str, tuple[str, str]] = {}

    def roles(self, value: str, learn: bool = True) -> list[str]:
        toks = _name_tokens(value)
        names = [i for i, (k, _) in enumerate(toks) if k == "name"]
        titles = [t.rstrip(".").lower() for k, t in toks if k == "title"]
        roles = ["" for _ in toks]
        comma = any(k == "other" and "," in t for k, t in toks)
        if comma and len(names) >= 2:  # "Lopez, Maria"
            roles[names[0]] = "family"
            for i in names[1:]:
                roles[i] = "given"
        elif len(names) >= 2:
            for i in names[:-1]:
                roles[i] = "given"
            roles[names[-1]] = "family"
        elif names:
            tok = toks[names[0]][1].rstrip(".").lower()
            if titles or learn and tok in self.family_parts and tok not in self.given_parts:
                roles[names[0]] = "family"
            else:
                roles[names[0]] = "given"
        for i, (k, _) in enumerate(toks):
            if k == "initial":
                roles[i] = "initial"
        return roles

    def gender(self, token: str, titles: list[str]) -> str | None:
        female, male, _ = _name_lists(self.locale)
        t = token.lower()
        if t in female and t not in male:
            return "female"
        if t in male and t not in female:
            return "male"
        if any(x in _FEMALE_TITLES for x in titles):
            return "female"
        if any(x in _MALE_TITLES for x in titles):
            return "male"
        return None

    def part(self, token: str, role: str, titles: list[str]) -> str:
        """The fake for one name part; hyphenated parts map piece by piece ("Mary-Jane" -> "Anna-Lee")."""
        pieces = re.split(r"([-’'])", token)
        return "".join(p if p in "-’'" or not p else self._piece(p, role, titles) for p in pieces)

    def _piece(self, piece: str, role: str, titles: list[str]) -> str:
        norm = normalize(piece)
        key = (role, norm)
        hit = self.mapped.get(key)
        if hit is not None:
            return _case_like(piece, hit)
        gender = self.gender(piece, titles) if role == "given" else None

        def from_faker(f: Faker) -> str:
            if role == "given":
                return {"female": f.first_name_female, "male": f.first_name_male}.get(gender or "", f.first_name)()
            return str(f.last_name())

        # Faker's lists first; a long document can hold most of them already, so then coin a pronounceable
        # name rather than fail the record.
        for purpose, draw in ((f"PERSON/{role}", from_faker), (f"PERSON/{role}/coined", _coined_name)):
            for attempt in range(MAX_ATTEMPTS):
                fake = draw(self.ctx.shared.seeded(purpose, norm, attempt))
                low = fake.lower()
                owner = self.used.get(low)
                if low in self.real_parts or (owner is not None and owner != key) or self.ctx.is_real(fake):
                    continue  # a real name of this record, or already another person's part here
                self.mapped[key] = fake
                self.used[low] = key
                return _case_like(piece, fake)
        raise SurrogateError("PERSON: no name part distinct from the record's names")

    def initial(self, letter: str, attempt_seed: str) -> str:
        """An initial follows a mapped given name with that letter ("M. Lopez" beside "Maria Lopez")."""
        low = letter.lower()
        for (role, norm), fake in sorted(self.mapped.items()):
            if role == "given" and norm.startswith(low):
                return _case_like(letter, fake[0].upper())
        rng = self.ctx.shared.rng("PERSON/initial", low + "\x00" + attempt_seed)
        return _case_like(letter, rng.choice(string.ascii_uppercase))

    def fake(self, value: str) -> str:
        toks = _name_tokens(value)
        roles = self.roles(value)
        titles = [t.rstrip(".").lower() for k, t in toks if k == "title"]
        out = []
        for (kind, tok), role in zip(toks, roles, strict=True):
            if kind == "name":
                dot = "." if tok.endswith(".") else ""
                out.append(self.part(tok.rstrip("."), role, titles) + dot)
            elif kind == "initial":
                out.append(self.initial(tok[0], normalize(value)) + tok[1:])
            elif kind == "handle":
                out.append(fake_generic(tok, self.ctx.shared.rng("PERSON/handle", normalize(tok))))
            else:
                out.append(tok)
        return "".join(out)


def _names(ctx: DocContext) -> Names:
    n = ctx.scratch.get("names")
    if n is None:
        n = ctx.scratch["names"] = Names(ctx)
    return n


# --- emails, URLs, places ------------------------------------------------------------------------------------

_FREE_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com", "icloud.com",
    "me.com", "msn.com", "gmx.com", "gmx.de", "web.de", "proton.me", "protonmail.com", "yandex.ru", "mail.ru",
    "hotmail.co.uk", "yahoo.co.uk", "orange.fr", "free.fr", "qq.com", "163.com",
}


def _fake_domain(domain: str, ctx: DocContext) -> str:
    d = domain.lower()
    if d in _FREE_MAIL:
        return domain  # a mail provider identifies nobody
    for attempt in range(MAX_ATTEMPTS):
        fake = ctx.shared.seeded("DOMAIN", d, attempt).domain_name()
        if fake != d and not ctx.is_real(fake):
            return _case_like(domain, fake)
    raise SurrogateError("domain: no surrogate")


def fake_email(value: str, ctx: DocContext, keep_domain: bool, attempt: int) -> str:
    local, at, domain = value.rpartition("@")
    if not at:
        return fake_generic(value, ctx.shared.rng("EMAIL", normalize(value), attempt))
    names = _names(ctx)
    female, male, last = _name_lists(ctx.shared.locale)
    out = []
    for chunk in re.split(r"([._+-]|\d+)", local):
        if not chunk or chunk in "._+-":
            out.append(chunk)
        elif chunk.isdigit():
            rng = ctx.shared.rng("EMAIL/digits", normalize(value), attempt)
            out.append("".join(str(rng.randrange(10)) for _ in chunk))
        elif len(chunk) == 1:
            out.append(names.initial(chunk, normalize(value)).lower() if chunk.islower() else names.initial(chunk, normalize(value)))
        else:
            low = chunk.lower()
            if low in names.family_parts or (low in last and low not in female | male | names.given_parts):
                out.append(_case_like(chunk, names.part(chunk, "family", []).lower()))
            elif low in names.given_parts or low in female or low in male:
                out.append(_case_like(chunk, names.part(chunk, "given", []).lower()))
            else:
                f = ctx.shared.seeded("EMAIL/word", low, attempt)
                word = re.sub(r"[^a-z]", "", f.user_name().lower()) or "user"
                out.append(_case_like(chunk, word))
    new_domain = domain if keep_domain else _fake_domain(domain, ctx)
    return "".join(out) + "@" + new_domain


def fake_url(value: str, ctx: DocContext, attempt: int) -> str:
    m = re.match(r"(?i)^((?:[a-z][a-z0-9+.-]*:)?//)?(www\d?\.)?([^/?#:\s]+)(:\d+)?([^?#]*)(.*)$", value)
    if not m:
        return fake_generic(value, ctx.shared.rng("URL", normalize(value), attempt))
    scheme, www, host, port, path, rest = (g or "" for g in m.groups())
    f = ctx.shared.seeded("URL/path", normalize(value), attempt)
    new_path = "/" + f.uri_path(deep=max(1, path.strip("/").count("/") + 1)) if path.strip("/") else path
    new_rest = ("?" + f.uri_page() + "=" + str(f.random_int(1, 999))) if rest else ""
    return f"{scheme}{www}{_fake_domain(host, ctx)}{port}{new_path}{new_rest}"


def fake_ip(value: str, ctx: DocContext, attempt: int) -> str:
    addr, slash, plen = value.partition("/")
    f = ctx.shared.seeded("IP", normalize(value), attempt)
    try:
        ip = ipaddress.ip_address(addr.strip("[]"))
    except ValueError:
        return fake_generic(value, ctx.shared.rng("IP", normalize(value), attempt))
    new = f.ipv6() if ip.version == 6 else f.ipv4_private() if ip.is_private else f.ipv4_public()
    return new + slash + plen


@cache
def _place_sets(locale: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    return (_provider_words(locale, "countries"), _provider_words(locale, "states", dict_values=True),
            _provider_words(locale, "states_abbr"))


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
        out = f"{region}{m[2]}{_fill(m[3], zip_digits)}"
    elif _ZIP.match(s):
        out = _fill(s, [str(f.random_digit()) for _ in re.sub(r"\D", "", s)])
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
    return lead + _case_like(s, out) + trail


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


_NATIONALITIES = [
    "American", "Brazilian", "Canadian", "Chilean", "Danish", "Dutch", "Finnish", "French", "German", "Greek",
    "Irish", "Italian", "Japanese", "Kenyan", "Korean", "Mexican", "Norwegian", "Peruvian", "Polish",
    "Portuguese", "Spanish", "Swedish", "Swiss", "Turkish", "Vietnamese",
]


def fake_age(value: str, rng: random.Random) -> str:
    def sub(m: re.Match[str]) -> str:
        n = int(m.group())
        if n > 89:
            return "90+"  # HIPAA: ages over 89 are grouped
        delta = rng.choice([-3, -2, -1, 1, 2, 3])
        return str(min(max(n + delta, 1), 89))

    return re.sub(r"\d+", sub, value, count=1)


# --- the operator --------------------------------------------------------------------------------------------

Gen = Callable[[str, DocContext, dict[str, Any], int], str]


def _rng(etype: str) -> Callable[[Callable[[str, random.Random], str]], Gen]:
    def wrap(fn: Callable[[str, random.Random], str]) -> Gen:
        return lambda v, ctx, p, a: fn(v, ctx.shared.rng(etype, normalize(v, etype), a))

    return wrap


def _faker(method: str, etype: str) -> Gen:
    return lambda v, ctx, p, a: _case_like(v, getattr(ctx.shared.seeded(etype, normalize(v, etype), a, p.get("locale")), method)())


def _title(v: str, ctx: DocContext, p: dict[str, Any], a: int) -> str:
    f = ctx.shared.seeded("TITLE", normalize(v), a)
    return f.prefix() if len(v) <= 5 else f.job()


def _date(v: str, ctx: DocContext, p: dict[str, Any], a: int) -> str:
    if not has_calendar_date(v):
        return v  # "yesterday", "two weeks", "3 pm": nothing that dates a person
    limit = int(p.get("date_shift_days", 365))
    # One offset per subject, so the intervals between one person's dates survive; `a` redraws on a collision.
    r = ctx.shared.rng("DATE_SHIFT", ctx.subject, a)
    days = r.randint(1, limit) * r.choice((-1, 1))
    return DateRewriter(days, us_order=ctx.shared.locale.endswith("US")).rewrite(v)


GENERATORS: dict[str, Gen] = {
    "PERSON": lambda v, ctx, p, a: _names(ctx).fake(v) if a == 0 else _names_retry(v, ctx, a),
    "EMAIL_ADDRESS": lambda v, ctx, p, a: fake_email(v, ctx, bool(p.get("keep_domain", False)), a),
    "PHONE_NUMBER": _rng("PHONE_NUMBER")(fake_phone),
    "CREDIT_CARD": _rng("CREDIT_CARD")(fake_card),
    "IBAN_CODE": _rng("IBAN_CODE")(fake_iban),
    "US_SSN": _rng("US_SSN")(fake_ssn),
    "IP_ADDRESS": lambda v, ctx, p, a: fake_ip(v, ctx, a),
    "URL": lambda v, ctx, p, a: fake_url(v, ctx, a),
    "DOMAIN_NAME": lambda v, ctx, p, a: _fake_domain(v, ctx),
    "LOCATION": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "ADDRESS": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "STREET_ADDRESS": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "GPE": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "ORGANIZATION": _faker("company", "ORGANIZATION"),
    "NRP": lambda v, ctx, p, a: _case_like(v, ctx.shared.rng("NRP", normalize(v), a).choice(_NATIONALITIES)),
    "TITLE": _title,
    "DATE_TIME": _date,
    "DATE": _date,
    "AGE": _rng("AGE")(fake_age),
}


_ONSETS = ("b", "br", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "th", "sh")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io")
_CODAS = ("", "n", "r", "l", "s", "m", "th", "nd", "x")


_COINED_FALLBACK = {"PERSON", "LOCATION", "ORGANIZATION", "NRP"}


def _coined_name(f: Any) -> str:
    syllables = f.random_int(2, 3)
    word = "".join(f.random_element(_ONSETS) + f.random_element(_VOWELS) for _ in range(syllables))
    return (word + f.random_element(_CODAS)).capitalize()


def _names_retry(v: str, ctx: DocContext, attempt: int) -> str:
    # The part map already avoids real names; a full-string collision (rare) falls back to a fresh full name.
    f = ctx.shared.seeded("PERSON/full", normalize(v), attempt)
    return f.name()


@register
class Synthesize(Operator):
    """Realistic fake values; unknown entity types keep their shape (digits to digits, letters to letters)."""

    name = "synthesize"
    params = {"locale": str, "keep_domain": bool, "date_shift_days": int}

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        if "keep_domain" in params and entity_type not in {"EMAIL_ADDRESS", "DEFAULT"}:
            out.append(("keep_domain", "only applies to EMAIL_ADDRESS"))
        if "date_shift_days" in params and not 1 <= params["date_shift_days"] <= 3650:
            out.append(("date_shift_days", "must be between 1 and 3650"))
        if "locale" in params:
            try:
                Faker(params["locale"])
            except AttributeError:
                out.append(("locale", f"unknown Faker locale {params['locale']!r}"))
        return out

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        if not identifying(value, entity_type):
            return value  # "Miss", "yesterday": nothing to replace, and a surrogate would read wrong
        gen = GENERATORS.get(entity_type) or _rng(entity_type)(fake_generic)
        for attempt in range(MAX_ATTEMPTS):
            out = gen(value, ctx, params, attempt)
            if out and not ctx.is_real(out):
                return out
        if entity_type in _COINED_FALLBACK:
            # Faker's names, places and companies are made of common words ("Lee", "North", "Group"); a record of
            # millions of characters holds them all as real values, and every draw then contains one. Coined,
            # pronounceable words are still checked against the record.
            words = max(1, min(3, len(value.split())))  # "Maria Lopez" gets two coined words
            for attempt in range(MAX_ATTEMPTS):
                f = ctx.shared.seeded(f"{entity_type}/coined", normalize(value), attempt)
                out = _case_like(value, " ".join(_coined_name(f) for _ in range(words)))
                if not ctx.is_real(out):
                    return out
        raise SurrogateError(f"{entity_type}: no surrogate distinct from the record's real values")
