"""The synthesize operator: realistic, consistent fake values seeded from a keyed HMAC of the real one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faker import Faker

from prepkit.transform.context import DocContext
from prepkit.transform.operators import Operator, ParamProblems, register
from prepkit.transform.subjects import normalize

Gen = Callable[[Faker, str], str]

_GENERATORS: dict[str, Gen] = {
    "PERSON": lambda f, v: f.name(),
    "EMAIL_ADDRESS": lambda f, v: f.email(),
    "PHONE_NUMBER": lambda f, v: f.phone_number(),
    "LOCATION": lambda f, v: f.city(),
    "ADDRESS": lambda f, v: f.street_address(),
    "STREET_ADDRESS": lambda f, v: f.street_address(),
    "ORGANIZATION": lambda f, v: f.company(),
    "NRP": lambda f, v: f.country(),
    "DATE_TIME": lambda f, v: f.date(),
    "CREDIT_CARD": lambda f, v: f.credit_card_number(),
    "IBAN_CODE": lambda f, v: f.iban(),
    "US_SSN": lambda f, v: f.ssn(),
    "IP_ADDRESS": lambda f, v: f.ipv4_private(),
    "URL": lambda f, v: f.url(),
}

MAX_ATTEMPTS = 50


@register
class Synthesize(Operator):
    name = "synthesize"
    params = {"locale": str, "keep_domain": bool, "date_shift_days": int, "date_granularity": str}

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        gen = _GENERATORS.get(entity_type)
        norm = normalize(value, entity_type)
        for attempt in range(MAX_ATTEMPTS):
            f = ctx.shared.seeded(entity_type, norm, attempt, params.get("locale"))
            out = gen(f, value) if gen else f"{entity_type}-{f.hexify('^^^^^^^^')}"
            if not ctx.is_real(out, entity_type):
                return out
        raise RuntimeError(f"could not draw a {entity_type} surrogate distinct from the record's values")

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        return []
