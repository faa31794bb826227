"""Presidio's AnalyzerEngine and RecognizerRegistry without their per-call bookkeeping; results unchanged.

Detection calls `AnalyzerEngine.analyze` once per text, and on short texts (CSV cells, chat lines) Presidio's own
bookkeeping around the recognizers cost as much as a third of the analyzer's time:
- `RecognizerRegistry.get_recognizers` rebuilt the recognizer list with a scan of the registry per requested
  entity on every call. `CachedRecognizerRegistry` answers a repeated request from a cache, which is dropped
  whenever the registry's list of recognizers changes (add, remove, or direct edits). The cached answer is the
  list the uncached call returned the first time, in its order (it comes out of a `set`, whose order is fixed for
  the same objects within a process). A recognizer's entities or language are not re-read once cached: prepkit
  configures recognizers before their first use (build_analyzer) and never after.
- `AnalyzerEngine._enhance_using_context` split all results into "this recognizer's" and "the others'" twice per
  recognizer (~35 of them) to call a method that, unless a recognizer overrides it, returns its input unchanged.
  `FastAnalyzerEngine` groups the results by recognizer id once and calls the method only for recognizers that
  override it, building their inputs exactly as Presidio does. The output list is Presidio's: recognizer by
  recognizer in the order of `recognizers`, each one's results in their original order (results of no listed
  recognizer are dropped, as there).
tests/test_detect_analyzer.py compares both with Presidio's own classes on real analyzer output.
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer import pattern_recognizer as presidio_patterns
from presidio_analyzer.recognizer_registry import RecognizerRegistry

_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
_NAME = RecognizerResult.RECOGNIZER_NAME_KEY
_PATTERNS = "_PatternRecognizer__analyze_patterns"  # the private method, by its mangled name


class CachedRecognizerRegistry(RecognizerRegistry):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: dict[tuple[Any, ...], list[EntityRecognizer]] = {}
        self._cached_for: list[EntityRecognizer] = []  # the recognizers the cache answers for (kept alive)

    def get_recognizers(self, language: str, entities: list[str] | None = None, all_fields: bool = False,
                        ad_hoc_recognizers: list[EntityRecognizer] | None = None) -> list[EntityRecognizer]:
        if ad_hoc_recognizers:
            return super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
        if self._cached_for != self.recognizers:
            self._cache.clear()
            self._cached_for = list(self.recognizers)
        key = (language, None if entities is None else tuple(entities), all_fields)
        found = self._cache.get(key)
        if found is None:  # errors (no language, no recognizer) are raised, never cached
            found = self._cache[key] = super().get_recognizers(language, entities, all_fields)
        return list(found)


def overrides_context(recognizer: EntityRecognizer) -> bool:
    """Does `recognizer` replace EntityRecognizer.enhance_using_context (which returns its input unchanged)?"""
    return (getattr(type(recognizer), "enhance_using_context", None) is not EntityRecognizer.enhance_using_context
            or "enhance_using_context" in vars(recognizer))


class FastAnalyzerEngine(AnalyzerEngine):
    def _enhance_using_context(self, text: str, raw_results: list[RecognizerResult], nlp_artifacts: Any,
                               recognizers: list[EntityRecognizer], context: list[str] | None = None
                               ) -> list[RecognizerResult]:
        mine: dict[str, list[RecognizerResult]] = {}
        for r in raw_results:
            mine.setdefault(r.recognition_metadata[_ID], []).append(r)
        results: list[RecognizerResult] = []
        for recognizer in recognizers:
            rid = recognizer.id
            own = mine.get(rid, [])
            if overrides_context(recognizer):
                own = recognizer.enhance_using_context(
                    text=text, raw_recognizer_results=list(own),
                    other_raw_recognizer_results=[r for r in raw_results if r.recognition_metadata[_ID] != rid],
                    nlp_artifacts=nlp_artifacts, context=context)
            results.extend(own)
        return self.context_aware_enhancer.enhance_using_context(
            text=text, raw_results=results, nlp_artifacts=nlp_artifacts, recognizers=recognizers, context=context)


def quick_patterns(recognizer: EntityRecognizer) -> bool:
    """Install the quick pattern loop on `recognizer` if it runs Presidio's own; True if it was installed."""
    if not isinstance(recognizer, PatternRecognizer) \
            or getattr(type(recognizer), _PATTERNS) is not getattr(PatternRecognizer, _PATTERNS):
        return False
    rec: Any = recognizer  # Presidio leaves `name` and `patterns` untyped
    min_score, max_score = EntityRecognizer.MIN_SCORE, EntityRecognizer.MAX_SCORE

    def analyze_patterns(text: str, flags: int | None = None) -> list[RecognizerResult]:
        flags = flags if flags else rec.global_regex_flags
        results: list[RecognizerResult] = []
        for pattern in rec.patterns:
            if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
                pattern.compiled_with_flags = flags
                pattern.compiled_regex = presidio_patterns.re.compile(pattern.regex, flags=flags)
            try:
                for match in pattern.compiled_regex.finditer(text, timeout=presidio_patterns.REGEX_TIMEOUT_SECONDS):
                    start, end = match.span()
                    current = text[start:end]
                    if current == "":
                        continue
                    validation = rec.validate_result(current)
                    description = rec.build_regex_explanation(rec.name, pattern.name, pattern.regex, pattern.score,
                                                              validation, flags)
                    result = RecognizerResult(entity_type=rec.supported_entities[0], start=start, end=end,
                                              score=pattern.score, analysis_explanation=description,
                                              recognition_metadata={_NAME: rec.name, _ID: rec.id})
                    if validation is not None:
                        result.score = max_score if validation else min_score
                    invalidation = rec.invalidate_result(current)
                    if invalidation is not None and invalidation:
                        result.score = min_score
                    if result.score > min_score:
                        results.append(result)
                    description.score = result.score
            except TimeoutError:
                presidio_patterns.logger.warning("Regex pattern '%s' timed out after %s seconds, skipping.",
                                                 pattern.name, presidio_patterns.REGEX_TIMEOUT_SECONDS,
                                                 exc_info=True)
        return EntityRecognizer.remove_duplicates(results) if results else results

    setattr(rec, _PATTERNS, analyze_patterns)
    return True
