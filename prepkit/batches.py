"""A picklable batch operator for training pipelines: Hugging Face `datasets.map(batched=True)`, a datatrove
pipeline step, a Ray Data `map_batches` callable, pandas and polars (eager or lazy) frames.

    from prepkit.batches import Anonymizer
    op = Anonymizer("policies/default.yaml", columns=["prompt", "response"])
    ds = ds.map(op, batched=True, num_proc=4)       # adds `prepkit_route`; keep the rows you want by route

Why not pass a `Pipeline`: it holds spaCy and Presidio objects (a ctypes handle among them) that do not pickle,
and copying loaded models into workers is slow where it works at all. An `Anonymizer` carries only what names
the work — the policy file and its sha256, the columns, the key's public fingerprint, the model name — and builds
its Pipeline on first use in each process (once per process, shared by every copy there). Its pickled state is
therefore small and stable, so `datasets` gives two operators built the same way the same fingerprint and reuses
the cached map.

Each row is one record whose segments are the named columns (as `prepkit run` reads a table row), so the route
is decided for the whole row. A column holds the anonymized text only when the row's anonymization passed the
verification re-scan; otherwise it is null (fail closed, never the original). Null cells stay null.

The key is never pickled: every worker loads it as `prepkit run` does (PREPKIT_KEY_FILE / PREPKIT_KEY or the
policy's keys.key_file) and must find the key whose fingerprint the operator was built with.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prepkit.keys import load_keyring
from prepkit.policy import load_policy
from prepkit.records import Record, RecordKind, Result, Segment

if TYPE_CHECKING:
    from prepkit.pipeline import Pipeline

ROUTE_COLUMN = "prepkit_route"

# (pid, policy sha256, key id, model) -> Pipeline: one per process, whatever number of operator copies it holds.
# The pid is part of the key so a forked worker builds its own instead of using models copied mid-use.
_PIPELINES: dict[tuple[int, str, str, str | None], Pipeline] = {}


class Anonymizer:
    """Anonymize `columns` of a batch per a policy; add a route column. See the module docstring."""

    def __init__(self, policy: str | Path, columns: str | Sequence[str], *, spacy_model: str | None = None,
                 route_column: str = ROUTE_COLUMN, batch_size: int = 64) -> None:
        loaded = load_policy(policy)
        ring = load_keyring(loaded.policy.keys.key_file)
        assert ring is not None
        self.policy_path = str(Path(policy).resolve())
        self.policy_sha256 = loaded.identity["sha256"]
        self.key_id = ring.key_id
        self.columns = [columns] if isinstance(columns, str) else list(columns)
        if not self.columns:
            raise ValueError("Anonymizer: name at least one column")
        self.spacy_model = spacy_model
        self.route_column = route_column
        self.batch_size = batch_size

    # -- pickling: configuration only, never the models or the key -------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("policy_path", "policy_sha256", "key_id", "columns", "spacy_model",
                                              "route_column", "batch_size")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (f"Anonymizer(policy={Path(self.policy_path).name} sha256 {self.policy_sha256[:12]}, "
                f"columns={self.columns}, key {self.key_id})")

    @property
    def loaded(self) -> bool:
        """Whether this process has built the models yet (the operator builds them on first use)."""
        return self._cache_key() in _PIPELINES

    def _cache_key(self) -> tuple[int, str, str, str | None]:
        return (os.getpid(), self.policy_sha256, self.key_id, self.spacy_model)

    def pipeline(self) -> Pipeline:
        key = self._cache_key()
        pipe = _PIPELINES.get(key)
        if pipe is None:
            from prepkit.pipeline import Pipeline

            loaded = load_policy(self.policy_path)
            if loaded.identity["sha256"] != self.policy_sha256:
                raise RuntimeError(f"{self.policy_path}: the policy changed after the operator was built "
                                   f"(sha256 {self.policy_sha256[:12]} → {loaded.identity['sha256'][:12]}); "
                                   "build a new operator")
            ring = load_keyring(loaded.policy.keys.key_file)
            if ring is None or ring.key_id != self.key_id:
                raise RuntimeError(f"this worker's key ({ring.key_id if ring else 'none'}) is not the key the "
                                   f"operator was built with ({self.key_id}): set PREPKIT_KEY_FILE or "
                                   "PREPKIT_KEY on every worker")
            pipe = Pipeline(loaded, ring, spacy_model=self.spacy_model, batch_size=self.batch_size)
            _PIPELINES[key] = pipe
        return pipe

    # -- the work --------------------------------------------------------------------------------------------
    def rows(self, rows: Iterable[Sequence[Any]], columns: Sequence[str] | None = None,
             ) -> Iterator[tuple[list[str | None], str]]:
        """For each row (its values of `columns`, in order): (anonymized values, route)."""
        pipe = self.pipeline()
        rows = list(rows)
        names = list(columns or self.columns)
        records = [self._record(pipe, i, names, vals) for i, vals in enumerate(rows)]
        for vals, res in zip(rows, pipe.process(records), strict=True):
            yield self._values(vals, res), str(res.decision.route)

    @staticmethod
    def _record(pipe: Pipeline, i: int, columns: list[str], values: Sequence[Any]) -> Record:
        segments = [Segment(c, v if isinstance(v, str) else "" if v is None else str(v))
                    for c, v in zip(columns, values, strict=True)]
        # A keyed id from the content: results do not depend on where batch boundaries fall, and the id holds
        # no value that could be reversed by guessing.
        assert pipe.keyring is not None
        digest = hmac.new(pipe.keyring.derive("batch-row-id"), "\x1f".join(s.text for s in segments).encode(
            "utf-8", "surrogatepass"), "sha256").hexdigest()
        kind: RecordKind = "text" if len(segments) == 1 else "table"
        return Record(f"row:{digest[:16]}", "batch", kind, segments, {}, i + 1, digest)

    @staticmethod
    def _values(values: Sequence[Any], res: Result) -> list[str | None]:
        ok = res.transformed is not None and res.error is None and res.verification.passed
        if not ok or res.transformed is None:
            return [None] * len(values)
        return [None if v is None else t for v, t in zip(values, res.transformed.texts, strict=True)]

    def __call__(self, batch: Any) -> Any:
        """A batch in, the same kind of batch out: dict of columns (datasets, Ray's numpy format), pandas
        DataFrame, polars DataFrame or LazyFrame."""
        module = type(batch).__module__.split(".")[0]
        if module == "polars":
            return self._polars(batch)
        if module == "pandas":
            return self._pandas(batch)
        if isinstance(batch, Mapping):  # a dict, or datasets' LazyBatch
            return self._dict(batch)
        raise TypeError(f"Anonymizer: unsupported batch type {type(batch).__name__} (dict of columns, pandas or "
                        "polars DataFrame, polars LazyFrame)")

    def _missing(self, have: Iterable[str]) -> None:
        missing = [c for c in self.columns if c not in set(have)]
        if missing:
            raise KeyError(f"Anonymizer: batch has no column {', '.join(missing)}")

    def _dict(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        self._missing(batch)
        cols = [list(batch[c]) for c in self.columns]
        out_cols: list[list[str | None]] = [[] for _ in self.columns]
        routes: list[str] = []
        for vals, route in self.rows(zip(*cols, strict=True)):
            for j, v in enumerate(vals):
                out_cols[j].append(v)
            routes.append(route)
        out = dict(batch)
        numpy_in = type(batch[self.columns[0]]).__module__.split(".")[0] == "numpy"
        for c, vals in zip(self.columns, out_cols, strict=True):
            out[c] = _like(batch[c], vals)
        out[self.route_column] = _like(batch[self.columns[0]], routes) if numpy_in else routes
        return out

    def _pandas(self, df: Any) -> Any:
        self._missing(df.columns)
        rows = df[self.columns].itertuples(index=False, name=None)
        rows = [tuple(None if _is_na(v) else v for v in r) for r in rows]
        done = list(self.rows(rows))
        out = df.copy()
        for j, c in enumerate(self.columns):
            out[c] = [vals[j] for vals, _ in done]
        out[self.route_column] = [route for _, route in done]
        return out

    def _polars(self, frame: Any) -> Any:
        import polars as pl

        if isinstance(frame, pl.LazyFrame):
            schema = frame.collect_schema()
            self._missing(schema.names())
            out_schema: dict[str, Any] = dict(schema)
            out_schema.update({c: pl.String() for c in self.columns})
            out_schema[self.route_column] = pl.String()
            return frame.map_batches(self._polars, schema=out_schema)
        self._missing(frame.columns)
        done = list(self.rows(frame.select(self.columns).iter_rows()))
        return frame.with_columns(
            *(pl.Series(c, [vals[j] for vals, _ in done], dtype=pl.String) for j, c in enumerate(self.columns)),
            pl.Series(self.route_column, [route for _, route in done], dtype=pl.String))

    # -- datatrove -------------------------------------------------------------------------------------------
    def run(self, data: Iterable[Any], rank: int = 0, world_size: int = 1) -> Iterator[Any]:
        """A datatrove pipeline step (`LocalPipelineExecutor(pipeline=[reader, op.run, writer])`, or any
        iterator of objects with `.text` and `.metadata`): anonymizes each document's text in place, records the
        route in `metadata["prepkit_route"]`, and drops documents that did not pass verification (fail closed).
        A document has one text, so `columns` does not apply here."""
        batch: list[Any] = []
        for doc in data:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                yield from self._documents(batch)
                batch = []
        if batch:
            yield from self._documents(batch)

    def _documents(self, docs: list[Any]) -> Iterator[Any]:
        for doc, (vals, route) in zip(docs, self.rows([(d.text,) for d in docs], ["text"]), strict=True):
            if vals[0] is None:
                continue
            doc.text = vals[0]
            doc.metadata[self.route_column] = route
            yield doc


def _like(template: Any, values: list[Any]) -> Any:
    """Values in the container kind of `template` (a numpy array for Ray's numpy batches, else a list)."""
    if type(template).__module__.split(".")[0] == "numpy":
        import numpy as np

        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr
    return values


def _is_na(v: Any) -> bool:
    try:
        import pandas as pd

        return v is None or bool(pd.isna(v)) if not isinstance(v, str) else False
    except (TypeError, ValueError):
        return False
