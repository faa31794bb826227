"""The per-record pipeline: detect → transform → verify → route. No I/O, so it runs the same in the CLI, in a
training script, in a worker process or on a cluster.

    from prepkit import Pipeline
    pipe = Pipeline("policies/default.yaml")
    for result in pipe.process(["Call Anna on 212-555-0187", {"text": "...", "id": "r7"}]):
        print(result.decision.route, result.transformed.texts)

Every failure of a stage for a record is caught and turned into a quarantine decision with the exception's class
name (never its message, which may quote the input): fail closed, never pass through.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prepkit.io.readers import InputOptions, _record_from_object
from prepkit.keys import KeyRing, load_keyring
from prepkit.policy import LoadedPolicy, load_policy
from prepkit.records import Decision, Finding, Record, Result, Route, Segment, Transformed, Verification
from prepkit.route import decide
from prepkit.transform import Transformer
from prepkit.verify import RESCAN_MARGIN, Verifier

if TYPE_CHECKING:
    from prepkit.detect import Detector


_SCAN_ONLY = Decision(Route.QUARANTINE, "scan only: not transformed or routed", rule="scan-only")


def input_options(loaded: LoadedPolicy, **overrides: Any) -> InputOptions:
    spec = loaded.policy.input
    passthrough = tuple(x for x in (spec.updated_field, spec.doc_type_field) if x)
    opts: dict[str, Any] = {
        "text_field": spec.text_field, "messages_field": spec.messages_field, "id_field": spec.id_field,
        "text_columns": tuple(spec.text_columns) if spec.text_columns else None, "passthrough": passthrough,
        "encoding_errors": spec.encoding_errors, "max_record_chars": spec.max_record_chars,
    }
    opts.update({k: v for k, v in overrides.items() if v is not None})
    return InputOptions(**opts)


class Pipeline:
    """Build once (models load in seconds), then process any number of records."""

    def __init__(self, policy: LoadedPolicy | str | Path, keyring: KeyRing | None = None, *,
                 spacy_model: str | None = None, batch_size: int = 64) -> None:
        self.loaded = policy if isinstance(policy, LoadedPolicy) else load_policy(policy)
        self.policy = self.loaded.policy
        self.keyring = keyring or load_keyring(self.policy.keys.key_file)
        assert self.keyring is not None
        # imported here: spaCy and Presidio take about a second to import, which a fully cached re-run never needs
        from prepkit.detect import Detector

        self.spacy_model = spacy_model
        self.detector = Detector(self.policy, spacy_model)
        self.transformer = Transformer(self.loaded, self.keyring)
        full_scan = None
        if self.policy.verification.full_rescan:
            second = Detector(self.policy, self.policy.verification.rescan_model or spacy_model)
            full_scan = _full_scan(second)
        # the detector's own pattern pass re-scans only around the changes: detection already ran it over the rest
        # (the safety argument is prepkit.verify's module doc)
        self.verifier = Verifier(self.loaded, self.keyring, pattern_scan=self.detector.pattern_scan,
                                 full_scan=full_scan, rescan_margin=RESCAN_MARGIN)
        self.batch_size = batch_size
        self.options = input_options(self.loaded)

    @property
    def versions(self) -> dict[str, str]:
        """What shapes this pipeline's outputs besides the policy and the key (what a run's cache is keyed on)."""
        from prepkit.versions import output_versions

        return output_versions(self.spacy_model or self.policy.detection.spacy_model)

    # -- API -------------------------------------------------------------------------------------------------
    def process(self, records: Iterable[Record | dict[str, Any] | str]) -> Iterator[Result]:
        """Yield one Result per input, in order. Strings and dicts are wrapped into Records (dict: JSONL shape)."""
        batch: list[Record] = []
        for i, item in enumerate(records):
            batch.append(self._coerce(item, i))
            if len(batch) >= self.batch_size:
                yield from self.process_batch(batch)
                batch = []
        if batch:
            yield from self.process_batch(batch)

    def _coerce(self, item: Record | dict[str, Any] | str, i: int) -> Record:
        if isinstance(item, Record):
            return item
        if isinstance(item, str):
            digest = hashlib.sha256(item.encode("utf-8", "surrogatepass")).hexdigest()
            return Record(f"api:{i + 1}", "api", "text", [Segment("text", item)], {}, i + 1, digest)
        digest = hashlib.sha256(repr(sorted(item.items())).encode("utf-8", "surrogatepass")).hexdigest()
        rec = _record_from_object(item, "api", i + 1, digest, self.options)
        if not isinstance(rec, Record):
            raise ValueError(f"record {i + 1}: {rec.reason}")
        return rec

    def process_batch(self, records: list[Record]) -> list[Result]:
        findings, errors, shares = self._detect(records)
        return [self._finish(rec, f, err, share)
                for rec, f, err, share in zip(records, findings, errors, shares, strict=True)]

    def finish(self, record: Record, findings: list[Finding]) -> Result:
        """Transform, verify and route a record with the findings given (corpus recall adds to its own)."""
        return self._finish(record, sorted(findings, key=lambda f: (f.segment, f.start, f.end, f.entity_type)),
                            None)

    def detect_batch(self, records: list[Record]) -> list[Result]:
        """Detection only (`prepkit scan`): Results with findings (or the detection error) and nothing else;
        unrouted, so their decision says so."""
        findings, errors, shares = self._detect(records)
        return [Result(rec, f, None, Verification(passed=False), _SCAN_ONLY, err, (("detect", share),))
                for rec, f, err, share in zip(records, findings, errors, shares, strict=True)]

    # -- stages ----------------------------------------------------------------------------------------------
    def _detect(self, records: list[Record]) -> tuple[list[list[Finding]], list[str | None], list[float]]:
        """Findings and the error (or None) per record, and each record's share of the batch's detection time
        (by characters: detection runs on the batch as a whole)."""
        t0 = time.perf_counter()
        findings, errors = self._detect_all(records)
        seconds = time.perf_counter() - t0
        chars = [max(r.char_count, 1) for r in records]
        total = sum(chars)
        return findings, errors, [seconds * c / total for c in chars]

    def _detect_all(self, records: list[Record]) -> tuple[list[list[Finding]], list[str | None]]:
        try:
            return self.detector.detect(records), [None] * len(records)
        except Exception:
            # One bad record must not take its batch down: retry one by one to find it.
            out: list[list[Finding]] = []
            errs: list[str | None] = []
            for rec in records:
                try:
                    out.append(self.detector.detect([rec])[0])
                    errs.append(None)
                except Exception as e:  # noqa: BLE001 - fail closed on anything
                    out.append([])
                    errs.append(f"detect:{type(e).__name__}")
            return out, errs

    def _finish(self, rec: Record, findings: list[Finding], error: str | None, detect_s: float = 0.0) -> Result:
        transformed: Transformed | None = None
        verification = Verification(passed=False)
        timings = [("detect", detect_s)]
        if error is None:
            t0 = time.perf_counter()
            try:
                transformed = self.transformer.transform(rec, findings)
            except Exception as e:  # noqa: BLE001
                error = f"transform:{type(e).__name__}"
            timings.append(("transform", time.perf_counter() - t0))
        if error is None and transformed is not None:
            t0 = time.perf_counter()
            try:
                verification = self.verifier.verify(rec, findings, transformed)
            except Exception as e:  # noqa: BLE001
                error = f"verify:{type(e).__name__}"
            timings.append(("verify", time.perf_counter() - t0))
        if error is not None:
            transformed = None
        t0 = time.perf_counter()
        decision = decide(self.policy, rec, findings, verification if error is None else None, error)
        timings.append(("route", time.perf_counter() - t0))
        return Result(rec, findings, transformed, verification, decision, error, tuple(timings))


def _full_scan(detector: Detector) -> Any:
    def scan(text: str) -> list[tuple[int, int, str, float]]:
        rec = Record("verify", "verify", "text", [Segment("text", text)])
        return [(f.start, f.end, f.entity_type, f.score) for f in detector.detect([rec])[0]]

    return scan
