"""The regex machinery of prepkit's recognizers: a `Rule` (pattern, score, reported group, validator) and a
recognizer that runs a table of them for one entity type.

Rules that need a cue ("zip", "MRN", "aged") carry the cue inside their regex and report only the value group,
so the span that gets anonymized is the value, not the label in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    score: float
    group: str | None = None  # report this named group's span instead of the whole match
    validate: Validator | None = None


class RegexRecognizer(LocalRecognizer):
    """Regex rules for one entity type; a rule may report a named group and validate the value."""

    def __init__(self, name: str, entity: str, rules: Sequence[Rule], context: Sequence[str] = (),
                 language: str = "en"):
        self.rules = list(rules)
        self._label = name  # Presidio's `name` attribute is untyped
        super().__init__(supported_entities=[entity], name=name, supported_language=language,
                         context=list(context))

    def load(self) -> None:  # rules are compiled at import
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return []
        out: list[RecognizerResult] = []
        for rule in self.rules:
            for m in rule.regex.finditer(text):
                start, end = m.span(rule.group) if rule.group else m.span()
                if start < 0 or start == end:
                    continue
                value = text[start:end]
                if rule.validate is not None and not rule.validate(value):
                    continue
                expl = AnalysisExplanation(recognizer=self._label, original_score=rule.score,
                                           pattern_name=rule.name, validation_result=rule.validate is not None)
                out.append(RecognizerResult(entity, start, end, rule.score, analysis_explanation=expl,
                                            recognition_metadata={
                                                RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                                                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                            }))
        return _dedupe(out)


def _dedupe(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the longest of overlapping matches (rules overlap by design: a bare and a cued form)."""
    results.sort(key=lambda r: (r.start, -(r.end - r.start), -r.score))
    kept: list[RecognizerResult] = []
    for r in results:
        if kept and r.start < kept[-1].end:
            k = kept[-1]
            if r.end > k.end:  # partial overlap: merge into one span
                k.end = r.end
            k.score = max(k.score, r.score)
            continue
        kept.append(r)
    return kept


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.UNICODE)




