"""Operators: one class per way of replacing a detected span, looked up by name in one registry.

As in presidio-anonymizer, parameters are validated apart from applying them, so a policy with a bad parameter
fails at load (`validate`) and never half-way through a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from prepkit.transform.context import DocContext

ParamProblems = list[tuple[str, str]]  # (parameter name or "" for the action itself, message)


class Operator:
    name: ClassVar[str]
    params: ClassVar[dict[str, type | tuple[type, ...]]] = {}

    def validate(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        from prepkit.policy.load import did_you_mean

        problems: ParamProblems = []
        for k, v in params.items():
            want = self.params.get(k)
            if want is None:
                hint = did_you_mean(k, self.params)
                allowed = ", ".join(sorted(self.params)) or "none"
                problems.append((k, f"unknown parameter for operator {self.name!r}{hint}; allowed: {allowed}"))
            elif not isinstance(v, want) or (isinstance(v, bool) and bool not in _tuple(want)):
                names = " or ".join(t.__name__ for t in _tuple(want))
                problems.append((k, f"must be {names}, got {type(v).__name__}"))
        if not problems:
            problems.extend(self.check(params, entity_type))
        return problems

    def check(self, params: dict[str, Any], entity_type: str = "") -> ParamProblems:
        """Value checks beyond types; runs only when the types are right."""
        return []

    def apply(self, value: str, entity_type: str, params: dict[str, Any], ctx: DocContext) -> str:
        raise NotImplementedError


def _tuple(t: type | tuple[type, ...]) -> tuple[type, ...]:
    return t if isinstance(t, tuple) else (t,)


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


OperatorFn = Callable[[str, str, dict[str, Any], DocContext], str]
