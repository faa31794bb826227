"""The operator catalog as the rest of prepkit reads it: the sentence an action is described by, whether its output
can still carry the value, and the fingerprints the result cache keys on. All of it comes from the operators."""

from __future__ import annotations

from typing import Any

from prepkit.transform import builtin, synth  # noqa: F401  (registers the operators)
from prepkit.transform.operators import Operator, get_operator, operator_classes, operator_names

__all__ = ["carries_value", "describe_action", "exposure", "fingerprints", "operator_classes", "operators"]


def describe_action(operator: str, params: dict[str, Any], entity: str) -> str:
    """What the action does to a value of `entity`, as `policy show` and `policy diff` print it."""
    op = get_operator(operator)
    return op.describe(op.parse(params), entity)


def carries_value(operator: str, params: dict[str, Any], entity: str) -> str | None:
    """Why the action's output can still carry the value of `entity` (None when it cannot)."""
    op = get_operator(operator)
    return op.carries_value(op.parse(params), entity)


def exposure(operator: str, params: dict[str, Any], entity: str) -> float:
    """How much of a value of `entity` the action's output still shows (0 to 1)."""
    op = get_operator(operator)
    return op.exposure(op.parse(params), entity)


def fingerprints() -> dict[str, str]:
    """Operator name -> fingerprint: changes when the operator's code, version or the library that draws its values
    (Faker, cryptography) changes, so a cached result is never replayed by a different operator."""
    return {name: get_operator(name).fingerprint() for name in operator_names()}


def operators() -> list[Operator]:
    return [get_operator(n) for n in operator_names()]
