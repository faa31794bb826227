"""Person names mapped part by part (given and family names apart), so "Maria Lopez", "Ms. Lopez" and "Maria"
stay one fake person within a document, and the same real part gets the same fake part across the corpus."""

from __future__ import annotations

import re
import string
from functools import cache, lru_cache
from typing import Any

from faker import Faker

from prepkit.transform.context import DocContext
from prepkit.transform.fakes.common import (
    MAX_ATTEMPTS,
    SurrogateError,
    case_like,
    fake_generic,
    provider_words,
)
from prepkit.transform.subjects import normalize

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "mister", "madam", "mme", "mlle", "herr", "frau"}
_FEMALE_TITLES = {"mrs", "ms", "miss", "madam", "mme", "mlle", "frau"}
_MALE_TITLES = {"mr", "mister", "sir", "herr"}
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "md", "phd"}
_GIVEN_BY_GENDER = {"female": "first_name_female", "male": "first_name_male"}
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?\.?|[^\s,;()]+")


@cache
def name_lists(locale: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    return (provider_words(locale, "first_names_female"), provider_words(locale, "first_names_male"),
            provider_words(locale, "last_names"))


@lru_cache(maxsize=1 << 14)  # a name is tokenized for the part map, its roles and its surrogate
def _name_tokens(value: str) -> tuple[tuple[str, str], ...]:
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
    return tuple(out)


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
        # first character -> the smallest mapped given name starting with it (what `initial` looks for): sorting
        # every mapped part for each initial was quadratic in a long document
        self.first_given: dict[str, str] = {}

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
        female, male, _ = name_lists(self.locale)
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
            return case_like(piece, hit)
        gender = self.gender(piece, titles) if role == "given" else None

        def from_faker(f: Faker) -> str:
            if role == "given":  # only the method drawn from is looked up on Faker's proxy (each lookup costs)
                return str(getattr(f, _GIVEN_BY_GENDER.get(gender or "", "first_name"))())
            return str(f.last_name())

        # Faker's lists first; a long document can hold most of them already, so then coin a pronounceable
        # name rather than fail the record.
        for purpose, draw in ((f"PERSON/{role}", from_faker), (f"PERSON/{role}/coined", coined_name)):
            for attempt in range(MAX_ATTEMPTS):
                fake = draw(self.ctx.shared.seeded(purpose, norm, attempt))
                low = fake.lower()
                owner = self.used.get(low)
                if low in self.real_parts or (owner is not None and owner != key) or self.ctx.is_real(fake):
                    continue  # a real name of this record, or already another person's part here
                self.mapped[key] = fake
                self.used[low] = key
                if role == "given" and norm:
                    best = self.first_given.get(norm[0])
                    if best is None or norm < best:
                        self.first_given[norm[0]] = norm
                return case_like(piece, fake)
        raise SurrogateError("PERSON: no name part distinct from the record's names")

    def initial(self, letter: str, attempt_seed: str) -> str:
        """An initial follows a mapped given name with that letter ("M. Lopez" beside "Maria Lopez")."""
        low = letter.lower()
        # the first mapped given name in sorted order that starts with the letter
        norm = self.first_given.get(low) if len(low) == 1 else \
            min((n for r, n in self.mapped if r == "given" and n.startswith(low)), default=None)
        if norm is not None:
            return case_like(letter, self.mapped[("given", norm)][0].upper())
        rng = self.ctx.shared.rng("PERSON/initial", low + "\x00" + attempt_seed)
        return case_like(letter, rng.choice(string.ascii_uppercase))

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


def doc_names(ctx: DocContext) -> Names:
    n = ctx.scratch.get("names")
    if n is None:
        n = ctx.scratch["names"] = Names(ctx)
    return n


_ONSETS = ("b", "br", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "th", "sh")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io")
_CODAS = ("", "n", "r", "l", "s", "m", "th", "nd", "x")


def coined_name(f: Any) -> str:
    syllables = f.random_int(2, 3)
    word = "".join(f.random_element(_ONSETS) + f.random_element(_VOWELS) for _ in range(syllables))
    return (word + f.random_element(_CODAS)).capitalize()
