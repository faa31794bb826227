"""prepkit's operators in a Presidio `AnonymizerEngine`: keyed, consistent, format-preserving surrogates for
Presidio users.

    engine = AnonymizerEngine()
    add_operators(engine)                      # prepkit_synthesize, prepkit_hash, prepkit_mask, ...
    ctx = document_context(keyring, text, results)
    engine.anonymize(text, results, {"PERSON": OperatorConfig("prepkit_synthesize", {"context": ctx})})

The context carries the keys and what the document holds, so "Maria Lopez" and "Ms. Lopez" stay one fake person,
placeholders are numbered in reading order, and a surrogate never lands on another real value of the document.
Build one per document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from presidio_anonymizer.operators import Operator as PresidioOperator

from prepkit.keys import KeyRing
from prepkit.transform.catalog import operator_classes, operators
from prepkit.transform.context import DocContext, Keys, Shared

for _cls in operator_classes():
    PresidioOperator.register(_cls)  # Presidio's Operator is an ABC: prepkit's operators are its subclasses


class _Engine(Protocol):
    def add_anonymizer(self, anonymizer_cls: Any) -> None: ...


class _Span(Protocol):
    entity_type: str
    start: int
    end: int


def add_operators(engine: _Engine) -> list[str]:
    """Add every prepkit operator to a Presidio AnonymizerEngine; returns their Presidio names."""
    names = []
    for op in operators():
        engine.add_anonymizer(type(op))
        names.append(op.operator_name())
    return names


def document_context(keyring: KeyRing, text: str, results: Sequence[_Span], *, locale: str = "en_US",
                     record_id: str = "") -> DocContext:
    """The per-document context the operators need, from Presidio's analyzer results for `text`."""
    spans = sorted(results, key=lambda r: (r.start, -r.end))
    found = [(r.entity_type, text[r.start:r.end]) for r in spans]
    ctx = DocContext.for_document(Shared(Keys.from_keyring(keyring), locale), record_id, real=found, kept=found)
    for etype, value in found:  # Presidio's engine works from the end: number placeholders in reading order first
        ctx.number(etype, value)
    return ctx
