"""Operators: one presidio-anonymizer `Operator` per way of replacing a detected span, looked up by name.

Each operator declares its parameters as a pydantic `Params` model (strict, unknown keys refused), says in plain
language what it does (`describe`, the sentence `policy show` and `policy diff` print), whether its output can
still carry the value (`carries_value`, read by `policy lint`), and a `fingerprint` for the result cache (it
changes when the operator's code, version or the library drawing its values changes).

They implement Presidio's operator contract (`operate`, `validate`, `operator_name`, `operator_type`), so a
Presidio user can add them to an `AnonymizerEngine` (see `prepkit.transform.presidio`, which also registers them as
subclasses of `presidio_anonymizer.operators.Operator`: importing presidio-anonymizer imports presidio-analyzer and
spaCy, which loading a policy must not pay for). Under Presidio they are named
`prepkit_<name>` so they never replace Presidio's own `mask`, `hash` or `encrypt` in someone's engine. prepkit's
`Transformer` calls `apply` itself rather than going through `AnonymizerEngine.anonymize`: the engine replaces
spans from the end of the text backwards and drops a span contained in another, while prepkit numbers
placeholders and learns name variants in reading order and replaces the union of overlapping spans.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from prepkit.transform.context import DocContext

ParamProblems = list[tuple[str, str]]  # (parameter name or "" for the action itself, message)

CONTEXT = "context"  # Presidio params key: the per-document DocContext (`prepkit.transform.presidio`)
_PRESIDIO_KEYS = ("entity_type", CONTEXT)  # added by Presidio's engine or by the caller, not policy parameters


class Params(BaseModel):
    """An operator's parameters as a policy writes them. Strict: 4 is not "4", True is not 1."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def given(self) -> set[str]:
        return set(self.model_fields_set)


class Operator:
    name: ClassVar[str]
    Params: ClassVar[type[Params]] = Params
    version: ClassVar[int] = 1  # bump when the same value and key give another output
    libraries: ClassVar[tuple[str, ...]] = ()  # distributions whose upgrade may change outputs (Faker...)

    # --- prepkit -------------------------------------------------------------------------------------------------
    def problems(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        """Every problem with `params` for `entity_type`, by parameter name; empty when they are fine."""
        try:
            p = self.Params.model_validate(params)
        except ValidationError as e:
            return [_problem(self, dict(err), params) for err in e.errors()]
        return self.check(p, entity_type)

    def check(self, p: Any, entity_type: str = "") -> ParamProblems:
        """Checks that depend on the entity type, or on several parameters together."""
        return []

    def parse(self, params: dict[str, Any]) -> Any:
        return self.Params.model_validate(params)

    def apply(self, value: str, entity_type: str, p: Any, ctx: DocContext) -> str:
        raise NotImplementedError

    def describe(self, p: Any, entity_type: str) -> str:
        """What happens to a value, as a sentence fragment: "replaced by ..."."""
        raise NotImplementedError

    def carries_value(self, p: Any, entity_type: str) -> str | None:
        """Why the output can still carry the value (None when it cannot)."""
        return None

    def exposure(self, p: Any, entity_type: str) -> float:
        """How much of a value its output still shows, 0 (nothing) to 1 (all of it, or all to a key holder):
        `policy diff` marks a change that raises it as weakening protection."""
        return 0.0

    def fingerprint(self) -> str:
        return _fingerprint(self.name, self.version, self.libraries)

    # --- Presidio's Operator contract ------------------------------------------------------------------------------
    def operator_name(self) -> str:
        return f"prepkit_{self.name}"

    def operator_type(self) -> Any:
        from presidio_anonymizer.operators import OperatorType

        return OperatorType.Anonymize

    def validate(self, params: dict[str, Any] | None = None) -> None:
        params = params or {}
        found = self.problems(_own(params), str(params.get("entity_type", "")))
        if not isinstance(params.get(CONTEXT), DocContext):
            found.append((CONTEXT, "prepkit operators need the document's context: params={'context': "
                                   "prepkit.transform.presidio.document_context(keyring, text, results)}"))
        if found:
            from presidio_anonymizer.entities import InvalidParamError

            raise InvalidParamError("; ".join(f"{self.operator_name()}.{k or 'operator'}: {m}" for k, m in found))

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        params = params or {}
        ctx = params[CONTEXT]
        etype = str(params.get("entity_type", "DEFAULT"))
        key = (self.name, etype, text)
        out = ctx.memo.get(key)
        if out is None:
            out = ctx.memo[key] = self.apply(text, etype, self.parse(_own(params)), ctx)
        return out


def _own(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in _PRESIDIO_KEYS}


_TYPE_NAMES = {"int_type": "int", "string_type": "str", "bool_type": "bool", "float_type": "float"}


def _problem(op: Operator, err: dict[str, Any], given: dict[str, Any]) -> tuple[str, str]:
    loc = err.get("loc") or ("",)
    key = str(loc[0])
    if err["type"] == "extra_forbidden":
        from prepkit.policy.load import did_you_mean

        allowed = sorted(op.Params.model_fields)
        hint = did_you_mean(key, allowed)
        return key, f"unknown parameter for operator {op.name!r}{hint}; allowed: {', '.join(allowed) or 'none'}"
    if err["type"] in _TYPE_NAMES:
        return key, f"must be {_TYPE_NAMES[err['type']]}, got {type(given.get(key)).__name__}"
    return key, str(err["msg"]).removeprefix("Value error, ")


_HERE = Path(__file__).resolve().parent


@cache
def _transform_source() -> str:
    """The code every operator shares (context, matching, dates, fakes): a change to any of it may change outputs."""
    h = hashlib.sha256()
    for f in sorted(_HERE.rglob("*.py")):
        h.update(f.relative_to(_HERE).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


@cache
def _fingerprint(name: str, version_: int, libraries: tuple[str, ...]) -> str:
    parts = [name, f"v{version_}", _transform_source()]
    parts += [f"{lib}={version(lib)}" for lib in libraries]
    return f"{name}/v{version_}/" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


_registry: dict[str, Operator] = {}


def register(cls: type[Operator]) -> type[Operator]:
    _registry[cls.name] = cls()
    return cls


def get_operator(name: str) -> Operator:
    try:
        return _registry[name]
    except KeyError:
        raise ValueError(f"unknown operator {name!r}") from None


def operator_names() -> list[str]:
    return sorted(_registry)


def operator_classes() -> list[type[Operator]]:
    return [type(_registry[n]) for n in operator_names()]
