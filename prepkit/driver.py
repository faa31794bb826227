"""The one driver loop: input items in, every item out in input order, as a Result with its final decision or
as the Rejected it was read as. `prepkit run`, `prepkit scan` and `prepkit policy test` all go through it, so
they batch, cache, route and fail closed the same way.

    driver = Driver(engine, batch_size=64, cache=cache, policy=policy, router=router, stats=stats)
    for item in driver.results(read_inputs(...)):
        ...                                  # Result (decision final) or Rejected, in input order

Batches go to the engine (in-process, a process pool, Ray) with the records the result cache does not hold;
cached records are replayed through the same routing. The router's pre-sink filters run here, on the driver,
in input order (duplicates are first-wins), never in a worker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prepkit.engine import Engine
from prepkit.records import Record, Rejected, Result
from prepkit.route import Router
from prepkit.stats import RunStats

if TYPE_CHECKING:
    from prepkit.cache import Cached, ResultCache
    from prepkit.policy.model import Policy

Item = Record | Rejected


class Driver:
    def __init__(self, engine: Engine, *, batch_size: int = 64, cache: ResultCache | None = None,
                 policy: Policy | None = None, router: Router | None = None, stats: RunStats | None = None,
                 stop_at_rejected: bool = False) -> None:
        if cache is not None and policy is None:
            raise ValueError("a cached driver needs the policy to route replayed records")
        self.engine = engine
        self.batch_size = batch_size
        self.cache = cache
        self.policy = policy
        self.router = router or Router()
        self.stats = stats
        self.stop_at_rejected = stop_at_rejected  # --strict: read no further than the first rejected item

    def _groups(self, items: Iterable[Item]) -> Iterator[list[Item]]:
        """Input items cut into groups of `batch_size` records (rejected items stay where they were read)."""
        group: list[Item] = []
        n = 0
        for item in items:
            group.append(item)
            if isinstance(item, Rejected):
                if self.stop_at_rejected:
                    break
                continue
            n += 1
            if n >= self.batch_size:
                yield group
                group, n = [], 0
        if group:
            yield group

    def results(self, items: Iterable[Item]) -> Iterator[Result | Rejected]:
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
                yield self.router.finalize(self._result(item, next(cached), computed))

    def _result(self, rec: Record, hit: Cached | None, computed: Iterator[Result]) -> Result:
        if hit is not None:
            from prepkit.cache import replay

            assert self.policy is not None
            return replay(self.policy, rec, hit)
        res = next(computed)
        if self.cache is not None and res.error is None:
            self.cache.put(rec, res.findings, res.transformed, res.verification)
        return res
