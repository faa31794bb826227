"""Policy-load check for `actions`: unknown operators (with did-you-mean) and bad parameters, by field path."""

from __future__ import annotations

from typing import Any

from prepkit.policy.catalog import register_check
from prepkit.policy.load import LoadedPolicy, did_you_mean
from prepkit.policy.model import Policy
from prepkit.transform.operators import get_operator, operator_names


@register_check
def check_actions(policy: Policy, loaded: LoadedPolicy) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    names = operator_names()
    for entity, action in policy.actions.items():
        try:
            op = get_operator(action.operator)
        except ValueError:
            hint = did_you_mean(action.operator, names) or f"; known operators: {', '.join(names)}"
            problems.append((("actions", entity, "operator"), f"unknown operator {action.operator!r}{hint}"))
            continue
        for param, msg in op.problems(action.params, entity):
            problems.append((("actions", entity, param) if param else ("actions", entity), msg))
    if any(a.operator == "synthesize" for a in policy.actions.values()) and not _faker_locale_ok(policy.locale):
        problems.append((("locale",), f"unknown Faker locale {policy.locale!r} (e.g. en_US, de_DE, fr_FR)"))
    return problems


def _faker_locale_ok(locale: str) -> bool:
    from faker import Faker

    try:
        Faker(locale)
    except (AttributeError, ValueError):
        return False
    return True
