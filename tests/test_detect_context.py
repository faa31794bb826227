"""prepkit's context enhancer must score exactly as Presidio's LemmaContextAwareEnhancer: same analyzer, same
texts, both enhancers, identical results (entity, span, score, and the context words behind each boost)."""

from __future__ import annotations

import json

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from prepkit.detect.context import FastLemmaContextAwareEnhancer
from tests.conftest import SAMPLES


def _texts() -> list[str]:
    out = []
    for line in (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        out += [m["content"] for m in json.loads(line)["messages"]]
    out += [
        "Call me on 212-555-0147 or my cell phone 646 555 0199; my credit card number is 4111 1111 1111 1111.",
        "SSN 078-05-1120, passport number 340020013, bank account 123456789012 at routing 021000021.",
        "phone: +44 20 7946 0958 — ip 192.168.0.17 — email jane.roe@example.org — url https://example.org/x",
        "no context at all 4111111111111111 and 212 555 0147 here",
        "",
    ]
    return out


def _results(engine: AnalyzerEngine, text: str) -> list[tuple[object, ...]]:
    res = engine.analyze(text, language="en", return_decision_process=True)
    return sorted((r.entity_type, r.start, r.end, round(r.score, 9),
                   tuple(sorted(r.analysis_explanation.supportive_context_word.split()))
                   if r.analysis_explanation and r.analysis_explanation.supportive_context_word else ())
                  for r in res)


def test_fast_enhancer_gives_presidios_results(default_pipeline) -> None:
    fast = default_pipeline.detector.analyzer
    assert isinstance(fast.context_aware_enhancer, FastLemmaContextAwareEnhancer)
    reference = AnalyzerEngine(registry=fast.registry, nlp_engine=fast.nlp_engine, supported_languages=["en"],
                               context_aware_enhancer=LemmaContextAwareEnhancer())
    texts = _texts()
    boosted = 0
    for text in texts:
        got, want = _results(fast, text), _results(reference, text)
        assert got == want, text[:60]
        boosted += sum(1 for r in want if r[4])
    assert boosted >= 5  # the comparison covered results whose score context words raised
