"""The synthesize operator: realistic, consistent fake values seeded from a keyed HMAC of the real one.

No lookup table: the surrogate of a value is a function of (key, entity type, normalized value), so the same
value gets the same surrogate in every record, file, worker and run; another key gives other surrogates. Names
are mapped part by part (given and family names separately), which keeps "Maria Lopez", "Ms. Lopez" and "Maria"
coherent within a document and across the corpus. Numbers keep their format: phones their layout, cards their
issuer prefix, length and Luhn digit, IBANs their country, length and mod-97 checksum. The generators live in
`prepkit.transform.fakes`, one module per kind of value.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from faker import Faker

from prepkit.entities import entity_type as catalog_entry
from prepkit.transform.context import DocContext
from prepkit.transform.dates import DateRewriter, has_calendar_date
from prepkit.transform.fakes.common import MAX_ATTEMPTS, SurrogateError, case_like, fake_generic
from prepkit.transform.fakes.names import coined_name, doc_names
from prepkit.transform.fakes.numbers import fake_age, fake_card, fake_iban, fake_phone, fake_ssn
from prepkit.transform.fakes.places import NATIONALITIES, fake_location
from prepkit.transform.fakes.web import fake_domain, fake_email, fake_ip, fake_url
from prepkit.transform.match import identifying
from prepkit.transform.operators import Operator, ParamProblems, Params, register
from prepkit.transform.subjects import normalize

__all__ = ["GENERATORS", "MAX_ATTEMPTS", "SurrogateError", "Synthesize", "SynthesizeParams"]


class SynthesizeParams(Params):
    locale: str | None = None  # Faker locale for company names; the policy's `locale` otherwise
    keep_domain: bool = False
    date_shift_days: int = 365


Gen = Callable[[str, DocContext, SynthesizeParams, int], str]


def _rng(etype: str) -> Callable[[Callable[[str, random.Random], str]], Gen]:
    def wrap(fn: Callable[[str, random.Random], str]) -> Gen:
        return lambda v, ctx, p, a: fn(v, ctx.shared.rng(etype, normalize(v, etype), a))

    return wrap


def _faker(method: str, etype: str) -> Gen:
    return lambda v, ctx, p, a: case_like(v, getattr(ctx.shared.seeded(etype, normalize(v, etype), a, p.locale), method)())


def _title(v: str, ctx: DocContext, p: SynthesizeParams, a: int) -> str:
    f = ctx.shared.seeded("TITLE", normalize(v), a)
    return f.prefix() if len(v) <= 5 else f.job()


def _date(v: str, ctx: DocContext, p: SynthesizeParams, a: int) -> str:
    if not has_calendar_date(v):
        return v  # "yesterday", "two weeks", "3 pm": nothing that dates a person
    limit = p.date_shift_days
    # One offset per subject, so the intervals between one person's dates survive; `a` redraws on a collision.
    r = ctx.shared.rng("DATE_SHIFT", ctx.subject, a)
    days = r.randint(1, limit) * r.choice((-1, 1))
    return DateRewriter(days, us_order=ctx.shared.locale.endswith("US")).rewrite(v)


GENERATORS: dict[str, Gen] = {
    "PERSON": lambda v, ctx, p, a: doc_names(ctx).fake(v) if a == 0 else _names_retry(v, ctx, a),
    "EMAIL_ADDRESS": lambda v, ctx, p, a: fake_email(v, ctx, p.keep_domain, a),
    "PHONE_NUMBER": _rng("PHONE_NUMBER")(fake_phone),
    "CREDIT_CARD": _rng("CREDIT_CARD")(fake_card),
    "IBAN_CODE": _rng("IBAN_CODE")(fake_iban),
    "US_SSN": _rng("US_SSN")(fake_ssn),
    "IP_ADDRESS": lambda v, ctx, p, a: fake_ip(v, ctx, a),
    "URL": lambda v, ctx, p, a: fake_url(v, ctx, a),
    "DOMAIN_NAME": lambda v, ctx, p, a: fake_domain(v, ctx),
    "LOCATION": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "ADDRESS": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "STREET_ADDRESS": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "GPE": lambda v, ctx, p, a: fake_location(v, ctx, a),
    "ORGANIZATION": _faker("company", "ORGANIZATION"),
    "NRP": lambda v, ctx, p, a: case_like(v, ctx.shared.rng("NRP", normalize(v), a).choice(NATIONALITIES)),
    "TITLE": _title,
    "DATE_TIME": _date,
    "DATE": _date,
    "AGE": _rng("AGE")(fake_age),
}


# Generators for a second round of draws, when every draw of the first met a real value of the record: only the
# values that failed change (the first round is as it was), and the result is still checked against the record.
LAST_RESORT: dict[str, Gen] = {
    "EMAIL_ADDRESS": lambda v, ctx, p, a: fake_email(v, ctx, p.keep_domain, a, last_resort=True),
}


def _names_retry(v: str, ctx: DocContext, attempt: int) -> str:
    # The part map already avoids real names; a full-string collision (rare) falls back to a fresh full name.
    f = ctx.shared.seeded("PERSON/full", normalize(v), attempt)
    return f.name()


@register
class Synthesize(Operator):
    """Realistic fake values; unknown entity types keep their shape (digits to digits, letters to letters)."""

    name = "synthesize"
    Params = SynthesizeParams
    libraries = ("faker",)  # a Faker upgrade changes its lists, and so the surrogates

    def check(self, p: SynthesizeParams, entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        given = p.given()
        if "keep_domain" in given and entity_type not in {"EMAIL_ADDRESS", "DEFAULT"}:
            out.append(("keep_domain", "only applies to EMAIL_ADDRESS"))
        if not 1 <= p.date_shift_days <= 3650:
            out.append(("date_shift_days", "must be between 1 and 3650"))
        if p.locale is not None:
            try:
                Faker(p.locale)
            except AttributeError:
                out.append(("locale", f"unknown Faker locale {p.locale!r}"))
        return out

    def apply(self, value: str, entity_type: str, p: SynthesizeParams, ctx: DocContext) -> str:
        if not identifying(value, entity_type):
            return value  # "Miss", "yesterday": nothing to replace, and a surrogate would read wrong
        gen = GENERATORS.get(entity_type) or _rng(entity_type)(fake_generic)
        for attempt in range(MAX_ATTEMPTS):
            out = gen(value, ctx, p, attempt)
            if out and not ctx.is_real(out):
                return out
        last = LAST_RESORT.get(entity_type)
        if last is not None:
            for attempt in range(MAX_ATTEMPTS):
                out = last(value, ctx, p, attempt)
                if out and not ctx.is_real(out):
                    return out
        if catalog_entry(entity_type).name_like:
            # Faker's names, places and companies are made of common words ("Lee", "North", "Group"); a record of
            # millions of characters holds them all as real values, and every draw then contains one. Coined,
            # pronounceable words are still checked against the record.
            words = max(1, min(3, len(value.split())))  # "Maria Lopez" gets two coined words
            for attempt in range(MAX_ATTEMPTS):
                f = ctx.shared.seeded(f"{entity_type}/coined", normalize(value), attempt)
                out = case_like(value, " ".join(coined_name(f) for _ in range(words)))
                if not ctx.is_real(out):
                    return out
        raise SurrogateError(f"{entity_type}: no surrogate distinct from the record's real values")

    def describe(self, p: SynthesizeParams, entity_type: str) -> str:
        extra = ""
        if p.keep_domain:
            extra += ", keeping the e-mail domain"
        if "date_shift_days" in p.given():
            extra += f", dates shifted by up to {p.date_shift_days} days"
        if p.locale:
            extra += f", in the {p.locale} locale"
        return ("replaced by a realistic fake value; the same real value always gets the same fake one (keyed), "
                f"so a person stays one person across a conversation{extra}")
