"""The NER labels the spaCy model may choose from: the ones whose spans mean something to prepkit.

spaCy's English NER picks one transition per token among four per label (begin, inside, last, unit) plus "outside",
and checks every one of them for validity at every step: for en_core_web_sm's 18 labels that check was a third of
NER's CPU, and NER the largest single cost of a run. Six labels name things that are never personal data here and
whose spans prepkit drops (EVENT, FAC, LANGUAGE, LAW, PRODUCT, WORK_OF_ART): they are removed from the model's
choices. Where the model would have chosen one of them it now takes its best remaining choice; everywhere else
its decisions are unchanged, because dropping a choice the model did not take cannot change which choice scored
highest. The numeric labels (CARDINAL, MONEY, PERCENT, QUANTITY, ORDINAL) stay although prepkit drops their
spans too: without them a house number or an amount became a DATE.

Only with prepkit's own detection (`builtin_recognizers: true`, the default): a policy that mimics vanilla Presidio
(policies/vanilla.yaml, bench/policy.yaml) runs the model as trained, so its figures stay vanilla's.
"""

from __future__ import annotations

import collections
import os
from typing import Any

DROPPED = frozenset({"EVENT", "FAC", "LANGUAGE", "LAW", "PRODUCT", "WORK_OF_ART"})
ENV_ALL = "PREPKIT_NER_ALL_LABELS"  # "1": keep every label the model was trained with (to measure the difference)


def drop_unused_labels(nlp: Any, dropped: frozenset[str] = DROPPED) -> list[str]:
    """Rebuild the pipeline's "ner" component without `dropped` labels, in place. Returns the labels removed (none
    for a model without them, or one whose NER is not spaCy's transition-based entity recognizer)."""
    from spacy.pipeline import EntityRecognizer
    from spacy.pipeline._parser_internals.ner import BiluoPushDown

    if os.environ.get(ENV_ALL) == "1" or "ner" not in nlp.pipe_names:
        return []
    ner = nlp.get_pipe("ner")
    if type(ner) is not EntityRecognizer or type(ner.moves) is not BiluoPushDown:
        return []
    removed = sorted(set(ner.labels) & dropped)
    if not removed:
        return []
    old = ner.moves
    old_names = [old.get_class_name(i) for i in range(old.n_moves)]
    kept = {action: collections.Counter({label: n for label, n in counts.items() if label not in dropped})
            for action, counts in old.labels.items()}
    moves = BiluoPushDown(nlp.vocab.strings, kept)
    rows = [old_names.index(moves.get_class_name(i)) for i in range(moves.n_moves)]
    # The output layer scores every transition: keep the rows of the transitions that remain, in the new order.
    upper = ner.model.get_ref("upper")
    weights, bias = upper.get_param("W"), upper.get_param("b")
    upper._dims["nO"] = len(rows)  # thinc refuses to resize a set dimension through set_dim
    upper.set_param("W", weights[rows].copy())
    upper.set_param("b", bias[rows].copy())
    unseen = ner.model.attrs.get("unseen_classes") or set()  # training bookkeeping, by transition index
    ner.model.attrs["unseen_classes"] = {new for new, was in enumerate(rows) if was in unseen}
    rebuilt = EntityRecognizer(nlp.vocab, ner.model, name=ner.name, moves=moves,
                               update_with_oracle_cut_size=ner.cfg.get("update_with_oracle_cut_size", 100),
                               incorrect_spans_key=ner.cfg.get("incorrect_spans_key"), scorer=ner.scorer)
    at = [name for name, _ in nlp._components].index("ner")  # disabled components are in the list too
    nlp._components[at] = ("ner", rebuilt)  # same place, same name: nlp.pipe and select_pipes see the new one
    return removed
