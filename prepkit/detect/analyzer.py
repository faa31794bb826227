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

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult
from presidio_analyzer.recognizer_registry import RecognizerRegistry

_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY


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
