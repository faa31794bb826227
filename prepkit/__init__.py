"""prepkit: make enterprise text safe for LLMs (detect PII, anonymize, route to fine-tuning or a secure RAG store)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Pipeline", "__version__", "load_policy"]


def __getattr__(name: str) -> Any:
    # Lazy: `prepkit --version` and light imports should not load spaCy.
    if name == "Pipeline":
        from prepkit.pipeline import Pipeline

        return Pipeline
    if name == "load_policy":
        from prepkit.policy import load_policy

        return load_policy
    raise AttributeError(name)
