"""Apply a policy to a polars DataFrame column, for training pipelines that already hold data in frames."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from prepkit.pipeline import Pipeline
from prepkit.policy import LoadedPolicy
from prepkit.records import Record, Segment


def anonymize_column(df: pl.DataFrame, column: str, policy: Pipeline | LoadedPolicy | str | Path, *,
                     route_column: str | None = None) -> pl.DataFrame:
    """Return `df` with `column` anonymized and a `<column>_route` column holding each row's route.

    Rows whose text failed verification or was routed away from fine-tuning keep their anonymized text only when
    one was produced; a row that failed closed gets null, never the original.
    """
    pipe = policy if isinstance(policy, Pipeline) else Pipeline(policy)
    route_column = route_column or f"{column}_route"
    values = df.get_column(column).to_list()
    records = [Record(f"row:{i}", "dataframe", "text", [Segment(column, v if isinstance(v, str) else "")], {}, i)
               for i, v in enumerate(values)]
    texts: list[str | None] = []
    routes: list[str] = []
    for v, res in zip(values, pipe.process(records), strict=True):
        if v is None or res.transformed is None:
            texts.append(None)
        else:
            texts.append(res.transformed.texts[0])
        routes.append(str(res.decision.route))
    return df.with_columns(pl.Series(column, texts, dtype=pl.String), pl.Series(route_column, routes))
