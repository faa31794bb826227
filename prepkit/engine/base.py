"""The engine-agnostic unit of work: a picklable recipe for a Pipeline plus one function, batch in → results out.

Every engine (in-process, process pool, Ray, and later Spark `mapInPandas` or Dask) does the same two things: build
a `BatchProcessor` once per worker from a `WorkerSpec` (model loading takes seconds), then call it on batches of
records. Batches and results cross process/network boundaries as pickled bytes (`encode`/`decode`), which any
engine can carry in a binary column.
"""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from prepkit.keys import KeyRing
from prepkit.policy import LoadedPolicy
from prepkit.records import Record, Redo, Result

if TYPE_CHECKING:
    from prepkit.pipeline import Pipeline

# What an engine maps: records to process, or records to finish again with more findings (corpus recall).
Batch = list[Record] | list[Redo]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build the same Pipeline as the driver. Carries the master key: send it only
    to workers you trust with the data anyway."""

    loaded: LoadedPolicy
    master: bytes
    key_source: str
    spacy_model: str | None = None
    batch_size: int = 64
    detect_only: bool = False  # `prepkit scan`: findings only, no transformation or verification

    @classmethod
    def of(cls, loaded: LoadedPolicy, keyring: KeyRing, spacy_model: str | None = None,
           batch_size: int = 64, detect_only: bool = False) -> WorkerSpec:
        return cls(loaded, keyring.master, keyring.source, spacy_model, batch_size, detect_only)

    def build(self) -> Pipeline:
        from prepkit.pipeline import Pipeline

        return Pipeline(self.loaded, KeyRing.from_bytes(self.master, self.key_source),
                        spacy_model=self.spacy_model, batch_size=self.batch_size)


class BatchProcessor:
    """The per-batch function, as a callable class so engines with long-lived workers build it once each.

    The Pipeline is built on the first non-empty batch: a batch the result cache emptied costs nothing, and a
    re-run whose every record is cached never loads the models."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self._pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = self.spec.build()
        return self._pipeline

    def __call__(self, records: Batch) -> list[Result]:
        if not records:
            return []
        if isinstance(records[0], Redo):  # corpus recall: the same record with more findings, no detection
            return [self.pipeline.finish(r.record, r.findings) for r in records if isinstance(r, Redo)]
        if self.spec.detect_only:
            return self.pipeline.detect_batch(records)
        return self.pipeline.process_batch(records)

    def encoded(self, payload: bytes) -> bytes:
        """Bytes in, bytes out: for engines whose rows are columns (Ray Data, Spark, Dask dataframes)."""
        return encode(self(decode(payload)))


def encode(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def decode(payload: bytes) -> Any:
    return pickle.loads(payload)  # noqa: S301 - our own payloads, produced by encode() in this run


class Engine(Protocol):
    """Maps batches to results, yielding result batches in input order (outputs must not depend on the engine)."""

    name: str

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]: ...

    def close(self) -> None: ...


class DeferredEngine:
    """Starts the real engine on the first batch that has work in it. A re-run the result cache answers in full
    then never starts worker processes or loads models (a process pool alone costs about a second to start)."""

    name = "deferred"

    def __init__(self, factory: Callable[[], Engine]) -> None:
        self._factory = factory
        self.engine: Engine | None = None

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        it = iter(batches)
        for batch in it:
            if not batch:
                yield []
                continue
            if self.engine is None:  # a second map (corpus recall's re-checks) reuses the started engine
                self.engine = self._factory()
            yield from self.engine.map(itertools.chain([batch], it))
            return

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def describe(self) -> dict[str, Any]:
        """The engine that ran and how many workers it used (none started: every record came from the cache)."""
        if self.engine is None:
            return {"name": None, "workers": 0}
        workers = getattr(self.engine, "workers_used", None) or getattr(self.engine, "workers", None) \
            or getattr(self.engine, "actors", None) or 1
        return {"name": self.engine.name, "workers": workers}
