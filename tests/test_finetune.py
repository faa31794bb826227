"""Fine-tune datasets: formats a trainer loads (checked with Hugging Face `datasets`, offline), deterministic split,
filters, dedupe, card/manifest, byte-identical re-runs and erasure. Results come from the real Pipeline."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepkit.policy.model import DedupeSpec, FinetuneOutput, SplitSpec
from prepkit.records import Result, Verification, VerifyFailure
from prepkit.sinks.card import read_manifest
from prepkit.sinks.dedupe import Deduper, MinHasher, lsh_params, shingles
from prepkit.sinks.finetune import FinetuneWriter, Placement, redacted_fraction, remove_records, split_of

_LONG = ("Open the admin console and pick the workspace that owns the scheduled export. The export wizard lists "
         "every job with its owner, the target folder and the retention window. To change a job, stop it first, "
         "edit the filters, then save and start it again so the scheduler picks up the new settings. Jobs that "
         "fail three times in a row are paused automatically and show a warning badge on the dashboard. Check the "
         "job history for the error code, fix the credentials or the folder permissions, and resume the job from "
         "the same screen. Large exports are split into parts of one gigabyte each and compressed before upload. "
         "The audit tab records who changed a job and when, which helps when several teams share a workspace.")

PII_VALUES = ["Alexandra Chavez", "sheriboyd@example.org", "Jonathan Pryce", "jpryce@example.net",
              "Marta Lindqvist", "marta.lindqvist@example.com", "+1-202-555-0143"]


def _chat(i: str, user: str, assistant: str, system: bool = False) -> dict[str, Any]:
    msgs = ([{"role": "system", "content": "You are a helpful support agent."}] if system else [])
    return {"id": i, "messages": msgs + [{"role": "user", "content": user},
                                         {"role": "assistant", "content": assistant}]}


INPUT: list[dict[str, Any]] = [
    _chat("c-1", "Hi, this is Alexandra Chavez. I cannot log in after the password reset. Reach me at "
          "sheriboyd@example.org.", "Thanks Alexandra, I've reset the lock on your account.", system=True),
    _chat("c-2", "My name is Jonathan Pryce and the dashboard is empty since Monday. Mail: jpryce@example.net",
          "Sorry about that Jonathan, clearing the cache under Settings fixes the empty dashboard."),
    _chat("c-3", "How do I rotate an API token?", "Open Settings, then Tokens, and choose Rotate."),
    _chat("c-3-copy", "How do I rotate an API token?", "Open Settings, then Tokens, and choose Rotate."),
    _chat("c-4", "How do I schedule an export?", _LONG),
    _chat("c-4-near", "How do I schedule an export?", _LONG.replace("three times", "five times")),
    _chat("c-5", "Can I export reports as CSV files?", "Yes: open the report, choose Export and pick CSV."),
    _chat("c-6", "Why was I charged twice this month?", "The second charge is a pre-authorisation; it drops off "
          "within a few days."),
    _chat("c-7", "Does single sign-on work with the mobile app?", "Yes, the mobile app supports SSO since 4.2."),
    {"id": "c-user-only", "messages": [{"role": "user", "content": "Is there a keyboard shortcut for search?"}]},
    {"id": "d-1", "text": "Support tone guide: greet the customer, restate the problem in one sentence, say what "
                          "you will do next and when, and avoid jargon."},
    {"id": "d-pii", "text": "Marta Lindqvist, marta.lindqvist@example.com, +1-202-555-0143"},
    {"id": "d-short", "text": "Thanks, solved."},
]
ORDER = [r["id"] for r in INPUT]
SPLIT = SplitSpec(validation=0.3, test=0.2, seed=7)


def spec(fmt: str, **kw: Any) -> FinetuneOutput:
    # 0.9: only a record that is nearly all personal data is withheld, whatever else NER flags in short turns
    base: dict[str, Any] = {"format": fmt, "split": SPLIT, "min_chars": 20, "max_redacted_fraction": 0.9,
                            "dedupe": DedupeSpec(exact=True, near=True, near_threshold=0.85)}
    base.update(kw)
    return FinetuneOutput(**base)


@pytest.fixture(scope="module")
def results(default_pipeline) -> list[Result]:
    out = list(default_pipeline.process(INPUT))
    assert [r.record.id for r in out] == ORDER
    assert all(r.transformed is not None for r in out)
    return out


def write(results: list[Result], out: Path, fs: FinetuneOutput, *, policy: Any = None,
          subset: set[str] | None = None) -> tuple[dict[str, Placement], dict[str, Any]]:
    w = FinetuneWriter(out, fs, policy=policy)
    placed: dict[str, Placement] = {}
    for r in results:
        if subset is None or r.record.id in subset:
            placed[r.record.id] = p = w.check(r)
            if p.withheld is None:
                w.add(r)
    return placed, w.close()


def out_texts(results: list[Result], rid: str) -> list[str]:
    res = next(r for r in results if r.record.id == rid)
    assert res.transformed is not None
    return res.transformed.texts


def rows_of(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def tree_bytes(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}


@pytest.fixture
def hf_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A fresh cache per test: `datasets` fingerprints a local folder by file names, so two "finetune" folders
    # with the same file names could share a cache entry.
    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home / "cache"


# -- formats -----------------------------------------------------------------------------------------------
COLUMNS = {"chat": {"id", "messages"}, "prompt_completion": {"id", "prompt", "completion"}, "text": {"id", "text"},
           "parquet": {"id", "kind", "messages", "text"}}


@pytest.mark.parametrize("fmt", ["chat", "prompt_completion", "text", "parquet"])
def test_each_format_loads_with_hf_datasets(results, tmp_path, hf_cache, fmt):
    from datasets import load_dataset

    placed, stats = write(results, tmp_path, spec(fmt))
    ft = tmp_path / "finetune"
    assert set(stats["written"]) == {"train", "validation", "test"}
    assert sum(stats["written"].values()) + sum(stats["withheld"].values()) == len(INPUT)
    builder = "parquet" if fmt == "parquet" else "json"
    for split, n in stats["written"].items():
        path = ft / stats["files"][["train", "validation", "test"].index(split)]
        assert path.name.startswith(split)
        if n == 0:
            continue
        ds = load_dataset(builder, data_files=str(path), split="train", cache_dir=str(hf_cache))
        assert set(ds.column_names) == COLUMNS[fmt]
        assert ds.num_rows == n
        assert sorted(ds["id"]) == sorted(i for i, p in placed.items() if p.split == split)
    # the card's front matter lists the splits, so the folder itself loads as a dataset
    whole = load_dataset(str(ft), cache_dir=str(hf_cache))
    assert {k: v.num_rows for k, v in whole.items()} == {k: v for k, v in stats["written"].items() if v}


def test_chat_rows_keep_turns_and_roles_anonymized(results, tmp_path):
    placed, _ = write(results, tmp_path, spec("chat"))
    rows = {r["id"]: r for p in (tmp_path / "finetune").glob("*.jsonl") for r in rows_of(p)}
    src = {r["id"]: r for r in INPUT}
    assert "c-1" in rows and "c-2" in rows
    for rid, row in rows.items():
        assert [m["role"] for m in row["messages"]] == [m["role"] for m in src[rid]["messages"]]
    blob = json.dumps(rows)
    for value in PII_VALUES:
        assert value not in blob
    # each turn is anonymized in place: the non-PII part of the turn is untouched
    assert rows["c-1"]["messages"][1]["content"].startswith("Hi, this is ")
    assert placed["d-1"].withheld == "not_chat"  # a lone assistant turn would break user-first chat templates


def test_prompt_completion_shapes(results, tmp_path):
    # TRL's conversational prompt/completion: message lists, never "role: content" strings or an empty prompt
    placed, _ = write(results, tmp_path, spec("prompt_completion"))
    rows = {r["id"]: r for p in (tmp_path / "finetune").glob("*.jsonl") for r in rows_of(p)}
    t = out_texts(results, "c-5")  # whatever NER flagged in these short turns, the shape is fixed
    assert rows["c-5"] == {"id": "c-5", "prompt": [{"role": "user", "content": t[0]}],
                           "completion": [{"role": "assistant", "content": t[1]}]}
    c1 = out_texts(results, "c-1")
    assert rows["c-1"]["prompt"] == [{"role": "system", "content": "You are a helpful support agent."},
                                     {"role": "user", "content": c1[1]}]
    assert placed["c-user-only"].withheld == "no_assistant_turn"
    assert placed["d-1"].withheld == "no_prompt"  # a document has no prompt to complete
    assert "d-1" not in rows


def _trl_shape(ds: Any) -> str:
    """Which of TRL's documented dataset types a loaded `datasets.Dataset` is, from its features."""
    from datasets import Value

    def is_turns(feat: Any) -> bool:  # a list of {role, content} strings, however `datasets` spells the list
        inner = getattr(feat, "feature", feat[0] if isinstance(feat, list) else None)
        return isinstance(inner, dict) and inner == {"role": Value("string"), "content": Value("string")}

    cols = set(ds.column_names) - {"id"}
    if cols == {"messages"} and is_turns(ds.features["messages"]):
        return "conversational language modeling"
    if cols == {"text"} and ds.features["text"] == Value("string"):
        return "standard language modeling"
    if cols == {"prompt", "completion"} and all(is_turns(ds.features[c]) for c in cols):
        return "conversational prompt-completion"
    return f"unknown: {ds.features}"


@pytest.mark.parametrize(("fmt", "expected"), [("chat", {"conversational language modeling"}),
                                               ("prompt_completion", {"conversational prompt-completion"}),
                                               ("text", {"standard language modeling"}),
                                               ("auto", {"conversational language modeling",
                                                         "standard language modeling"})])
def test_files_load_as_trl_dataset_types(results, tmp_path, hf_cache, fmt, expected):
    from datasets import load_dataset

    placed, stats = write(results, tmp_path, spec(fmt))
    ft = tmp_path / "finetune"
    shapes = set()
    for name in stats["files"]:
        if (ft / name).stat().st_size == 0:
            continue
        ds = load_dataset("json", data_files=str(ft / name), split="train", cache_dir=str(hf_cache))
        shapes.add(_trl_shape(ds))
        if ds.num_rows and "messages" in ds.column_names:
            assert all(m[0]["role"] in ("system", "user") for m in ds["messages"])
    assert shapes == expected


def test_auto_format_follows_the_data(results, tmp_path, hf_cache):
    from datasets import load_dataset

    # chats and documents together: each shape gets its own files and dataset config
    placed, stats = write(results, tmp_path / "mixed", spec("auto"))
    ft = tmp_path / "mixed" / "finetune"
    assert stats["shapes"] == ["messages", "text"]
    assert placed["d-1"].split is not None and not any(p.withheld == "not_chat" for p in placed.values())
    assert sorted(stats["files"]) == sorted(f"{sh}{sp}.jsonl" for sh in ("", "text-")
                                           for sp in ("train", "validation", "test"))
    text_rows = {r["id"]: r for p in ft.glob("text-*.jsonl") for r in rows_of(p)}
    assert text_rows["d-1"] == {"id": "d-1", "text": out_texts(results, "d-1")[0]}
    chat_rows = {r["id"] for sp in ("train", "validation", "test") for r in rows_of(ft / f"{sp}.jsonl")}
    assert "c-1" in chat_rows and not chat_rows & set(text_rows)
    for config, ids in (("messages", chat_rows), ("text", set(text_rows))):
        whole = load_dataset(str(ft), config, cache_dir=str(hf_cache))
        assert {i for split in whole.values() for i in split["id"]} == ids
    # only documents: the plain `<split>.jsonl` names, text rows
    docs = {"d-1"}
    _, stats = write(results, tmp_path / "docs", spec("auto"), subset=docs)
    assert stats["shapes"] == ["text"] and all("-" not in f for f in stats["files"])
    assert [r for p in (tmp_path / "docs" / "finetune").glob("*.jsonl") for r in rows_of(p)] == \
        [{"id": "d-1", "text": out_texts(results, "d-1")[0]}]
    # only chats: `<split>.jsonl` with messages, as the chat format writes them
    chats = {"c-1", "c-2", "c-5"}
    write(results, tmp_path / "chats", spec("auto"), subset=chats)
    write(results, tmp_path / "chat-fmt", spec("chat"), subset=chats)
    assert tree_bytes(tmp_path / "chats" / "finetune").keys() == tree_bytes(tmp_path / "chat-fmt" / "finetune").keys()
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        assert (tmp_path / "chats/finetune" / name).read_bytes() == (tmp_path / "chat-fmt/finetune" / name).read_bytes()
    # erasure finds rows in the per-shape files and keeps the manifest's per-config counts right
    assert remove_records(tmp_path / "mixed", {"d-1", "c-1"}) == 2
    m = read_manifest(ft)
    assert m is not None
    assert sum(s["rows"] for s in m["configs"]["text"].values()) == len(text_rows) - 1
    assert sum(m["splits"][n]["rows"] for n in m["splits"]) == len(text_rows) + len(chat_rows) - 2


def test_parquet_has_both_shapes(results, tmp_path):
    write(results, tmp_path, spec("parquet"))
    rows = {r["id"]: r for p in (tmp_path / "finetune").glob("*.parquet") for r in rows_of(p)}
    assert rows["d-1"]["kind"] == "text" and rows["d-1"]["messages"] is None
    t = out_texts(results, "c-5")
    assert rows["c-5"] == {"id": "c-5", "kind": "chat", "text": f"user: {t[0]}\n\nassistant: {t[1]}",
                           "messages": [{"role": "user", "content": t[0]}, {"role": "assistant", "content": t[1]}]}
    assert rows["d-1"]["text"] == out_texts(results, "d-1")[0]


# -- filters and dedupe ------------------------------------------------------------------------------------
def test_filters_and_duplicates_are_withheld_with_reasons(results, tmp_path):
    placed, stats = write(results, tmp_path, spec("text"))
    why = {i: p.withheld for i, p in placed.items() if p.withheld}
    assert why == {"c-3-copy": "exact_duplicate", "c-4-near": "near_duplicate", "d-pii": "mostly_redacted",
                   "d-short": "too_short"}
    assert stats["withheld"] == {"exact_duplicate": 1, "mostly_redacted": 1, "near_duplicate": 1, "too_short": 1}
    pii = next(r for r in results if r.record.id == "d-pii")
    assert redacted_fraction(pii) > 0.9  # name, e-mail and phone: nearly the whole text was replaced
    # the first occurrence is the one kept
    assert placed["c-3"].split and placed["c-4"].split
    assert "redacted" in placed["d-pii"].reason and "d-pii" not in placed["d-pii"].reason


def test_unverified_results_are_never_written(results, tmp_path):
    # Routing keeps them out already; a caller that routes on its own must not get them in either.
    res = next(r for r in results if r.record.id == "c-1")
    failed = dataclasses.replace(res, verification=Verification(
        passed=False, failures=[VerifyFailure("pattern_rescan", "EMAIL_ADDRESS", 1)]))
    w = FinetuneWriter(tmp_path, spec("chat"))
    assert w.check(failed) == Placement(withheld="unverified")
    with pytest.raises(ValueError, match="withhold"):
        w.add(failed)  # a caller that skips the check still gets nothing written
    assert w.check(res).split is not None  # the same record, verified, is written
    w.add(res)
    stats = w.close()
    assert stats["withheld"] == {"unverified": 1} and sum(stats["written"].values()) == 1


def test_filters_can_be_turned_off(results, tmp_path):
    fs = spec("text", dedupe=DedupeSpec(exact=False, near=False), min_chars=0, max_redacted_fraction=1.0)
    placed, stats = write(results, tmp_path, fs)
    assert stats["withheld"] == {}
    assert sum(stats["written"].values()) == len(INPUT)
    fs = spec("text", max_chars=100)
    placed, _ = write(results, tmp_path / "b", fs)
    assert placed["c-4"].withheld == "too_long"


def test_dedupe_unit_behaviour():
    d = Deduper(exact=True, near=True, threshold=0.85)
    assert d.check(_LONG) is None
    assert d.check("  " + _LONG.upper() + "\n") == d.check(_LONG)  # normalized: case and whitespace
    assert d.check(_LONG.upper()).kind == "exact_duplicate"  # type: ignore[union-attr]
    near = d.check(_LONG.replace("one gigabyte", "two gigabytes"))
    assert near is not None and near.kind == "near_duplicate" and near.of == 0
    assert d.check("A completely different note about invoices and refunds for the billing team.") is None
    half = " ".join(_LONG.split()[: len(_LONG.split()) // 2]) + " and then something else entirely different"
    assert d.check(half) is None  # Jaccard ≈ 0.5: kept
    # deterministic: fresh hashers give the same signature; the estimate tracks the true Jaccard
    a, b = MinHasher().signature(_LONG), MinHasher().signature(half)
    assert a is not None and b is not None
    assert a.tobytes() == MinHasher().signature(_LONG).tobytes()  # type: ignore[union-attr]
    sa, sb = shingles(_LONG), shingles(half)
    true_j = len(sa & sb) / len(sa | sb)
    assert abs(float((a == b).mean()) - true_j) < 0.15
    bands, rows = lsh_params(0.85, 128)
    assert bands * rows <= 128
    assert 1 - (1 - 0.85 ** rows) ** bands >= 0.95  # a pair at the threshold becomes a candidate


# -- split -------------------------------------------------------------------------------------------------
def test_split_is_stable_whatever_else_is_in_the_run(results, tmp_path):
    full, _ = write(results, tmp_path / "full", spec("chat", dedupe=DedupeSpec(exact=False, near=False)))
    some = {"c-2", "c-5", "c-7"}
    part, _ = write(results, tmp_path / "part", spec("chat", dedupe=DedupeSpec(exact=False, near=False)),
                    subset=some)
    for rid in some:
        assert part[rid].split == full[rid].split == split_of(rid, SPLIT)
    # the hash spreads ids over the splits roughly as asked
    counts = {"train": 0, "validation": 0, "test": 0}
    for i in range(4000):
        counts[split_of(f"rec-{i}", SPLIT)] += 1
    assert abs(counts["validation"] / 4000 - 0.3) < 0.03 and abs(counts["test"] / 4000 - 0.2) < 0.03
    # a different seed moves records
    other = SplitSpec(validation=0.3, test=0.2, seed=8)
    assert any(split_of(f"rec-{i}", other) != split_of(f"rec-{i}", SPLIT) for i in range(50))


# -- determinism, card, manifest ---------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["chat", "parquet"])
def test_rerun_is_byte_identical(results, tmp_path, fmt, default_pipeline):
    write(results, tmp_path / "a", spec(fmt), policy=default_pipeline.loaded)
    write(results, tmp_path / "b", spec(fmt), policy=default_pipeline.loaded)
    a, b = tree_bytes(tmp_path / "a" / "finetune"), tree_bytes(tmp_path / "b" / "finetune")
    assert set(a) >= {"README.md", "manifest.json", "train." + ("parquet" if fmt == "parquet" else "jsonl")}
    assert a == b


def test_card_and_manifest(results, tmp_path, default_pipeline):
    placed, stats = write(results, tmp_path, spec("chat"), policy=default_pipeline.loaded)
    ft = tmp_path / "finetune"
    m = read_manifest(ft)
    assert m is not None
    assert m["policy"] == default_pipeline.loaded.identity
    assert {k: v["rows"] for k, v in m["splits"].items()} == stats["written"]
    assert m["card"]["withheld"] == stats["withheld"]
    for name, digest in m["files"].items():
        assert hashlib.sha256((ft / name).read_bytes()).hexdigest() == digest
    assert set(m["files"]) == {p.name for p in ft.iterdir()} - {"manifest.json"}
    card = (ft / "README.md").read_text(encoding="utf-8")
    assert default_pipeline.loaded.sha256 in card and "| not_chat | 1 |" in card
    assert "| PERSON |" in card and "| synthesize |" in card and "| api |" in card
    written = [r for r in results if placed[r.record.id].split]
    persons = sum(1 for r in written for f in r.findings if f.entity_type == "PERSON")
    operator = default_pipeline.policy.action_for("PERSON").operator
    assert f"| PERSON | {persons} | {operator} | 0 |" in card
    for value in PII_VALUES:
        assert value not in card and value not in (ft / "manifest.json").read_text(encoding="utf-8")


def test_rewrite_with_another_format_leaves_no_stale_split_files(results, tmp_path):
    write(results, tmp_path, spec("text"))
    assert (tmp_path / "finetune" / "test.jsonl").is_file()
    _, stats = write(results, tmp_path, spec("parquet", split=SplitSpec(validation=0.3, test=0.0, seed=7)))
    names = {p.name for p in (tmp_path / "finetune").iterdir()}
    assert names == {"train.parquet", "validation.parquet", "README.md", "manifest.json"}


@given(st.lists(st.sampled_from(["alpha beta", "Alpha  beta", "gamma", " GAMMA ", "delta epsilon", "beta alpha"]),
                max_size=12))
@settings(max_examples=60, deadline=None)
def test_exact_dedupe_flags_exactly_the_repeats(texts):
    d = Deduper(exact=True, near=False)
    seen: set[str] = set()
    for t in texts:
        norm = " ".join(t.lower().split())
        assert (d.check(t) is not None) == (norm in seen)
        seen.add(norm)


# -- erasure -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["prompt_completion", "parquet"])
def test_remove_records(results, tmp_path, fmt):
    placed, stats = write(results, tmp_path, spec(fmt))
    ft = tmp_path / "finetune"
    before = tree_bytes(ft)
    assert remove_records(tmp_path, {"no-such-id"}) == 0
    assert tree_bytes(ft) == before  # nothing to remove: nothing rewritten
    gone = {"c-1", "c-2", "c-3-copy"}  # c-3-copy was never written (a duplicate)
    assert remove_records(tmp_path, gone) == 2
    ids = {r["id"] for p in ft.iterdir() if p.stem in stats["written"] for r in rows_of(p)}
    assert ids == {i for i, p in placed.items() if p.split} - gone
    m = read_manifest(ft)
    assert m is not None and m["card"]["erased"] == 2
    assert sum(v["rows"] for v in m["splits"].values()) == sum(stats["written"].values()) - 2
    for name, digest in m["files"].items():
        assert hashlib.sha256((ft / name).read_bytes()).hexdigest() == digest
    assert "2 record(s) erased on request" in (ft / "README.md").read_text(encoding="utf-8")
    assert remove_records(tmp_path, gone) == 0


def test_remove_records_without_finetune_output(tmp_path):
    assert remove_records(tmp_path, {"x"}) == 0


# -- the run -----------------------------------------------------------------------------------------------
def test_run_accounts_withheld_records_as_drops(sample_run):
    out = sample_run.out_dir
    s = sample_run.summary
    ft = s["finetune"]
    written: dict[str, int] = {}
    for name in ft["files"]:  # <split>.jsonl, and text-<split>.jsonl when chats and documents both got in
        split = Path(name).stem.rpartition("-")[2]
        written[split] = written.get(split, 0) + len(rows_of(out / "finetune" / name))
    assert written == ft["written"]
    assert "not_chat" not in ft["withheld"]  # the default format has a place for every kind of record
    assert s["routes"]["finetune"] == sum(ft["written"].values())
    assert s["conservation"]["ok"]
    audit = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines()]
    filtered = [e for e in audit if str(e.get("rule", "")).startswith("finetune-filter:")]
    assert len(filtered) == sum(ft["withheld"].values()) > 0  # the samples repeat a FAQ answer
    assert all(e["route"] == "drop" for e in filtered)
    assert {e["rule"].split(":", 1)[1] for e in filtered} == set(ft["withheld"])
    m = read_manifest(out / "finetune")
    assert m is not None and m["run"]["routes"] == s["routes"] and m["run"]["inputs"] == s["inputs"]
    card = (out / "finetune" / "README.md").read_text(encoding="utf-8")
    assert f"| quarantine | {s['routes']['quarantine']} |" in card
