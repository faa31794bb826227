"""Calibrated scores: a finding's score is an estimate of its precision, whichever recognizer produced it.

Presidio's scores are each recognizer's own convention (spaCy's NER says 0.85 for every entity, the proper-noun
pass said 0.5), so one threshold meant different things per recognizer. Here each finding gets a class — its
recognizer, its entity type and, for names, the evidence around it — and the class's precision measured on the
seven labelled dev sets becomes its score. A policy threshold of 0.3 then keeps findings that were right at least
30% of the time. The table and how it was measured: bench/CALIBRATION.md (regenerate with bench/calibrate.py).

Evidence for a name-like span (PERSON, ORGANIZATION, LOCATION, NRP), from the text alone so it applies to every
recognizer: "cue" (an honorific, greeting or introduction right before it), "name" (one of its words is a known
given or family name), "rare" (one of its words is not a common English word), "common" (every word is a
common word: "Patient", "Section", "Change").
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from presidio_analyzer import RecognizerResult

from prepkit.detect.lexicon import common_words, known_names

NAME_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})
RAW_SCORE_KEY = "prepkit_raw_score"
_CUE_BEFORE = re.compile(
    r"(?i)(?:\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|shri|sri|smt|kumari|mister|madam|dear|hi|hello|hey|thanks|"
    r"named|called|signed|regards|cheers|sincerely|attn|attention|by)\.?|\bname\s+is|\bthis\s+is|\bi\s+am|\bi['’]m)"
    r"[\s,:]*$")
_LETTERS = re.compile(r"[^\W\d_]+")
_TABLE = "calibration.json"
MIN_SUPPORT = 30  # findings a class needs on the dev sets before its measured precision replaces the raw score


def evidence(text: str, start: int, end: int) -> str:
    if _CUE_BEFORE.search(text, max(0, start - 24), start):
        return "cue"
    words = [w.casefold() for w in _LETTERS.findall(text, start, end)]
    if any(w in known_names() for w in words):
        return "name"
    common = common_words()
    if words and all(w in common for w in words):
        return "common"
    return "rare"


def recognizer_of(r: RecognizerResult) -> str:
    return str((r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, ""))


def class_of(text: str, recognizer: str, entity_type: str, start: int, end: int) -> str:
    """The calibration class of one finding: "recognizer/ENTITY" or, for names, "recognizer/ENTITY/evidence"."""
    key = f"{recognizer}/{entity_type}"
    return f"{key}/{evidence(text, start, end)}" if entity_type in NAME_TYPES else key


@lru_cache(maxsize=1)
def table() -> dict[str, float]:
    """class -> calibrated score, only for classes with enough support on the dev sets."""
    data = json.loads(resources.files("prepkit.detect").joinpath(_TABLE).read_text(encoding="utf-8"))
    return {k: v["score"] for k, v in data["classes"].items() if v["n"] >= MIN_SUPPORT}


def calibrate(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Replace each score with its class's measured precision; a class the dev sets hardly saw keeps its score."""
    tab = table()
    for r in results:
        score = tab.get(class_of(text, recognizer_of(r), r.entity_type, r.start, r.end))
        if score is not None:
            if r.recognition_metadata is None:
                r.recognition_metadata = {}
            r.recognition_metadata[RAW_SCORE_KEY] = r.score
            r.score = score
    return results
