"""prepkit's analyzer (prepkit/detect/analyzer.py) must give exactly Presidio's results: the same recognizers,
the same texts, Presidio's own AnalyzerEngine and RecognizerRegistry beside it, identical RecognizerResults in the
same order (type, span, score, recognizer name and id, explanation)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerResult, pattern_recognizer
from presidio_analyzer.recognizer_registry import RecognizerRegistry

from prepkit.detect.analyzer import (
    CachedRecognizerRegistry,
    FastAnalyzerEngine,
    overrides_context,
    quick_patterns,
)
from tests.conftest import EVAL_FIXTURES, SAMPLES

_NAME, _ID = RecognizerResult.RECOGNIZER_NAME_KEY, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY


def _texts() -> list[str]:
    out = []
    for line in (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        out += [m["content"] for m in json.loads(line)["messages"]]
    out = out[:50]
    for name in ("presidio_synth_120.jsonl", "wnut17_test_200.jsonl"):
        out += [json.loads(line)["text"] for line in
                (EVAL_FIXTURES / name).read_text(encoding="utf-8").splitlines()[:20]]
    out += [
        "Call me on 212-555-0147 or my cell phone 646 555 0199; my credit card number is 4111 1111 1111 1111.",
        "SSN 078-05-1120, passport number 340020013, bank account 123456789012 at routing 021000021.",
        "phone: +44 20 7946 0958 — ip 192.168.0.17 — email jane.roe@example.org — url https://example.org/x",
        "JOHN SMITH, 42 MAIN STREET, SPRINGFIELD; DOB 01/02/1980; IBAN GB82 WEST 1234 5698 7654 32",
        "",
    ]
    return out


def _view(results: list[RecognizerResult]) -> list[tuple[Any, ...]]:
    """Everything a result carries, in the order given."""
    return [(r.entity_type, r.start, r.end, r.score, (r.recognition_metadata or {}).get(_NAME),
             (r.recognition_metadata or {}).get(_ID),
             repr(r.analysis_explanation) if r.analysis_explanation else None) for r in results]


def _presidio(fast: AnalyzerEngine, recognizers: list[Any]) -> AnalyzerEngine:
    registry = RecognizerRegistry(recognizers=list(recognizers), supported_languages=["en"])
    return AnalyzerEngine(registry=registry, nlp_engine=fast.nlp_engine, supported_languages=["en"],
                          context_aware_enhancer=type(fast.context_aware_enhancer)())


def _compare(fast: AnalyzerEngine, reference: AnalyzerEngine, entities: list[str] | None, **kwargs: Any) -> int:
    """Both engines on every text with the same NLP artifacts; the number of results compared."""
    n = 0
    for text, arts in fast.nlp_engine.process_batch(_texts(), "en"):
        got = fast.analyze(text, "en", entities=entities, nlp_artifacts=arts, **kwargs)
        want = reference.analyze(text, "en", entities=entities, nlp_artifacts=arts, **kwargs)
        assert _view(got) == _view(want), text[:60]
        n += len(want)
    return n


@pytest.fixture(scope="module")
def fast(default_pipeline) -> FastAnalyzerEngine:
    analyzer = default_pipeline.detector.analyzer
    assert isinstance(analyzer, FastAnalyzerEngine)
    assert isinstance(analyzer.registry, CachedRecognizerRegistry)
    return analyzer


def test_same_results_as_presidio(fast, default_pipeline) -> None:
    reference = _presidio(fast, fast.registry.recognizers)
    entities = list(default_pipeline.policy.detection.entities)
    assert _compare(fast, reference, entities, score_threshold=0.0) > 200  # as detection calls it
    # all_fields (every entity the recognizers support), Presidio's own thresholds, explanations kept
    assert _compare(fast, reference, None, return_decision_process=True) > 200


class _Boosting(PatternRecognizer):
    """Overrides enhance_using_context: +0.1 per other recognizer's result that starts before its own."""

    def enhance_using_context(self, text: str, raw_recognizer_results: list[RecognizerResult],
                              other_raw_recognizer_results: list[RecognizerResult], nlp_artifacts: Any,
                              context: list[str] | None = None) -> list[RecognizerResult]:
        for r in raw_recognizer_results:
            r.score = min(1.0, r.score + 0.1 * sum(o.start < r.start for o in other_raw_recognizer_results))
        return list(reversed(raw_recognizer_results))


def test_a_recognizer_that_overrides_enhance_using_context_is_called(fast) -> None:
    boosting = _Boosting(supported_entity="TICKET_WORD", name="Boosting",
                         patterns=[Pattern("word", r"\b(?:ticket|order|card|phone)\b", 0.3)])
    assert overrides_context(boosting) and not any(overrides_context(r) for r in fast.registry.recognizers)
    recognizers = [*fast.registry.recognizers, boosting]
    engine = FastAnalyzerEngine(registry=CachedRecognizerRegistry(recognizers=list(recognizers),
                                                                  supported_languages=["en"]),
                                nlp_engine=fast.nlp_engine, supported_languages=["en"],
                                context_aware_enhancer=type(fast.context_aware_enhancer)())
    assert _compare(engine, _presidio(fast, recognizers), ["TICKET_WORD", "PHONE_NUMBER", "CREDIT_CARD", "PERSON"])
    found = engine.analyze("Order 5 for card 4111 1111 1111 1111: call 212-555-0147 about the card", "en",
                           entities=["TICKET_WORD", "CREDIT_CARD", "PHONE_NUMBER"])
    words = {r.start: round(r.score, 6) for r in found if r.entity_type == "TICKET_WORD"}
    assert words[0] == words[12] == 0.3 and words[66] > 0.5, words  # the last "card" follows a card and a phone


def test_instance_level_override_counts() -> None:
    rec = PatternRecognizer(supported_entity="X", patterns=[Pattern("x", "x", 0.5)])
    assert not overrides_context(rec)
    rec.enhance_using_context = lambda **kw: kw["raw_recognizer_results"]  # type: ignore[method-assign]
    assert overrides_context(rec)


def test_registry_cache_answers_as_presidio_and_follows_changes(fast) -> None:
    plain = RecognizerRegistry(recognizers=list(fast.registry.recognizers), supported_languages=["en"])
    cached = CachedRecognizerRegistry(recognizers=list(fast.registry.recognizers), supported_languages=["en"])
    for kwargs in ({"entities": ["PERSON", "PHONE_NUMBER"]}, {"all_fields": True}, {"entities": ["EMAIL_ADDRESS"]}):
        first = cached.get_recognizers("en", **kwargs)
        assert first == plain.get_recognizers("en", **kwargs)  # in Presidio's order (from a set of the same objects)
        assert cached.get_recognizers("en", **kwargs) == first
    extra = PatternRecognizer(supported_entity="EMAIL_ADDRESS", name="ExtraEmail", patterns=[Pattern("e", "@", 0.1)])
    cached.add_recognizer(extra)
    assert extra in cached.get_recognizers("en", entities=["EMAIL_ADDRESS"])
    cached.remove_recognizer("ExtraEmail")
    assert extra not in cached.get_recognizers("en", entities=["EMAIL_ADDRESS"])
    cached.recognizers.append(extra)  # edited directly, not through add_recognizer
    assert extra in cached.get_recognizers("en", entities=["EMAIL_ADDRESS"])
    adhoc = PatternRecognizer(supported_entity="EMAIL_ADDRESS", name="AdHoc", patterns=[Pattern("e", "@", 0.1)])
    assert adhoc in cached.get_recognizers("en", entities=["EMAIL_ADDRESS"], ad_hoc_recognizers=[adhoc])
    assert adhoc not in cached.get_recognizers("en", entities=["EMAIL_ADDRESS"])
    with pytest.raises(ValueError):
        cached.get_recognizers("en", entities=["NO_SUCH_ENTITY"])


def _presidio_patterns(fast: AnalyzerEngine) -> list[PatternRecognizer]:
    out = [r for r in fast.registry.recognizers if "_PatternRecognizer__analyze_patterns" in vars(r)]
    assert len(out) >= 12  # Presidio's own pattern recognizers: credit card, SSN, dates, IPs, URLs...
    return out


def test_quick_patterns_give_presidios_results(fast) -> None:
    original = PatternRecognizer._PatternRecognizer__analyze_patterns  # type: ignore[attr-defined]
    n = 0
    for rec in _presidio_patterns(fast):
        for text in _texts():
            got = rec._PatternRecognizer__analyze_patterns(text)  # type: ignore[attr-defined]
            want = original(rec, text)
            assert _view(got) == _view(want), (rec.name, text[:60])
            n += len(want)
    assert n > 50


def test_quick_patterns_keep_presidios_regex_timeout(monkeypatch, caplog) -> None:
    rec = PatternRecognizer(supported_entity="X", patterns=[Pattern("groups", r"(?:\d{3}-){5}\d{3}", 0.5)])
    assert quick_patterns(rec)
    text = ("123-" * 4 + "x ") * 20_000 + "123-456-789-012-345-678"
    assert [(r.start, r.end) for r in rec.analyze(text, ["X"])] == [(len(text) - 23, len(text))]
    monkeypatch.setattr(pattern_recognizer, "REGEX_TIMEOUT_SECONDS", 1e-6)
    with caplog.at_level(logging.WARNING, logger="presidio-analyzer"):
        assert rec.analyze(text, ["X"]) == []  # expired: the pattern is skipped, as Presidio does
    assert "timed out" in caplog.text
