"""The built-in operators: redact, replace, mask, hash, encrypt, synthesize, generalize."""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from typing import Any

from prepkit.transform.context import DocContext
from prepkit.transform.crypto import encrypt_value
from prepkit.transform.dates import generalize_date, has_calendar_date
from prepkit.transform.operators import Operator, ParamProblems, register
from prepkit.transform.subjects import normalize


@register
class Redact(Operator):
    """Remove the value (Presidio's semantics), or put a fixed text in its place."""

    name = "redact"
    params = {"text": str}

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        return str(params.get("text", ""))


_TEMPLATE_FIELDS = {"entity_type", "n"}


@register
class Replace(Operator):
    """A placeholder per value, numbered per document: the same value gets the same number."""

    name = "replace"
    params = {"template": str}
    default_template = "<{entity_type}_{n}>"

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        t = params.get("template", self.default_template)
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(t) if f is not None}
        except ValueError as e:
            return [("template", f"invalid template: {e}")]
        bad = fields - _TEMPLATE_FIELDS
        if bad:
            return [("template", f"unknown field(s) {', '.join(sorted(bad))}; allowed: {{entity_type}}, {{n}}")]
        return []

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        t = params.get("template", self.default_template)
        return t.format(entity_type=entity_type, n=ctx.number(entity_type, value))


@register
class Mask(Operator):
    """Overwrite `count` characters (all by default) from the start, or from the end with `from_end`.

    `show_first`/`show_last` instead keep that many characters visible at each end whatever the value's length
    (PCI DSS 3.4.1: at most the BIN and the last four digits of a card number).
    """

    name = "mask"
    params = {"chars": str, "count": int, "from_end": bool, "keep": str, "show_first": int, "show_last": int}

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        if "chars" in params and len(params["chars"]) != 1:
            out.append(("chars", "must be exactly one character"))
        if "count" in params and params["count"] < 1:
            out.append(("count", "must be at least 1"))
        for k in ("show_first", "show_last"):
            if k in params and params[k] < 0:
                out.append((k, "must be 0 or more"))
        if "count" in params and ("show_first" in params or "show_last" in params):
            out.append(("count", "use either count or show_first/show_last, not both"))
        return out

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        ch = params.get("chars", "*")
        keep = set(params.get("keep", ""))  # separators to leave visible, e.g. "-@."
        idx = [i for i, c in enumerate(value) if c not in keep]
        if "show_first" in params or "show_last" in params:
            first, last = params.get("show_first", 0), params.get("show_last", 0)
            if first + last >= len(idx):  # too short to show anything safely
                first = last = 0
            chosen_idx = idx[first:len(idx) - last]
            return "".join(ch if i in set(chosen_idx) else c for i, c in enumerate(value))
        count = params.get("count", len(idx))
        chosen = set(idx[-count:] if params.get("from_end", False) else idx[:count]) if count else set()
        return "".join(ch if i in chosen else c for i, c in enumerate(value))


@register
class Hash(Operator):
    """HMAC-SHA256 under a key derived from the prepkit key: never a bare hash a dictionary attack reverses."""

    name = "hash"
    params = {"length": int, "prefix": str}

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        n = params.get("length", 16)
        return [] if 8 <= n <= 64 else [("length", "must be between 8 and 64 hex characters")]

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        msg = f"{entity_type}\x00{normalize(value, entity_type)}".encode()
        digest = hmac.new(ctx.shared.keys.hash, msg, hashlib.sha256).hexdigest()
        return f"{params.get('prefix', '')}{digest[: params.get('length', 16)]}"


@register
class Encrypt(Operator):
    """Reversible for key holders (`prepkit reidentify`): ⟦enc:v1:<key id>:<type>:<AES-SIV ciphertext>⟧."""

    name = "encrypt"
    params = {}

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        keys = ctx.shared.keys
        return encrypt_value(keys.encrypt, keys.key_id, entity_type, value)


HIPAA_RESTRICTED_ZIP3 = frozenset({
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884",
    "890", "893",
})  # three-digit ZIP areas under 20,000 people (HIPAA Safe Harbor, 2000 census): shown as 000

_KINDS = {"DATE_TIME": "date", "DATE": "date", "ZIP_CODE": "zip", "ZIP": "zip", "US_ZIP": "zip", "ZIPCODE": "zip",
          "AGE": "age"}


def generalize_zip(value: str) -> str:
    m = re.search(r"\d{5}", value)
    if not m:
        return "[zip]"
    z3 = m.group()[:3]
    return "000" if z3 in HIPAA_RESTRICTED_ZIP3 else z3


def generalize_age(value: str, band: int) -> str:
    def sub(m: re.Match[str]) -> str:
        n = int(m.group())
        if n > 89:
            return "90+"
        lo = n // band * band
        return f"{lo}-{min(lo + band - 1, 89)}"

    out, n = re.subn(r"\d+", sub, value, count=1)
    return out if n else "[age]"


@register
class Generalize(Operator):
    """Coarser but still useful: dates to year or month, ZIP to 3 digits (HIPAA), ages to bands with 90+."""

    name = "generalize"
    params = {"granularity": str, "band": int, "kind": str}

    def kind(self, entity_type: str, params: dict[str, Any]) -> str | None:
        return params.get("kind") or _KINDS.get(entity_type)

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        kind = self.kind(entity_type, params)
        if params.get("kind") not in (None, "date", "zip", "age"):
            out.append(("kind", "must be one of date, zip, age"))
        elif kind is None and entity_type != "DEFAULT":
            out.append(("operator", f"generalize knows dates, ZIP codes and ages; for {entity_type} set "
                                    "`kind: date|zip|age`, or use synthesize/replace"))
        if params.get("granularity", "year") not in ("year", "month"):
            out.append(("granularity", "must be year or month"))
        if not 2 <= params.get("band", 10) <= 50:
            out.append(("band", "must be between 2 and 50 years"))
        return out

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        kind = self.kind(entity_type, params)
        if kind == "date":
            if not has_calendar_date(value):
                return value  # a duration or time of day: nothing to coarsen
            return generalize_date(value, params.get("granularity", "year"), ctx.shared.locale.endswith("US"))
        if kind == "zip":
            return generalize_zip(value)
        if kind == "age":
            return generalize_age(value, params.get("band", 10))
        return f"[{entity_type}]"  # DEFAULT: generalize on a type it cannot coarsen hides it
