"""What the layers above the policy tell it: the checks a policy must pass beyond its schema (entity types the
recognizers know, operators and their parameters, reachable thresholds).

The policy package imports nothing above it. `load_policy` takes a `Catalog`; without one it asks the package
root for the installed catalog (`prepkit.policy_catalog`, which assembles it from detection and transformation:
see prepkit/catalog.py). A check names the field it is about; load reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prepkit.policy.load import LoadedPolicy
    from prepkit.policy.model import Policy

Issue = tuple[tuple[Any, ...], str]  # (field path, message)
Check = Callable[["Policy", "LoadedPolicy"], list[Issue]]

_registered: list[Check] = []


def register_check(fn: Check) -> Check:
    """Add a check to the installed catalog (the modules prepkit/catalog.py imports register theirs)."""
    _registered.append(fn)
    return fn


def registered_checks() -> tuple[Check, ...]:
    return tuple(_registered)


@dataclass(frozen=True)
class Catalog:
    checks: tuple[Check, ...] = ()

    @classmethod
    def installed(cls) -> Catalog:
        import prepkit  # the package root composes the layers; the policy package names none of them

        catalog = prepkit.policy_catalog()
        assert isinstance(catalog, Catalog)
        return catalog
