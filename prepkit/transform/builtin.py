"""The built-in operators: redact, replace, mask, hash, encrypt, generalize (synthesize is in `synth`)."""

from __future__ import annotations

import hashlib
import hmac
import re
import string

from prepkit.entities import GeneralizeKind, entity_type
from prepkit.transform.context import DocContext
from prepkit.transform.crypto import encrypt_value
from prepkit.transform.dates import generalize_date, has_calendar_date
from prepkit.transform.operators import Operator, ParamProblems, Params, register
from prepkit.transform.subjects import normalize


class RedactParams(Params):
    text: str = ""


@register
class Redact(Operator):
    """Remove the value (Presidio's semantics), or put a fixed text in its place."""

    name = "redact"
    Params = RedactParams

    def apply(self, value: str, entity_type: str, p: RedactParams, ctx: DocContext) -> str:
        return p.text

    def describe(self, p: RedactParams, entity_type: str) -> str:
        return f"replaced by the fixed text `{p.text}`" if p.text else "removed from the text"


_TEMPLATE_FIELDS = {"entity_type", "n"}


class ReplaceParams(Params):
    template: str = "<{entity_type}_{n}>"


@register
class Replace(Operator):
    """A placeholder per value, numbered per document: the same value gets the same number."""

    name = "replace"
    Params = ReplaceParams

    def check(self, p: ReplaceParams, entity_type: str = "") -> ParamProblems:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(p.template) if f is not None}
        except ValueError as e:
            return [("template", f"invalid template: {e}")]
        bad = fields - _TEMPLATE_FIELDS
        if bad:
            return [("template", f"unknown field(s) {', '.join(sorted(bad))}; allowed: {{entity_type}}, {{n}}")]
        return []

    def apply(self, value: str, entity_type: str, p: ReplaceParams, ctx: DocContext) -> str:
        return p.template.format(entity_type=entity_type, n=ctx.number(entity_type, value))

    def describe(self, p: ReplaceParams, entity_type: str) -> str:
        return (f"replaced by a numbered placeholder `{p.template}`; the same value gets the same number within a "
                "record, so the text still reads coherently")


class MaskParams(Params):
    chars: str = "*"
    count: int | None = None  # all characters when not given
    from_end: bool = False
    keep: str = ""  # separators to leave visible, e.g. "-@."
    show_first: int = 0
    show_last: int = 0


_MASK_PROBE = "x" * 12  # a value of typical identifier length, for types without an example


@register
class Mask(Operator):
    """Overwrite `count` characters (all by default) from the start, or from the end with `from_end`.

    `show_first`/`show_last` instead keep that many characters visible at each end whatever the value's length
    (PCI DSS 3.4.1: at most the BIN and the last four digits of a card number).
    """

    name = "mask"
    Params = MaskParams

    def check(self, p: MaskParams, entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        given = p.given()
        if "chars" in given and len(p.chars) != 1:
            out.append(("chars", "must be exactly one character"))
        if p.count is not None and p.count < 1:
            out.append(("count", "must be at least 1"))
        for k in ("show_first", "show_last"):
            if k in given and getattr(p, k) < 0:
                out.append((k, "must be 0 or more"))
        if "count" in given and given & {"show_first", "show_last"}:
            out.append(("count", "use either count or show_first/show_last, not both"))
        return out

    def apply(self, value: str, entity_type: str, p: MaskParams, ctx: DocContext | None) -> str:
        ch = p.chars
        keep = set(p.keep)
        idx = [i for i, c in enumerate(value) if c not in keep]
        if p.given() & {"show_first", "show_last"}:
            first, last = p.show_first, p.show_last
            if first + last >= len(idx):  # too short to show anything safely
                first = last = 0
            chosen_idx = set(idx[first:len(idx) - last])
            return "".join(ch if i in chosen_idx else c for i, c in enumerate(value))
        count = len(idx) if p.count is None else p.count
        chosen = set(idx[-count:] if p.from_end else idx[:count]) if count else set()
        return "".join(ch if i in chosen else c for i, c in enumerate(value))

    def describe(self, p: MaskParams, entity_type: str) -> str:
        keep = f", separators “{p.keep}” left visible" if p.keep else ""
        if p.given() & {"show_first", "show_last"}:
            shown = [f"the first {p.show_first}" if p.show_first else "", f"the last {p.show_last}" if p.show_last
                     else ""]
            kept = " and ".join(s for s in shown if s) or "none"
            return (f"masked: every character except {kept} is overwritten with “{p.chars}”{keep}; a value too short "
                    "to keep them is masked whole")
        if p.count is not None:
            where = "last" if p.from_end else "first"
            return f"masked: the {where} {p.count} characters are overwritten with “{p.chars}”{keep}"
        return f"masked: every character is overwritten with “{p.chars}”{keep}"

    def _visible(self, p: MaskParams, entity_type: str) -> tuple[int, int, str]:
        """The most characters left visible on the type's example values: (visible, total, example)."""
        best = (0, 1, "")
        for value in entity_type_examples(entity_type):
            out = self.apply(value, entity_type, p, None)
            total = sum(c not in p.keep for c in value)
            visible = sum(a == b and a not in p.keep for a, b in zip(value, out, strict=True))
            if total and visible / total > best[0] / best[1]:
                best = (visible, total, value)
        return best

    def carries_value(self, p: MaskParams, entity_type: str) -> str | None:
        visible, total, value = self._visible(p, entity_type)
        if visible * 2 > total:  # more shown than hidden: the rest is a short guess, or a lookup
            return f"leaves {visible} of {total} characters visible (on a value like “{value}”)"
        return None

    def exposure(self, p: MaskParams, entity_type: str) -> float:
        visible, total, _ = self._visible(p, entity_type)
        return visible / total


def entity_type_examples(name: str) -> tuple[str, ...]:
    return entity_type(name).examples or (_MASK_PROBE,)


class HashParams(Params):
    length: int = 16
    prefix: str = ""


@register
class Hash(Operator):
    """HMAC-SHA256 under a key derived from the prepkit key: never a bare hash a dictionary attack reverses."""

    name = "hash"
    Params = HashParams

    def check(self, p: HashParams, entity_type: str = "") -> ParamProblems:
        return [] if 8 <= p.length <= 64 else [("length", "must be between 8 and 64 hex characters")]

    def apply(self, value: str, entity_type: str, p: HashParams, ctx: DocContext) -> str:
        msg = f"{entity_type}\x00{normalize(value, entity_type)}".encode()
        digest = hmac.new(ctx.shared.keys.hash, msg, hashlib.sha256).hexdigest()
        return f"{p.prefix}{digest[: p.length]}"

    def describe(self, p: HashParams, entity_type: str) -> str:
        pre = f", prefixed “{p.prefix}”" if p.prefix else ""
        return (f"replaced by a keyed hash (HMAC-SHA256, {p.length} hex characters{pre}): the same value always gives "
                "the same code, and it cannot be reversed or dictionary-attacked without the key")


@register
class Encrypt(Operator):
    """Reversible for key holders (`prepkit reidentify`): ⟦enc:v1:<key id>:<type>:<AES-SIV ciphertext>⟧."""

    name = "encrypt"
    libraries = ("cryptography",)

    def apply(self, value: str, entity_type: str, p: Params, ctx: DocContext) -> str:
        keys = ctx.shared.keys
        return encrypt_value(keys.encrypt, keys.key_id, entity_type, value)

    def describe(self, p: Params, entity_type: str) -> str:
        return ("encrypted (AES-SIV) in place: only holders of the prepkit key can recover it, with "
                "`prepkit reidentify`; this is pseudonymisation, so the result is still personal data")

    def carries_value(self, p: Params, entity_type: str) -> str | None:
        return "is reversible: anyone holding the prepkit key recovers the value from the output"

    def exposure(self, p: Params, entity_type: str) -> float:
        return 1.0


HIPAA_RESTRICTED_ZIP3 = frozenset({
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884",
    "890", "893",
})  # three-digit ZIP areas under 20,000 people (HIPAA Safe Harbor, 2000 census): shown as 000


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


class GeneralizeParams(Params):
    granularity: str = "year"
    band: int = 10
    kind: str | None = None


@register
class Generalize(Operator):
    """Coarser but still useful: dates to year or month, ZIP to 3 digits (HIPAA), ages to bands with 90+."""

    name = "generalize"
    Params = GeneralizeParams

    def kind(self, entity: str, p: GeneralizeParams) -> GeneralizeKind | str | None:
        return p.kind or entity_type(entity).generalize

    def check(self, p: GeneralizeParams, entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        kind = self.kind(entity_type, p)
        if p.kind not in (None, "date", "zip", "age"):
            out.append(("kind", "must be one of date, zip, age"))
        elif kind is None and entity_type != "DEFAULT":
            out.append(("operator", f"generalize knows dates, ZIP codes and ages; for {entity_type} set "
                                    "`kind: date|zip|age`, or use synthesize/replace"))
        if p.granularity not in ("year", "month"):
            out.append(("granularity", "must be year or month"))
        if not 2 <= p.band <= 50:
            out.append(("band", "must be between 2 and 50 years"))
        return out

    def apply(self, value: str, entity_type: str, p: GeneralizeParams, ctx: DocContext) -> str:
        kind = self.kind(entity_type, p)
        if kind == "date":
            if not has_calendar_date(value):
                return value  # a duration or time of day: nothing to coarsen
            return generalize_date(value, p.granularity, ctx.shared.locale.endswith("US"))
        if kind == "zip":
            return generalize_zip(value)
        if kind == "age":
            return generalize_age(value, p.band)
        return f"[{entity_type}]"  # DEFAULT: generalize on a type it cannot coarsen hides it

    def describe(self, p: GeneralizeParams, entity_type: str) -> str:
        kind = self.kind(entity_type, p)
        if kind == "date":
            return f"generalized: a calendar date is reduced to its {p.granularity}"
        if kind == "zip":
            return ("generalized: a ZIP code is reduced to its first 3 digits; the 3-digit areas of 20,000 people "
                    "or fewer become 000")
        if kind == "age":
            return f"generalized: an age becomes a {p.band}-year band; every age over 89 becomes “90+”"
        return "generalized where prepkit knows how (dates, ZIP codes, ages); other values are hidden"
