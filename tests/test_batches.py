"""The picklable batch operator for training pipelines: pickles small and without the key, builds its models
lazily once per process, gives `datasets` a stable fingerprint (so a second map is served from the cache), and
takes and returns dict batches, pandas and polars frames (eager and lazy) and datatrove-style documents."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import polars as pl
import pytest

from prepkit.batches import ROUTE_COLUMN, Anonymizer
from tests.conftest import DEFAULT_POLICY, TEST_KEY, fixed_key

NAME, EMAIL = "Alexandra Chavez", "sheriboyd@example.org"
ROWS = {
    "prompt": [f"Hi, this is {NAME}, my mail is {EMAIL}.", "The build finished without errors.", None,
               "Why was I charged twice this month?"],
    "response": ["Thanks, I reset the lock on your account.", "Open Settings, then Tokens, and choose Rotate.",
                 "Nothing to add.", f"Sorry {NAME}, the second charge is a pre-authorisation."],
    "n": [1, 2, 3, 4],
}
COLUMNS = ["prompt", "response"]


@pytest.fixture(scope="module")
def op() -> Anonymizer:
    return Anonymizer(DEFAULT_POLICY, COLUMNS)


@pytest.fixture(scope="module")
def expected(op: Anonymizer) -> dict:
    return op(dict(ROWS))


def test_pickles_small_without_key_or_models_and_hashes_stably(op: Anonymizer, monkeypatch):
    from datasets.fingerprint import Hasher

    blob = pickle.dumps(op)
    assert len(blob) < 1000 and TEST_KEY.encode() not in blob and bytes.fromhex(TEST_KEY) not in blob
    assert pickle.loads(blob).__getstate__() == op.__getstate__()
    assert Hasher.hash(Anonymizer(DEFAULT_POLICY, COLUMNS)) == Hasher.hash(Anonymizer(DEFAULT_POLICY, COLUMNS))
    assert Hasher.hash(Anonymizer(DEFAULT_POLICY, ["prompt"])) != Hasher.hash(op)
    monkeypatch.setenv("PREPKIT_KEY", fixed_key("01"))  # another key gives other surrogates: another fingerprint
    assert Hasher.hash(Anonymizer(DEFAULT_POLICY, COLUMNS)) != Hasher.hash(op)


def test_dict_batches_several_columns(op: Anonymizer, expected: dict):
    out = expected
    assert set(out) == {"prompt", "response", "n", ROUTE_COLUMN} and out["n"] == ROWS["n"]
    blob = json.dumps(out)
    assert NAME not in blob and EMAIL not in blob
    assert out["prompt"][1] == ROWS["prompt"][1] and out["prompt"][2] is None  # clean text kept, null stays null
    assert out["response"][2] == "Nothing to add."
    assert all(r in ("finetune", "rag", "quarantine", "drop") for r in out[ROUTE_COLUMN])
    # Ray Data's default batch format: a dict of numpy arrays in, numpy arrays out, same values
    ray_like = op({k: np.array(v, dtype=object) for k, v in ROWS.items()})
    assert isinstance(ray_like["prompt"], np.ndarray)
    assert {k: list(v) for k, v in ray_like.items()} == out


def test_pandas_and_polars_eager_and_lazy_give_the_same_rows(op: Anonymizer, expected: dict):
    want = pl.DataFrame(expected)
    got_pd = op(pd.DataFrame(ROWS))
    assert isinstance(got_pd, pd.DataFrame)
    assert got_pd.astype(object).where(got_pd.notna(), None).to_dict("list") == expected
    got_pl = op(pl.DataFrame(ROWS))
    assert got_pl.equals(want)
    lazy = op(pl.LazyFrame(ROWS))
    assert isinstance(lazy, pl.LazyFrame)  # nothing runs until collected
    assert lazy.collect().equals(want)


def test_unknown_column_and_batch_type_are_errors(op: Anonymizer):
    with pytest.raises(KeyError, match="no column response"):
        op({"prompt": ["x"]})
    with pytest.raises(TypeError, match="unsupported batch type"):
        op([("x", "y")])


def test_datatrove_style_step_anonymizes_documents(op: Anonymizer, expected: dict):
    docs = [SimpleNamespace(text=t, id=str(i), metadata={}) for i, t in enumerate(ROWS["response"])]
    out = list(op.run(iter(docs), rank=0, world_size=1))
    assert [d.id for d in out] == ["0", "1", "2", "3"]
    assert NAME not in " ".join(d.text for d in out)
    assert all(d.metadata[ROUTE_COLUMN] in ("finetune", "rag", "quarantine", "drop") for d in out)


def test_datasets_map_in_two_processes_then_from_the_cache(tmp_path: Path, monkeypatch, expected: dict):
    from datasets import load_dataset

    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(dict(zip(ROWS, r, strict=True))) + "\n" for r in zip(*ROWS.values(),
                                                                                             strict=True)))
    ds = load_dataset("json", data_files=str(src), split="train", cache_dir=str(tmp_path / "hf"))
    first = ds.map(Anonymizer(DEFAULT_POLICY, COLUMNS), batched=True, batch_size=2, num_proc=2)
    assert first.to_dict() == expected  # same rows whatever the batch boundaries and processes
    # A second operator built the same way has the same fingerprint, so `datasets` reuses the cached result:
    # with the key gone from the environment, any worker that had to build the models would fail.
    again = Anonymizer(DEFAULT_POLICY, COLUMNS)
    monkeypatch.delenv("PREPKIT_KEY")
    second = ds.map(again, batched=True, batch_size=2, num_proc=2)
    assert second.to_dict() == expected and second.cache_files == first.cache_files
