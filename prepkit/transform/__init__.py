"""Transformation: operators behind one registry, keyed deterministic surrogates, and the policy check.

Importing this package registers the operators and the policy-load check for `actions`.
"""

from prepkit.transform import builtin, check, synth  # noqa: F401  (registers operators and the policy check)
from prepkit.transform.engine import Transformer, resolve_overlaps
from prepkit.transform.operators import Operator, get_operator, operator_names

__all__ = ["Operator", "Transformer", "get_operator", "operator_names", "resolve_overlaps"]
