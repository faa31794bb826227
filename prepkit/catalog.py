"""The installed catalog the policy loader checks policies against: the layers above the policy package
register their checks when imported (operators and parameters in prepkit.transform, entity types, recognizers
and thresholds in prepkit.policy_checks). Importing them here, not in prepkit.policy, keeps the policy package
a ground floor that imports nothing above it."""

from __future__ import annotations

from prepkit.policy.catalog import Catalog, registered_checks


def default_catalog() -> Catalog:
    import prepkit.policy_checks  # noqa: F401  (registers its checks)
    import prepkit.transform  # noqa: F401  (registers the actions check)

    return Catalog(registered_checks())
