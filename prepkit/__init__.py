"""prepkit: make enterprise text safe for LLMs (detect PII, anonymize, route to fine-tuning or a secure RAG store)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Pipeline", "__version__", "load_policy", "policy_catalog"]


def policy_catalog() -> Any:
    """The checks the installed layers add to policy loading (prepkit.policy.catalog.Catalog). The package root
    is where the layers are composed: the policy package asks here instead of importing what is above it."""
    from prepkit.catalog import default_catalog

    return default_catalog()


def __getattr__(name: str) -> Any:
    # Lazy: `prepkit --version` and light imports should not load spaCy.
    if name == "Pipeline":
        from prepkit.pipeline import Pipeline

        return Pipeline
    if name == "load_policy":
        from prepkit.policy import load_policy

        return load_policy
    raise AttributeError(name)
