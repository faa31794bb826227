"""Corpus-wide recall through `prepkit run`: a name detected in a customer's ticket is masked in the short
follow-up the detector misses, whether the follow-up comes after the ticket or before it; the result is the same
with two workers and on an incremental re-run whose follow-up is replayed from the result cache; and the name
appears in no output outside the quarantine and the encrypted store.

The policy is the default one with names held to a 0.5 score (a precision-minded policy): the real model then
finds many a name in the long ticket (0.87) but scores it under 0.5 in the two-line follow-up, as in the report.
Which names it misses shifts with the model and the calibration, so the test picks, from a list, two the real
detector finds in the ticket and misses entirely in the follow-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from prepkit.runner import RunConfig, run
from tests.conftest import DEFAULT_POLICY

TICKET = ("Hello, my name is {name} and I ordered a standing desk on Monday. It arrived with a broken leg and I "
          "would like a replacement. You can reach me at {email}.")
FOLLOW_UP = "Follow-up from {name} ({email}). Is there any news on the replacement desk for my order?"
CANDIDATES = ["Oluwaseun Adeyemi", "Chidi Okafor", "Ngozi Eze", "Wanjiru Kamau", "Tomasz Wieczorek",
              "Marguerite Okonkwo", "Laila Haddad", "Priyanka Raghunathan", "Siddharth Venkataraman",
              "Aoife Brennan", "Kwabena Mensah", "Yerlan Dzhaksybekov", "Thandiwe Nkosi", "Bartholomew Quigley"]
OTHER = "How do I reset the password of the shared printer on the third floor? The manual does not say."
DATA_FILES = ("finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl")


def _policy(tmp: Path) -> Path:
    doc = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for etype in ("PERSON", "LOCATION", "ORGANIZATION", "NRP"):
        doc["detection"]["thresholds"][etype] = 0.5
    path = tmp / "names-at-half.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _customers(policy: Path) -> list[tuple[str, str, bool]]:
    """(name, e-mail, ticket first?) for two names the detector finds in the ticket and misses in the follow-up."""
    from prepkit.detect import Detector
    from prepkit.policy import load_policy
    from prepkit.records import Record, Segment

    pol = load_policy(policy).policy
    detector = Detector(pol)
    picked: list[tuple[str, str, bool]] = []
    for name in CANDIDATES:
        email = name.split()[0].lower() + "@example.com"
        texts = [TICKET.format(name=name, email=email), FOLLOW_UP.format(name=name, email=email)]
        ticket, follow = detector.detect([Record(str(i), "t", "text", [Segment("text", t)])
                                          for i, t in enumerate(texts)])
        s = texts[1].index(name)
        found = any(texts[0][f.start:f.end] == name and f.entity_type == "PERSON" and
                    f.score >= pol.detection.corpus_recall.min_score for f in ticket)
        missed = not any(f.start < s + len(name) and s < f.end for f in follow)
        if found and missed:
            picked.append((name, email, not picked))  # the first ticket comes first, the second after
        if len(picked) == 2:
            return picked
    pytest.fail(f"the detector misses none of {CANDIDATES} in the follow-up any more: add names it misses")


def _write(path: Path, customers: list[tuple[str, str, bool]], *, tickets: bool = True) -> Path:
    rows = []
    for i, (name, email, ticket_first) in enumerate(customers):
        pair = [{"id": f"ticket-{i}", "text": TICKET.format(name=name, email=email)},
                {"id": f"follow-{i}", "text": FOLLOW_UP.format(name=name, email=email)}]
        if not tickets:
            pair = pair[1:]
        rows += pair if ticket_first else pair[::-1]
        rows.append({"id": f"other-{i}", "text": OTHER.replace("third", ["second", "fourth"][i])})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _outside_quarantine(out: Path) -> str:
    """Every readable output but the quarantine and the encrypted store (and the encrypted result cache)."""
    texts = []
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).parts
        if p.is_file() and rel[0] not in ("quarantine", "rag", ".cache"):
            texts.append(p.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def _finetune(out: Path) -> dict[str, str]:
    rows = {}
    for p in (out / "finetune").glob("*.jsonl"):
        for line in p.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[row["id"]] = json.dumps(row, ensure_ascii=False)
    return rows


def _audit(out: Path) -> dict[str, tuple[str, dict[str, int]]]:
    rows = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines() if x.strip()]
    return {r["record_id"]: (r["route"], r["entities"]) for r in rows if r.get("event") == "record"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("corpus_recall")
    policy = _policy(root)
    customers = _customers(policy)
    both = _write(root / "tickets.jsonl", customers)
    out: dict[str, Any] = {"customers": customers, "policy": policy, "input": both}
    for name, workers in (("one", 1), ("two", 2)):
        res = run(RunConfig(policy=policy, inputs=[both], out=root / name, workers=workers, cache=False))
        assert res.exit_code == 0
        out[name] = root / name
    # incremental: the follow-ups alone first (nothing known about them), then the tickets join the input; the
    # follow-ups are then replayed from the result cache and must not keep their old decision
    inc = root / "incremental"
    res = run(RunConfig(policy=policy, inputs=[_write(root / "inc.jsonl", customers, tickets=False)], out=inc))
    assert res.exit_code == 0
    out["alone"] = root / "alone"
    (root / "alone").mkdir()
    for rel in ("finetune", "audit.jsonl", "summary.json"):
        src = inc / rel
        dst = root / "alone" / rel
        if src.is_dir():
            dst.mkdir()
            for f in src.iterdir():
                (dst / f.name).write_bytes(f.read_bytes())
        else:
            dst.write_bytes(src.read_bytes())
    _write(root / "inc.jsonl", customers)
    res = run(RunConfig(policy=policy, inputs=[root / "inc.jsonl"], out=inc))
    assert res.exit_code == 0
    out["incremental"] = inc
    return out


def test_the_follow_up_alone_leaks_the_name_so_the_detector_misses_it(runs) -> None:
    # Without the ticket nothing in the run knows the name: this is the miss corpus recall exists for.
    ft = _finetune(runs["alone"])
    for i, (name, _, _) in enumerate(runs["customers"]):
        assert name in ft[f"follow-{i}"]


@pytest.mark.parametrize("run_name", ["one", "incremental"])
def test_a_name_detected_anywhere_is_masked_everywhere_in_either_order(runs, run_name: str) -> None:
    out = runs[run_name]
    ft = _finetune(out)
    audit = _audit(out)
    for i in range(len(runs["customers"])):
        # the follow-up still reaches fine-tuning, with the name replaced (ticket before it, or after it)
        assert f"follow-{i}" in ft, audit[f"follow-{i}"]
        assert audit[f"follow-{i}"][1].get("PERSON") == 1
        assert audit[f"ticket-{i}"][1].get("PERSON") == 1
    leaked = _outside_quarantine(out)
    for name, email, _ in runs["customers"]:
        for part in (*name.split(), email):
            assert part not in leaked
    summary = json.loads((out / "summary.json").read_text())
    assert summary["corpus_recall"]["records_rechecked"] == 2
    assert summary["conservation"]["ok"] and summary["records_in"] == 6
    assert summary["steps"]["corpus_recheck"]["records"] == 2
    assert sum(summary["routes"].values()) == len(audit) == 6


def test_two_workers_give_the_same_outputs_as_one(runs) -> None:
    one, two = runs["one"], runs["two"]
    for rel in DATA_FILES:
        assert (one / rel).exists() == (two / rel).exists()
        if (one / rel).exists():
            assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
    assert _audit(one) == _audit(two)


def test_the_incremental_run_replayed_the_follow_ups_and_amended_nothing_after_writing(runs) -> None:
    summary = json.loads((runs["incremental"] / "summary.json").read_text())
    assert summary["cache"]["hits"] == 4  # both follow-ups and both other records came from the cache
    assert _finetune(runs["incremental"]) == _finetune(runs["one"])
    from prepkit.audit import verify

    assert verify(runs["incremental"] / "audit.jsonl").ok


def test_the_auto_engine_finishes_re_checks_on_the_models_it_already_loaded(default_pipeline) -> None:
    from prepkit.engine import WorkerSpec
    from prepkit.engine.auto import AutoEngine
    from prepkit.records import Finding, Record, Redo, Segment

    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    engine = AutoEngine(spec, 1, None, lambda n, b: pytest.fail("no pool for one core"))
    text = FOLLOW_UP.format(name="Chidi Okafor", email="chidi@example.com")
    rec = Record("f", "t", "text", [Segment("text", text)])
    (first,), = list(engine.map([[rec]]))
    processor = engine._processor
    name = Finding(0, text.index("Chidi"), text.index("Chidi") + 12, "PERSON", 1.0, "corpus")
    (again,), = list(engine.map([[Redo(rec, [*first.findings, name])]]))
    assert engine._processor is processor  # no second model load
    assert "Chidi" not in again.transformed.texts[0] and name in again.findings


def test_scan_reports_the_name_in_the_follow_up_too(runs) -> None:
    from prepkit.scan import scan_inputs

    lines = {x["id"]: x for x in scan_inputs(str(runs["policy"]), [str(runs["input"])], workers=1)}
    for i in range(len(runs["customers"])):
        follow = lines[f"follow-{i}"]["findings"]
        name = runs["customers"][i][0]
        start = FOLLOW_UP.index("{name}")
        assert [(f["start"], f["end"], f["score"]) for f in follow if f["entity_type"] == "PERSON"] == [
            (start, start + len(name), 1.0)]  # the run's dictionary, not the model, found it
        assert all(name not in f["context"] for f in follow)
