"""The engine-agnostic unit of work: a picklable recipe for a Pipeline plus one function, batch in → results out.

Every engine (in-process, process pool, Ray, and later Spark `mapInPandas` or Dask) does the same two things: build
a `BatchProcessor` once per worker from a `WorkerSpec` (model loading takes seconds), then call it on batches of
records. Batches and results cross process/network boundaries as pickled bytes (`encode`/`decode`), which any
engine can carry in a binary column.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prepkit.keys import KeyRing
from prepkit.pipeline import Pipeline
from prepkit.policy import LoadedPolicy
from prepkit.records import Record, Result


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build the same Pipeline as the driver. Carries the master key: send it only
    to workers you trust with the data anyway."""

    loaded: LoadedPolicy
    master: bytes
    key_source: str
    spacy_model: str | None = None
    batch_size: int = 64

    @classmethod
    def of(cls, loaded: LoadedPolicy, keyring: KeyRing, spacy_model: str | None = None,
           batch_size: int = 64) -> WorkerSpec:
        return cls(loaded, keyring.master, keyring.source, spacy_model, batch_size)

    def build(self) -> Pipeline:
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

    def __call__(self, records: list[Record]) -> list[Result]:
        if not records:
            return []
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

    def map(self, batches: Iterable[list[Record]]) -> Iterator[list[Result]]: ...

    def close(self) -> None: ...
