"""`SafePatternRecognizer`: Presidio's PatternRecognizer with `prepkit.safe_regex`'s time limit, raising
`RegexTimeout` on expiry instead of skipping the pattern. Kept apart from `safe_regex` so loading a policy (which
checks its regexes) does not import Presidio and spaCy."""

from __future__ import annotations

from typing import Any

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

from prepkit.safe_regex import RegexTimeout, check, timeout_from_env


class SafePatternRecognizer(PatternRecognizer):
    """A PatternRecognizer whose patterns run with `regex`'s timeout and raise `RegexTimeout` on expiry."""

    def __init__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self._compiled: dict[tuple[str, int], Any] = {}
        self._label = str(kwargs.get("name") or self.__class__.__name__)
        self._patterns: list[Pattern] = list(self.patterns)  # type: ignore[has-type]
        for p in self._patterns:
            if p.name != "deny_list":  # presidio builds the deny-list regex from escaped words: always safe
                check(p.regex, f"recognizer {self._label!r} pattern {p.name!r}")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None,
                regex_flags: int | None = None) -> list[RecognizerResult]:
        flags = regex_flags if regex_flags else self.global_regex_flags
        results: list[RecognizerResult] = []
        for pattern in self._patterns:
            key = (pattern.regex, int(flags or 0))
            compiled = self._compiled.get(key)
            if compiled is None:
                compiled = self._compiled[key] = regex.compile(pattern.regex, flags=flags or 0)
            try:
                spans = [m.span() for m in compiled.finditer(text, timeout=self.timeout)]
            except TimeoutError:
                raise RegexTimeout(f"recognizer {self._label!r} pattern {pattern.name!r} exceeded its "
                                   f"{self.timeout:g} s time limit") from None
            for start, end in spans:
                if start == end:
                    continue
                description = self.build_regex_explanation(
                    self._label, pattern.name, pattern.regex, pattern.score,
                    None, int(flags or 0))  # type: ignore[arg-type]  # presidio itself passes None here
                res = RecognizerResult(
                    entity_type=self.supported_entities[0], start=start, end=end, score=pattern.score,
                    analysis_explanation=description,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                )
                if res.score > EntityRecognizer.MIN_SCORE:
                    results.append(res)
        return EntityRecognizer.remove_duplicates(results) if results else results
