"""Presidio's lemma context enhancer with its token lookup made logarithmic.

`LemmaContextAwareEnhancer._find_index_of_match_token` walks the document's tokens from the start for every
result, so a record pays tokens × results: quadratic in its length. On one 148k-character record (2,967 results)
context enhancement took 3.06 s with Presidio's enhancer and 1.13 s with this one; on short tickets the two
cost the same.
Here the token ends of a document are computed once and the same token is found by bisection: the first token
whose end lies past the match start, which is exactly the token the original loop stops at (token ends only
grow, and a token starting at `start` also ends past it). Scores and context words are unchanged —
tests/test_detect_context.py compares both enhancers on real analyzer output.

Presidio's enhancer also deep-copies every result (with its explanation and metadata) before it looks at them:
on PII-dense records that was over a million `copy.deepcopy` calls per 1,500 records. Here a result is copied
(shallowly, with its explanation, the only parts a boost changes) only when context raises its score; the others
are returned as they came, unchanged, which is all the copy protected.
"""

from __future__ import annotations

import bisect
import copy
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer, LemmaContextAwareEnhancer
from spacy.attrs import IDX, LENGTH


class FastLemmaContextAwareEnhancer(LemmaContextAwareEnhancer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._doc: Any = None  # the document the cached ends belong to (kept referenced so its id stays unique)
        self._ends: list[int] = []
        self._kw_owner: Any = None  # the artifacts the keyword set belongs to (referenced, so its id stays unique)
        self._kw: frozenset[str] = frozenset()

    def _find_index_of_match_token(  # type: ignore[override]
        self, word: str, start: int, tokens: Any, tokens_indices: list[int]
    ) -> int:
        if tokens is not self._doc:
            self._doc = tokens
            if hasattr(tokens, "to_array") and len(tokens) == len(tokens_indices):  # a spaCy Doc: no Token objects
                self._ends = tokens.to_array([IDX, LENGTH]).reshape(len(tokens), 2).sum(axis=1).tolist()
            else:
                self._ends = [i + len(t) for i, t in zip(tokens_indices, tokens, strict=False)]
        i = bisect.bisect_right(self._ends, start)
        if i >= len(self._ends):
            raise ValueError("Did not find word '" + word + "' in the list of tokens although it is expected to "
                             "be found")
        return i

    def _extract_surrounding_words(self, nlp_artifacts: Any, word: str, start: int) -> list[str]:
        """Presidio's, with the document's keywords looked up in a set (Presidio tests membership in the list of
        all of them: on a 100k-character window, thousands of comparisons per word it looks at)."""
        if not nlp_artifacts.tokens:
            return [""]
        if nlp_artifacts is not self._kw_owner:
            self._kw_owner = nlp_artifacts
            self._kw = frozenset(nlp_artifacts.keywords)
        index = self._find_index_of_match_token(word, start, nlp_artifacts.tokens, nlp_artifacts.tokens_indices)
        kw: Any = self._kw  # Presidio types it a list; it only tests membership
        words = self._add_n_words_backward(index, self.context_prefix_count, nlp_artifacts.lemmas, kw)
        words.extend(self._add_n_words_forward(index, self.context_suffix_count, nlp_artifacts.lemmas, kw))
        return list(set(words))

    def enhance_using_context(
        self, text: str, raw_results: list[RecognizerResult], nlp_artifacts: Any, recognizers: list[Any],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Presidio's LemmaContextAwareEnhancer.enhance_using_context, copying a result only when it is boosted."""
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = [word.lower() for word in context] if context else []
        if nlp_artifacts is None:
            return list(raw_results)
        out: list[RecognizerResult] = []
        for result in raw_results:
            meta = result.recognition_metadata
            recognizer = by_id.get(meta[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY]) \
                if meta and RecognizerResult.RECOGNIZER_IDENTIFIER_KEY in meta else None
            if not recognizer or not recognizer.context \
                    or meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                out.append(result)
                continue
            surrounding = self._extract_surrounding_words(
                nlp_artifacts=nlp_artifacts, word=text[result.start:result.end], start=result.start)
            surrounding.extend(extra)
            supportive = self._find_supportive_word_in_context(surrounding, recognizer.context,
                                                               self.context_matching_mode)
            if supportive != "":
                result = copy.copy(result)
                result.analysis_explanation = copy.copy(result.analysis_explanation)
                score = result.score + self.context_similarity_factor
                score = max(score, self.min_score_with_context_similarity)
                result.score = min(score, ContextAwareEnhancer.MAX_SCORE)
                result.analysis_explanation.set_supportive_context_word(supportive)
                result.analysis_explanation.set_improved_score(result.score)
            out.append(result)
        return out
