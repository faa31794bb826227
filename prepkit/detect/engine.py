"""Detection: one Presidio AnalyzerEngine per process, built from the policy, fed by batched spaCy.

Texts are run through `nlp.pipe` in batches (the NER pass is the cost ceiling), then each text's recognizers run
on the precomputed artifacts. Texts longer than the chunk size are cut into overlapping windows on whitespace,
detected window by window, and the findings stitched back into whole-text offsets.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy
import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.attrs import IDX, LEMMA, LOWER, POS, TAG
from spacy.parts_of_speech import IDS as POS_IDS
from threadpoolctl import ThreadpoolController

from prepkit.detect.analyzer import CachedRecognizerRegistry, FastAnalyzerEngine, quick_patterns
from prepkit.detect.calibrate import calibrate
from prepkit.detect.chunking import merge_window_findings, windows
from prepkit.detect.context import FastLemmaContextAwareEnhancer
from prepkit.detect.digit_bound import digit_bound
from prepkit.detect.digit_bound import guard as guard_digit_bound
from prepkit.detect.models import load_pipeline
from prepkit.detect.ner_labels import drop_unused_labels
from prepkit.detect.normalize import Normalized, normalize
from prepkit.detect.phones import share_phone_work
from prepkit.detect.propernoun import ProperNounRecognizer
from prepkit.detect.recognizers import builtin_recognizers
from prepkit.detect.refine import refine
from prepkit.detect.safe_pattern import SafePatternRecognizer
from prepkit.detect.scoped import scope
from prepkit.detect.truecase import RUN_KEEP, case_mode, run_windows, truecase
from prepkit.offline import make_offline
from prepkit.policy.model import Policy, RecognizerSpec
from prepkit.records import Finding, Record

logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

# spaCy components prepkit never reads: NER entities, lemmas (Presidio's context words) and, for prepkit's proper-noun
# recognizer, PROPN tags are all it uses. The attribute ruler and lemmatizer cost ~20% of the pipeline time; a
# small component stands in for them (see slim_pipeline). Measured on Faker tickets, chars per CPU-second: full
# pipeline minus parser 39k; tok2vec+tagger+ner 48k (PROPN tags identical); ner alone 74k (entities identical).
_UNUSED_COMPONENTS = ("parser", "attribute_ruler", "lemmatizer", "morphologizer", "senter")
_LEMMA_POS = "prepkit_lemma_pos"


@spacy.Language.factory(_LEMMA_POS, default_config={"tag_map": {}})
def _make_lemma_pos(nlp: Any, name: str, tag_map: dict[str, str]) -> Callable[[Any], Any]:
    strings = nlp.vocab.strings
    pos_of_tag: dict[int, int] = {}  # tag hash -> POS id, filled as tags are met

    def pos_id(tag: int) -> int:
        if tag not in pos_of_tag:
            pos_of_tag[tag] = POS_IDS[tag_map.get(strings[tag] if tag else "", "X")]
        return pos_of_tag[tag]

    def lemma_pos(doc: Any) -> Any:
        # lower-cased text for lemmas: Presidio matches context words as substrings ("phone" in "phones").
        # Whole-document arrays, not one attribute write per token (a Python loop over every token).
        if not len(doc):
            return doc
        tagged = bool(tag_map) and doc.has_annotation("TAG")
        cols = doc.to_array([LOWER, TAG] if tagged else [LOWER]).reshape(len(doc), -1)
        if tagged:
            tags, where = numpy.unique(cols[:, 1], return_inverse=True)
            pos = numpy.array([pos_id(int(t)) for t in tags], dtype=numpy.uint64)[where.reshape(-1)]
            doc.from_array([LEMMA, POS], numpy.stack([cols[:, 0], pos], axis=1))
        else:
            doc.from_array([LEMMA], cols[:, :1])
        return doc

    return lemma_pos


def slim_pipeline(nlp: Any, needs_tags: bool) -> Any:
    """Keep only what detection reads. Without tags the shared tok2vec goes too when nothing else listens to it
    (en_core_web_sm's NER embeds tokens itself); lemmas and POS come from `prepkit_lemma_pos`."""
    tag_map: dict[str, str] = {}
    if "attribute_ruler" in nlp.component_names:  # the model's own TAG -> POS table, read before it is dropped
        for p in nlp.get_pipe("attribute_ruler").patterns:
            pats = p["patterns"]
            if len(pats) == 1 and len(pats[0]) == 1 and set(pats[0][0]) == {"TAG"} and "POS" in p["attrs"] \
                    and isinstance(pats[0][0]["TAG"], str):
                tag_map[pats[0][0]["TAG"]] = p["attrs"]["POS"]
    if not needs_tags and "tagger" in nlp.pipe_names:
        nlp.disable_pipe("tagger")
    for name in ("tok2vec", "transformer"):
        if name in nlp.pipe_names:
            listeners = getattr(nlp.get_pipe(name), "listening_components", [])
            if not any(c in nlp.pipe_names for c in listeners):
                nlp.disable_pipe(name)
    if "lemmatizer" not in nlp.pipe_names and _LEMMA_POS not in nlp.pipe_names:
        nlp.add_pipe(_LEMMA_POS, last=True, config={"tag_map": tag_map if needs_tags else {}})
    return nlp


def entity_independent(nlp: Any) -> list[str]:
    """The enabled components whose output the entities do not depend on: the tagger, the lemma/POS step, and a
    shared embedding layer none of the remaining components listens to (en_core_web_sm's NER embeds tokens
    itself). Components of other kinds stay: any of them may set or read entities."""
    off = [n for n in nlp.pipe_names if n in ("tagger", "morphologizer", _LEMMA_POS)]
    for name in ("tok2vec", "transformer"):
        if name in nlp.pipe_names:
            listeners = getattr(nlp.get_pipe(name), "listening_components", [])
            if not any(c in nlp.pipe_names and c not in off for c in listeners):
                off.append(name)
    return off


class _OfflineSpacyEngine(SpacyNlpEngine):
    """Presidio's engine, but a missing model is an error, never a download, and unused components are off."""

    _WORD_FLAGS_LIMIT = 200_000

    def load(self) -> None:
        # Presidio asks, for every token of every text, whether its lemma is a stop word and whether it is
        # punctuation (NlpArtifacts.keywords), each a vocabulary lookup that builds a Lexeme: answered once per word.
        self._word_flags: dict[tuple[str, str], tuple[bool, bool]] = {}
        self.nlp: dict[str, Any] = {}  # type: ignore[assignment]  # Presidio declares it None until loaded
        for model in self.models:
            nlp = load_pipeline(model["model_name"], _UNUSED_COMPONENTS)
            if getattr(self, "drop_ner_labels", False):
                drop_unused_labels(nlp)
            self.nlp[model["lang_code"]] = use_numpy_matmul(slim_pipeline(nlp, getattr(self, "needs_tags", True)))

    def _flags(self, word: str, language: str) -> tuple[bool, bool]:
        key = (word, language)
        flags = self._word_flags.get(key)
        if flags is None:
            if len(self._word_flags) >= self._WORD_FLAGS_LIMIT:
                self._word_flags.clear()
            lex = self.nlp[language].vocab[word]
            flags = self._word_flags[key] = (bool(lex.is_stop), bool(lex.is_punct))
        return flags

    def is_stopword(self, word: str, language: str) -> bool:
        return self._flags(word, language)[0]

    def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
        # Presidio's, with the lemmas and token offsets read from whole-document arrays: its two loops over the
        # tokens built a Token object per token and attribute, twice the cost of the rest of the artifact
        cols = doc.to_array([LEMMA, IDX]).reshape(len(doc), 2)
        strings = doc.vocab.strings
        entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
        return NlpArtifacts(entities=entities, tokens=doc, tokens_indices=cols[:, 1].tolist(),
                            lemmas=[strings[h] for h in cols[:, 0].tolist()], nlp_engine=self, language=language,
                            scores=scores)

    def is_punct(self, word: str, language: str) -> bool:
        return self._flags(word, language)[1]


# thinc multiplies matrices with BLIS by default; numpy's OpenBLAS, one thread, ran en_core_web_sm's NER 1.4×
# faster per CPU-second here (70k → 98k chars/s on Faker tickets) with identical entities (tests/test_detect_ops.py
# compares both on the sample and evaluation texts). PREPKIT_SPACY_BLIS=1 keeps BLIS.
_BLIS_ENV = "PREPKIT_SPACY_BLIS"


def use_numpy_matmul(nlp: Any) -> Any:
    """Switch this pipeline's models (not thinc's process-wide default) to numpy's matmul."""
    if os.environ.get(_BLIS_ENV) == "1":
        return nlp
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is not None and hasattr(model, "walk"):
            for node in model.walk():
                if type(node.ops) is NumpyOps:  # CPU layers only: a GPU (cupy) or other backend stays as it is
                    node.ops = ops
    return nlp


# Characters of text whose spaCy documents and Presidio artifacts are alive at once. A batch of 32 windows of a
# long record (3.2M characters) held 5.4 GB at its peak; at 300k characters one group still held about 1 GB above
# the models (a process peaked at 1514 MB), at 100k 933 MB in less CPU, with the same findings (every text is
# analysed on its own; the group only bounds how many are alive). A batch of short records (64 tickets, ~80k
# characters) stays one group.
NER_GROUP_CHARS = 100_000


def _char_groups(texts: Sequence[str], budget: int) -> list[tuple[int, int]]:
    """Consecutive [lo, hi) slices of `texts` of at most `budget` characters each (a longer text goes alone)."""
    groups: list[tuple[int, int]] = []
    lo, size = 0, 0
    for i, t in enumerate(texts):
        if i > lo and size + len(t) > budget:
            groups.append((lo, i))
            lo, size = i, 0
        size += len(t)
    if lo < len(texts):
        groups.append((lo, len(texts)))
    return groups


class _OneBlasThread:
    """OpenBLAS may start a thread per core for each small matrix product: with one worker process per core that
    doubled the CPU time of NER for no speed-up. Detection calls run with BLAS limited to one thread; the limit is
    lifted afterwards, so a caller's own numpy work in the same process keeps its threads."""

    def __init__(self) -> None:
        self._controller: Any = None

    def __call__(self) -> Any:
        if self._controller is None:
            self._controller = ThreadpoolController()
        return self._controller.limit(limits=1, user_api="blas")


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


def build_analyzer(policy: Policy, spacy_model: str | None = None) -> AnalyzerEngine:
    make_offline()
    det = policy.detection
    nlp_engine = _OfflineSpacyEngine(
        models=[{"lang_code": det.language, "model_name": spacy_model or det.spacy_model}],
        ner_model_configuration=NerModelConfiguration(),
    )
    nlp_engine.needs_tags = det.builtin_recognizers  # type: ignore[attr-defined]  # proper-noun recognizer
    # prepkit's detection (ner_labels.py); a policy that mimics vanilla Presidio keeps the model as trained
    nlp_engine.drop_ner_labels = det.builtin_recognizers  # type: ignore[attr-defined]
    nlp_engine.load()
    registry = CachedRecognizerRegistry(supported_languages=[det.language])
    registry.load_predefined_recognizers(languages=[det.language], nlp_engine=nlp_engine)
    if det.builtin_recognizers:
        for own in builtin_recognizers(det.language):
            registry.add_recognizer(own)
    for spec in det.recognizers:
        registry.add_recognizer(yaml_recognizer(spec, det.language))
    for name in det.disabled_recognizers:
        registry.remove_recognizer(name)
    for r in registry.recognizers:
        scope(r)
        share_phone_work(r)
        quick_patterns(r)
        guard_digit_bound(r)  # a recognizer that can only match a digit skips texts without one
    return FastAnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[det.language],
                              context_aware_enhancer=FastLemmaContextAwareEnhancer())


_NAME_LIKE = {"ORGANIZATION", "NRP", "LOCATION"}
# Types whose NER recall depends on capitals; the truecased pass adds only these.
_RECASED_TYPES = {"PERSON"}


def _from_ner(r: RecognizerResult) -> bool:
    return (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) == "SpacyRecognizer"


PatternScan = Callable[[str], list[tuple[int, int, str, float]]]


class Detector:
    """Finds PII in records. Build once per worker process: model loading takes seconds."""

    def __init__(self, policy: Policy, spacy_model: str | None = None, *, window: int = 100_000,
                 overlap: int = 400, batch_size: int = 256, calibrated: bool = True) -> None:
        self.policy = policy
        self.calibrated = calibrated  # False only to measure the raw scores (bench/calibrate.py)
        self._one_blas_thread = _OneBlasThread()
        self.analyzer = build_analyzer(policy, spacy_model)
        self.language = policy.detection.language
        self.entities = list(policy.detection.entities)
        self.window = window
        self.overlap = overlap
        self.batch_size = batch_size
        self.allow = {a.casefold() for a in policy.detection.allow_list}
        self._allow_rx = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in sorted(self.allow, key=len,
                                    reverse=True)) + r")(?!\w)") if self.allow else None
        # Every recognizer that does not need the NER pass (regex, deny lists, checksums, phonenumbers), for
        # the cheap verification re-scan.
        self._pattern_recognizers = [
            r for r in self.analyzer.registry.get_recognizers(self.language, entities=self.entities)
            if not isinstance(r, (SpacyRecognizer, ProperNounRecognizer))
        ]
        # Detection keeps what these find on their own (see _escaped), so no pattern finding that passes the
        # policy's bar is lost inside a longer guess that is dropped later; verification relies on it.
        self._stash: list[tuple[int, int, str, float, str]] | None = None
        for r in self._pattern_recognizers:
            self._watch(r)
        # guarded in build_analyzer: they skip texts without a digit
        self.digit_bound = [str(getattr(r, "name", "")) for r in self._pattern_recognizers if digit_bound(r)]
        self.model_name = spacy_model or policy.detection.spacy_model
        nlp = self.analyzer.nlp_engine.nlp[self.language]  # type: ignore[attr-defined]
        self.model_version = f"{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"
        self.window = min(self.window, nlp.max_length)  # a window is never too long for spaCy

    # -- whole records -------------------------------------------------------------------------------------
    def detect(self, records: Sequence[Record]) -> list[list[Finding]]:
        """Findings per record, in record order; each finding addresses (segment, start, end)."""
        jobs: list[tuple[int, int, int, str]] = []  # (record idx, segment idx, window offset, text)
        modes: list[str | None] = []  # the segment's case habit, one decision for all its windows
        norms: dict[tuple[int, int], Normalized] = {}  # detection reads the normalised text (see normalize.py)
        for ri, rec in enumerate(records):
            for si, seg in enumerate(rec.segments):
                if not seg.text.strip():
                    continue
                norm = norms[(ri, si)] = normalize(seg.text)
                mode = case_mode(norm.text) if self.policy.detection.builtin_recognizers else None
                for off, piece in windows(norm.text, self.window, self.overlap):
                    jobs.append((ri, si, off, piece))
                    modes.append(mode)
        raw: dict[tuple[int, int], list[list[tuple[int, Any]]]] = {}
        extents: dict[tuple[int, int], list[tuple[int, int]]] = {}  # windows' (start, end), for stitching
        for (ri, si, off, piece), results in zip(jobs, self._analyze_texts([j[3] for j in jobs], modes), strict=True):
            raw.setdefault((ri, si), []).append([(off, r) for r in results])
            extents.setdefault((ri, si), []).append((off, off + len(piece)))
        out: list[list[Finding]] = [[] for _ in records]
        for (ri, si), per_window in raw.items():
            text = records[ri].segments[si].text
            for nstart, nend, etype, score, name in merge_window_findings(per_window, extents[(ri, si)]):
                start, end = norms[(ri, si)].span(nstart, nend)
                if self._allowed(text[start:end], etype):
                    continue
                out[ri].append(Finding(si, start, end, etype, round(score, 4), name))
        for fl in out:
            fl.sort(key=lambda f: (f.segment, f.start, f.end, f.entity_type))
        return out

    def _analyze_texts(self, texts: list[str], modes: Sequence[str | None] = ()) -> list[list[RecognizerResult]]:
        """Findings per text; `modes` (per text, see recognizers.case_mode) sends lower-case / ALL-CAPS texts
        through NER a second time as a truecased copy."""
        out: list[list[RecognizerResult]] = []
        with self._one_blas_thread():
            for lo, hi in _char_groups(texts, NER_GROUP_CHARS):
                out += self._analyze_texts_unlimited(texts[lo:hi], modes[lo:hi] if modes else ())
        return out

    def _analyze_texts_unlimited(self, texts: list[str], modes: Sequence[str | None]) -> list[list[RecognizerResult]]:
        det = self.policy.detection
        results: list[list[RecognizerResult]] = []
        artifacts = self.analyzer.nlp_engine.process_batch(texts, self.language, batch_size=self.batch_size)
        recased = self._recased_ner(texts, modes) if any(modes) else {}
        calibrating = self.calibrated and det.builtin_recognizers
        for i, (text, nlp_artifacts) in enumerate(artifacts):
            self._stash = []
            try:
                found = self.analyzer.analyze(
                    text=text, language=self.language, entities=self.entities, nlp_artifacts=nlp_artifacts,
                    # calibrated scores are compared with the policy's thresholds only once they are calibrated
                    score_threshold=0.0 if calibrating else min([det.default_threshold, *det.thresholds.values()]),
                )
                raw_patterns = self._stash
            finally:
                self._stash = None
            if i in recased:  # NER on the truecased copy fills in where the original's NER found nothing
                ner = [r for r in found if _from_ner(r)]
                found.extend(r for r in recased[i] if not any(r.start < o.end and o.start < r.end for o in ner))
            if det.builtin_recognizers:  # prepkit's false-positive filters go with its recognizers
                found = refine(text, found)
                if calibrating:
                    found = calibrate(text, found)
            kept = [r for r in found if r.score >= det.threshold(r.entity_type)]
            results.append(kept + self._escaped(text, raw_patterns, kept))
        return results

    def _escaped(self, text: str, raw: list[tuple[int, int, str, float, str]], kept: list[RecognizerResult]
                 ) -> list[RecognizerResult]:
        """Pattern findings that pass the policy's bar on their own but that nothing kept covers: the analyzer
        merged them into a longer guess of the same type ("24/09/2026" into NER's "24/09/2026 about card
        4111...") that the false-positive filter then dropped. They are findings: the verification re-scan,
        which runs these recognizers alone, would find them in the output."""
        if not raw:
            return []
        return [r for r in self._pattern_view(text, raw)
                if not any(r.start < k.end and k.start < r.end for k in kept)]

    def _recased_ner(self, texts: list[str], modes: Sequence[str | None]) -> dict[int, list[RecognizerResult]]:
        """NER findings on truecased copies of the all-lowercase / ALL-CAPS texts, by text index (same offsets).
        A mixed-case text with shouted stretches ("runs") is read only around them (truecase.run_windows)."""
        ner = [r for r in self.analyzer.registry.get_recognizers(self.language, entities=self.entities)
               if isinstance(r, SpacyRecognizer)]
        # (text index, offset, the copy's text, where its entities count: None everywhere, else stretches ± keep)
        pieces: list[tuple[int, int, str, list[tuple[int, int]] | None]] = []
        for i, (t, m) in enumerate(zip(texts, modes, strict=True)):
            copy = truecase(t, m) if ner else None
            if copy is None:
                continue
            if m != "runs":
                pieces.append((i, 0, copy, None))
                continue
            for lo, hi, stretches in run_windows(t):
                pieces.append((i, lo, copy[lo:hi], [(a - RUN_KEEP, b + RUN_KEEP) for a, b in stretches]))
        if not pieces:
            return {}
        out: dict[int, list[RecognizerResult]] = {}
        nlp = self.analyzer.nlp_engine.nlp[self.language]  # type: ignore[attr-defined]
        # only the entities of a copy are read: the tagger and the lemma/POS step are not run on it
        with nlp.select_pipes(disable=entity_independent(nlp)):
            batch = list(self.analyzer.nlp_engine.process_batch([p[2] for p in pieces], self.language,
                                                                batch_size=self.batch_size))
        for (i, off, piece, keep), (_, arts) in zip(pieces, batch, strict=True):
            found = out.setdefault(i, [])
            for r in (r for rec in ner for r in rec.analyze(texts[i][off:off + len(piece)], self.entities, arts) or []
                      if r.entity_type in _RECASED_TYPES):
                r.start, r.end = r.start + off, r.end + off
                if keep is None or any(r.start < b and a < r.end for a, b in keep):
                    found.append(r)
        return out

    def _allowed(self, value: str, entity_type: str = "") -> bool:
        v = value.strip().casefold()
        if v in self.allow:
            return True
        # NER spans often run past an allow-listed name ("Northwind Analytics Pro"): a name-like span that holds
        # an allowed term is the allowed thing, not a person.
        if entity_type in _NAME_LIKE and self._allow_rx is not None:
            return self._allow_rx.search(v) is not None
        return False

    # -- cheap re-scan for verification ----------------------------------------------------------------------
    def pattern_scan(self, text: str) -> list[tuple[int, int, str, float]]:
        """Regex/deny-list/checksum/phone recognizers only, no NER: cheap enough to run on every output. Scored as
        detection scores them (the same false-positive filter, calibrated scores, thresholds and allow-list), so
        the verification re-scan holds the output to the bar detection held the input to."""
        norm = normalize(text)  # a value hidden by its encoding is found here as in detection
        raw = [_stashed(rec, r) for rec in self._pattern_recognizers
               for r in rec.analyze(norm.text, self.entities, None) or []]  # type: ignore[arg-type]
        out: list[tuple[int, int, str, float]] = []
        for r in self._pattern_view(norm.text, raw):
            start, end = norm.span(r.start, r.end)
            if not self._allowed(text[start:end], r.entity_type):
                out.append((start, end, r.entity_type, r.score))
        return out

    def _pattern_view(self, text: str, raw: list[tuple[int, int, str, float, str]]) -> list[RecognizerResult]:
        """What the pattern recognizers' results for `text` come to on their own, scored as detection scores:
        duplicates merged, prepkit's false-positive filter, calibrated scores, the policy's thresholds."""
        det = self.policy.detection
        found = [RecognizerResult(etype, start, end, score,
                                  recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: name})
                 for start, end, etype, score, name in raw]
        found = EntityRecognizer.remove_duplicates(found)
        if det.builtin_recognizers:
            found = refine(text, found)
            if self.calibrated:
                found = calibrate(text, found)
        return [r for r in found if r.score >= det.threshold(r.entity_type)]

    def _watch(self, rec: EntityRecognizer) -> None:
        """Keep a copy of what `rec` finds during detection (the analyzer rescales and merges its results)."""
        inner = rec.analyze

        def analyze(text: str, entities: list[str], nlp_artifacts: Any = None, *args: Any,
                    **kwargs: Any) -> list[RecognizerResult]:
            found = inner(text, entities, nlp_artifacts, *args, **kwargs)
            if self._stash is not None and found:
                self._stash.extend(_stashed(rec, r) for r in found)
            return found

        rec.analyze = analyze  # type: ignore[method-assign]


def _stashed(rec: EntityRecognizer, r: RecognizerResult) -> tuple[int, int, str, float, str]:
    name = (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY) or getattr(rec, "name", "")
    return (r.start, r.end, r.entity_type, r.score, str(name))


def recognizer_names(analyzer: AnalyzerEngine, language: str = "en") -> list[str]:
    return sorted({str(getattr(r, "name", "")) for r in analyzer.registry.get_recognizers(language, all_fields=True)})
