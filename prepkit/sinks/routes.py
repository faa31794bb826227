"""The sink of each route, behind one contract: `add(item)` in input order, `close(run)` once, returning the
figures the run summary keeps for that route.

    sinks = RouteSinks.open(out, loaded, keyring, memo=cache, rag_url=None, sync=False)
    sinks.of(result.decision.route).add(result)     # the decision is final (prepkit.route.Router)
    sinks.rejected.add(rejected)
    figures = sinks.close(stats)                     # {"finetune": {...}, "rag": {...}, ...}

Every input record reaches exactly one sink. The sinks never change a decision: the fine-tune dataset filters
and the erased-subject check run before them, as filters (`filters()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prepkit.keys import KeyRing
from prepkit.policy import LoadedPolicy
from prepkit.records import Rejected, Result, Route
from prepkit.route import ErasedSubjects, Filter
from prepkit.sinks.dedupe import SignatureMemo
from prepkit.sinks.finetune import FinetuneWriter
from prepkit.sinks.quarantine import QuarantineWriter, RejectedWriter
from prepkit.stats import RunStats

if TYPE_CHECKING:
    from prepkit.rag import RagWriter

T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    route: Route

    def add(self, item: T_contra) -> None: ...

    def close(self, run: RunStats) -> dict[str, Any]: ...


class FinetuneSink:
    route = Route.FINETUNE

    def __init__(self, writer: FinetuneWriter) -> None:
        self.writer = writer

    def add(self, item: Result) -> None:
        self.writer.add(item)

    def close(self, run: RunStats) -> dict[str, Any]:
        return self.writer.close(run={"routes": dict(run.routes), "reasons": dict(run.reasons),
                                      "inputs": list(run.inputs)})


class RagSink:
    """The encrypted store. It also keeps the subject index of every record (`index`), whatever its route, so
    `prepkit forget` finds a record wherever it went and a record now routed elsewhere loses its old chunks."""

    route = Route.RAG

    def __init__(self, writer: RagWriter, sync: bool) -> None:
        self.writer = writer
        self.sync = sync

    def add(self, item: Result) -> None:
        self.writer.add(item)

    def index(self, item: Result) -> None:
        self.writer.index_subjects(item)

    def close(self, run: RunStats) -> dict[str, Any]:
        return self.writer.close(sync=self.sync, seen_ids=run.seen_ids)


class QuarantineSink:
    route = Route.QUARANTINE

    def __init__(self, writer: QuarantineWriter) -> None:
        self.writer = writer

    def add(self, item: Result) -> None:
        self.writer.add(item)

    def close(self, run: RunStats) -> dict[str, Any]:
        return {"written": self.writer.close()}


class DropSink:
    """Dropped records are written nowhere; the audit log and the summary account for them."""

    route = Route.DROP

    def __init__(self) -> None:
        self.count = 0

    def add(self, item: Result) -> None:
        self.count += 1

    def close(self, run: RunStats) -> dict[str, Any]:
        return {"dropped": self.count}


class RejectedSink:
    route = Route.REJECTED

    def __init__(self, writer: RejectedWriter) -> None:
        self.writer = writer

    def add(self, item: Rejected) -> None:
        self.writer.add(item)

    def close(self, run: RunStats) -> dict[str, Any]:
        return {"written": self.writer.close()}


@dataclass
class RouteSinks:
    finetune: FinetuneSink
    rag: RagSink
    quarantine: QuarantineSink
    drop: DropSink
    rejected: RejectedSink

    @classmethod
    def open(cls, out: Path, loaded: LoadedPolicy, keyring: KeyRing, *, memo: SignatureMemo | None = None,
             rag_url: str | None = None, sync: bool = False) -> RouteSinks:
        from prepkit.rag import RagWriter  # numpy, the store and the embedder: not for an up-to-date run

        finetune = FinetuneWriter(out, loaded.policy.outputs.finetune, policy=loaded, memo=memo)
        quarantine = QuarantineWriter(out, keyring)
        rejected = RejectedWriter(out)
        rag = RagWriter(out, loaded, keyring, rag_url)
        return cls(FinetuneSink(finetune), RagSink(rag, sync), QuarantineSink(quarantine), DropSink(),
                   RejectedSink(rejected))

    def of(self, route: Route) -> Sink[Result]:
        sinks: dict[Route, Sink[Result]] = {Route.FINETUNE: self.finetune, Route.RAG: self.rag,
                                            Route.QUARANTINE: self.quarantine, Route.DROP: self.drop}
        return sinks[route]

    def filters(self) -> list[Filter]:
        """The pre-sink filters these sinks need, in order: an erased subject first (it is dropped whatever
        the dataset filters say), then the fine-tune dataset's filters and duplicates."""
        return [ErasedSubjects(self.rag.writer.erased), self.finetune.writer.filter]

    def close(self, run: RunStats) -> dict[str, dict[str, Any]]:
        # the order the outputs were always finished in: the fine-tune card last reads the run's counts
        return {"finetune": self.finetune.close(run), "quarantine": self.quarantine.close(run),
                "rejected": self.rejected.close(run), "rag": self.rag.close(run), "drop": self.drop.close(run)}
