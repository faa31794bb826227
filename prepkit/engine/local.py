"""In-process engine: one Pipeline in the calling process. The default for one worker and for small inputs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prepkit.engine.base import Batch, BatchProcessor, WorkerSpec
from prepkit.records import Result


class LocalEngine:
    name = "local"

    def __init__(self, spec: WorkerSpec) -> None:
        self.processor = BatchProcessor(spec)

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        for batch in batches:
            yield self.processor(batch)

    def close(self) -> None:
        pass
