"""The one driver loop: input items in, every item out in input order, as a Result with its final decision or
as the Rejected it was read as. `prepkit run`, `prepkit scan` and `prepkit policy test` all go through it, so
they batch, cache, route and fail closed the same way.

    driver = Driver(engine, batch_size=64, cache=cache, policy=policy, router=router, stats=stats)
    for item in driver.results(read_inputs(...)):
        ...                                  # Result (decision final) or Rejected, in input order

Batches go to the engine (in-process, a process pool, Ray) with the records the result cache does not hold;
cached records are replayed through the same routing. The router's pre-sink filters run here, on the driver,
in input order (duplicates are first-wins), never in a worker.

With corpus recall (prepkit.detect.corpus, on in every shipped policy) the driver makes two passes. Pass one
detects every record (engine or cache), learns its values into the run's keyed dictionary and parks the Result
in an encrypted spill (prepkit.spill); no output is final and no sink has seen anything. Pass two reads the
spill back in input order and matches each record against the now complete dictionary: a record with mentions
its own detection missed goes back to the engine to be transformed, verified and routed again with them
(`Redo`: no second detection, same keyed surrogates), and only then is its decision finalized. A record read
before a value was first detected is therefore caught exactly like one read after it, nothing has to be
amended once written, and the audit log and the summary count final routes only. The result cache holds each
record's own stage outputs (pass one), never a decision the dictionary changed, so a replay is matched again.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prepkit.engine import Engine
from prepkit.records import Finding, Record, Redo, Rejected, Result
from prepkit.route import Router
from prepkit.spill import Spill
from prepkit.stats import RunStats

if TYPE_CHECKING:
    from prepkit.cache import Cached, ResultCache
    from prepkit.detect.corpus import CorpusRecall
    from prepkit.policy.model import Policy

Item = Record | Rejected

# A batch also closes at this many characters. Batches are the unit the workers share, so 64 records of long
# documents (4 batches for 0.5 MB of judgments) left one core idle for most of the run; short records (64 dense
# records, ~21k characters) are untouched.
BATCH_CHARS = 32_000


class Driver:
    def __init__(self, engine: Engine, *, batch_size: int = 64, cache: ResultCache | None = None,
                 policy: Policy | None = None, router: Router | None = None, stats: RunStats | None = None,
                 stop_at_rejected: bool = False, recall: CorpusRecall | None = None, detect_only: bool = False,
                 spill_dir: Path | None = None, progress: Callable[[int], None] | None = None) -> None:
        if cache is not None and policy is None:
            raise ValueError("a cached driver needs the policy to route replayed records")
        self.engine = engine
        self.batch_size = batch_size
        self.cache = cache
        self.policy = policy
        self.router = router or Router()
        self.stats = stats
        self.stop_at_rejected = stop_at_rejected  # --strict: read no further than the first rejected item
        self.recall = recall  # corpus recall: two passes (see the module docstring)
        self.detect_only = detect_only  # `prepkit scan`: corpus findings are reported, nothing is transformed
        self.spill_dir = spill_dir
        self.progress = progress  # called with a record's characters once it is detected
        self.rechecked = 0  # records whose findings the dictionary added to
        self.added = 0  # findings it added

    def _groups(self, items: Iterable[Item]) -> Iterator[list[Item]]:
        """Input items cut into groups of `batch_size` records or BATCH_CHARS characters, whichever comes first
        (rejected items stay where they were read)."""
        group: list[Item] = []
        n = chars = 0
        for item in items:
            group.append(item)
            if isinstance(item, Rejected):
                if self.stop_at_rejected:
                    break
                continue
            n += 1
            chars += item.char_count
            if n >= self.batch_size or chars >= BATCH_CHARS:
                yield group
                group, n, chars = [], 0, 0
        if group:
            yield group

    def results(self, items: Iterable[Item]) -> Iterator[Result | Rejected]:
        if self.recall is None:
            for item in self._computed(items):
                yield item if isinstance(item, Rejected) else self.router.finalize(item)
            return
        recall = self.recall
        spill = Spill(self.spill_dir)
        try:
            learn_s = spill_s = 0.0
            for item in self._computed(items):  # pass one: detect, learn, park
                t0 = time.perf_counter()
                if isinstance(item, Result):
                    recall.learn([s.text for s in item.record.segments], item.findings)
                t1 = time.perf_counter()
                spill.write(item)
                learn_s += t1 - t0
                spill_s += time.perf_counter() - t1
            if self.stats is not None:
                self.stats.step("corpus_learn", learn_s, spill.items)
                self.stats.step("corpus_spill", spill_s, spill.items)
            for item in self._rechecked(spill):  # pass two: match, finish again, finalize
                yield item if isinstance(item, Rejected) else self.router.finalize(item)
        finally:
            spill.close()

    def corpus_summary(self) -> dict[str, Any] | None:
        """What corpus recall did in this run (counts only), for the run summary."""
        if self.recall is None:
            return None
        return {"entity_types": sorted(self.recall.entity_types), "values": len(self.recall),
                "records_rechecked": self.rechecked, "findings_added": self.added}

    def _rechecked(self, spill: Spill) -> Iterator[Result | Rejected]:
        """Pass two: every record matched against the whole dictionary; those with new mentions finished again
        by the engine (in batches, in input order). The engine's feed looks ahead of what is written; it keeps
        only indices and findings per batch in flight, and the items are read again from the spill as they are
        written, so memory stays bounded however far it runs ahead."""
        pending: deque[tuple[int, set[int], dict[int, list[Finding]]]] = deque()

        def redo() -> Iterator[list[Redo]]:
            ahead = spill.read()
            while True:
                n, work, sent, found = self._match_batch(ahead)
                if n == 0:
                    return
                pending.append((n, sent, found))
                yield work

        items = spill.read()
        for fresh in self.engine.map(redo()):
            n, sent, found = pending.popleft()
            again = iter(fresh)
            for i, item in zip(range(n), items, strict=False):
                if i in found:
                    assert isinstance(item, Result)
                    yield dataclasses.replace(item, findings=_ordered(item.findings + found[i]))
                elif i in sent:
                    assert isinstance(item, Result)
                    new = next(again)
                    # the record's detection time stays; the second finish is counted as a step of its own
                    yield dataclasses.replace(new, timings=item.timings + (
                        ("corpus_recheck", sum(s for _, s in new.timings)),))
                else:
                    yield item

    def _match_batch(self, ahead: Iterator[Result | Rejected]
                     ) -> tuple[int, list[Redo], set[int], dict[int, list[Finding]]]:
        """The next `batch_size` items matched against the dictionary: how many were read, the Redos to finish
        again, their indices, and (scan) the findings to add. The items themselves do not outlive this call: held
        while the engine works on the batch they were a second copy of every output in flight (the writer's
        reader holds the other), and a 20M-character record's output is hundreds of megabytes."""
        assert self.recall is not None
        t0 = time.perf_counter()
        n = results = 0
        work: list[Redo] = []
        sent: set[int] = set()
        found: dict[int, list[Finding]] = {}  # scan: the findings to add, nothing to finish
        for i, item in enumerate(islice(ahead, self.batch_size)):
            n += 1
            results += isinstance(item, Result)
            if not isinstance(item, Result) or item.error is not None:
                continue  # rejected, or failed closed (quarantined whatever it holds)
            extra = self.recall.match([s.text for s in item.record.segments], item.findings)
            if not extra:
                continue
            self.rechecked += 1
            self.added += len(extra)
            if self.detect_only:
                found[i] = extra
            else:
                work.append(Redo(item.record, _ordered(item.findings + extra)))
                sent.add(i)
        if self.stats is not None and n:
            self.stats.step("corpus_match", time.perf_counter() - t0, results)
        return n, work, sent, found

    def _computed(self, items: Iterable[Item]) -> Iterator[Result | Rejected]:
        """Every item in input order: a Result from the engine or the cache (decision not yet finalized), or
        the Rejected it was read as."""
        pending: deque[tuple[list[Item], list[Cached | None]]] = deque()

        def misses() -> Iterator[list[Record]]:
            # Cache hits stay here; only misses go to the engine (in order, so results line up below).
            for group in self._groups(items):
                records = [x for x in group if isinstance(x, Record)]
                t0 = time.perf_counter()
                hits: list[Cached | None] = \
                    self.cache.get_many(records) if self.cache is not None else [None] * len(records)
                if self.cache is not None and self.stats is not None:
                    self.stats.step("cache", time.perf_counter() - t0, len(records))
                pending.append((group, hits))
                yield [r for r, h in zip(records, hits, strict=True) if h is None]

        for fresh in self.engine.map(misses()):
            group, hits = pending.popleft()
            computed = iter(fresh)
            cached = iter(hits)
            for item in group:
                if isinstance(item, Rejected):
                    yield item
                    continue
                res = self._result(item, next(cached), computed)
                if self.progress is not None:
                    self.progress(item.char_count)
                yield res

    def _result(self, rec: Record, hit: Cached | None, computed: Iterator[Result]) -> Result:
        if hit is not None:
            from prepkit.cache import replay

            assert self.policy is not None
            return replay(self.policy, rec, hit)
        res = next(computed)
        if self.cache is not None and res.error is None:
            self.cache.put(rec, res.findings, res.transformed, res.verification)
        return res


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.segment, f.start, f.end, f.entity_type))
