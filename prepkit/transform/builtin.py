"""The built-in operators: redact, replace, mask, hash, encrypt, synthesize, generalize."""

from __future__ import annotations

import hashlib
import hmac
import string
from typing import Any

from prepkit.transform.context import DocContext
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
    """Overwrite `count` characters (all by default) from the start, or from the end with `from_end`."""

    name = "mask"
    params = {"chars": str, "count": int, "from_end": bool, "keep": str}

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        out: ParamProblems = []
        if "chars" in params and len(params["chars"]) != 1:
            out.append(("chars", "must be exactly one character"))
        if "count" in params and params["count"] < 1:
            out.append(("count", "must be at least 1"))
        return out

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        ch = params.get("chars", "*")
        keep = set(params.get("keep", ""))  # separators to leave visible, e.g. "-@."
        idx = [i for i, c in enumerate(value) if c not in keep]
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
