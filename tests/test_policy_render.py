"""`policy show` and `policy diff`: golden files for a small stable policy pair, behaviour checks on the shipped ones.

Regenerate the golden files after an intended change with `pytest --regen-golden` (or PREPKIT_REGEN_GOLDEN=1)
and review the diff of tests/golden/policy/ like any other change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli.base import main
from prepkit.policy import load_policy
from prepkit.review.diff import diff_policies, render_diff
from prepkit.review.show import example_for, render

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "policy"
V1, V2 = GOLDEN / "review-v1.yaml", GOLDEN / "review-v2.yaml"
POLICIES = ROOT / "policies"


def check_golden(name: str, actual: str, regen: bool) -> None:
    path = GOLDEN / name
    if regen or not path.exists():
        path.write_text(actual, encoding="utf-8")
        if not regen:
            pytest.fail(f"golden file {path} was missing and has been written; review and commit it")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs; run pytest --regen-golden if intended"


@pytest.mark.parametrize(("fmt", "ext"), [("markdown", "md"), ("html", "html"), ("json", "json")])
def test_show_golden(fmt: str, ext: str, regen_golden: bool) -> None:
    r = CliRunner().invoke(main, ["policy", "show", str(V1), "--format", fmt])
    assert r.exit_code == 0, r.output
    check_golden(f"review-v1.show.{ext}", r.stdout, regen_golden)


@pytest.mark.parametrize(("fmt", "ext"), [("text", "txt"), ("json", "json")])
def test_diff_golden(fmt: str, ext: str, regen_golden: bool) -> None:
    r = CliRunner().invoke(main, ["policy", "diff", str(V1), str(V2), "--format", fmt])
    assert r.exit_code == 1, r.output  # 1: the policies differ
    check_golden(f"review-v1-v2.diff.{ext}", r.stdout, regen_golden)


def test_show_examples_come_from_the_real_operators() -> None:
    doc = json.loads(render(load_policy(V1), "json"))
    ex = {e["entity"]: e["examples"][0] for e in doc["entities"]}
    assert ex["CREDIT_CARD"] == {"before": "4111 1111 1111 1111", "after": "**** **** **** 1111"}
    assert ex["US_SSN"]["after"] == ""  # redact without text removes the value
    assert ex["DATE_TIME"]["after"] == "1961"
    assert ex["IP_ADDRESS"]["after"].startswith("ip-") and len(ex["IP_ADDRESS"]["after"]) == 13
    assert doc["policy"]["sha256"] == load_policy(V1).sha256
    goes = {e["entity"]: e["record_goes"] for e in doc["entities"]}
    assert goes["US_SSN"] == {"route": "quarantine", "rule": "ssn", "labels": []}
    assert goes["PERSON"] == {"route": "finetune", "rule": None, "labels": []}


def test_show_answers_where_special_category_records_go() -> None:
    doc = json.loads(render(load_policy(POLICIES / "gdpr.yaml"), "json"))
    goes = {e["entity"]: e["record_goes"] for e in doc["entities"]}
    for e in ("HEALTH_DATA", "SPECIAL_CATEGORY_DATA", "CRIMINAL_OFFENCE_DATA"):
        assert goes[e] == {"route": "rag", "rule": "special-categories", "labels": ["special-category"]}
    md = render(load_policy(POLICIES / "gdpr.yaml"), "markdown")
    assert ("- A record holding it goes to the encrypted RAG store with the label special-category, by rule "
            "“special-categories”") in md


def test_show_hipaa_generalizes_zip_and_age() -> None:
    doc = json.loads(render(load_policy(POLICIES / "hipaa-safe-harbor.yaml"), "json"))
    ex = {e["entity"]: {x["before"]: x["after"] for x in e["examples"]} for e in doc["entities"]}
    assert ex["ZIP_CODE"] == {"10027": "100", "03601": "000"}  # restricted 3-digit area → 000
    assert ex["AGE"]["93"] == "90+"
    assert ex["DATE_TIME"]["14 March 1961"] == "1961"
    for e in doc["entities"]:  # every identifier is changed in its example
        for x in e["examples"]:
            assert x["after"] != x["before"], e["entity"]


@pytest.mark.parametrize("policy", sorted(POLICIES.glob("*.yaml")), ids=lambda p: p.stem)
def test_show_every_shipped_policy(policy: Path) -> None:
    loaded = load_policy(policy)
    md = render(loaded, "markdown")
    assert loaded.sha256 in md
    for e in loaded.policy.detection.entities:
        assert f"### {e} — " in md
    for i, rule in enumerate(loaded.policy.routing.rules, 1):
        assert f"{i}. **{rule.name}**: " in md and rule.reason in md
    assert "operator failed" not in md
    html = render(loaded, "html")
    assert html.startswith("<!doctype html>") and "<script" not in html


def test_pci_card_mask_never_shows_more_than_last_four() -> None:
    doc = json.loads(render(load_policy(POLICIES / "pci-dss.yaml"), "json"))
    [card] = [e for e in doc["entities"] if e["entity"] == "CREDIT_CARD"]
    after = card["examples"][0]["after"]
    assert sum(c.isdigit() for c in after) <= 4


def test_diff_marks_changes_that_weaken_protection() -> None:
    changes = diff_policies(load_policy(V1), load_policy(V2))
    weaker = {(c.section, c.subject) for c in changes if c.weakens}
    assert weaker == {("detection", "PROJECT_CODENAME"), ("detection", "PERSON"), ("detection", "codenames"),
                      ("detection", "Example Support"), ("routing", "bots"), ("access", "auditor")}


def test_diff_of_identical_policies_is_empty(tmp_path: Path) -> None:
    copy = tmp_path / "same.yaml"
    copy.write_text("# only a comment differs\n" + V1.read_text())
    old, new = load_policy(V1), load_policy(copy)
    assert diff_policies(old, new) == []
    assert "No change in effect (the files differ only in layout or comments)." in render_diff([], old, new)
    r = CliRunner().invoke(main, ["policy", "diff", str(V1), str(copy)])
    assert r.exit_code == 0


def test_diff_shows_effective_default_action_change(tmp_path: Path) -> None:
    v = tmp_path / "v.yaml"
    v.write_text(V1.read_text().replace("DEFAULT: {operator: replace}", "DEFAULT: {operator: redact}"))
    changes = diff_policies(load_policy(V1), load_policy(v))
    # PROJECT_CODENAME has no action of its own: its effective action changes with DEFAULT, and is reported.
    assert [(c.section, c.subject) for c in changes] == [("actions", "PROJECT_CODENAME"), ("actions", "DEFAULT")]


def test_show_and_diff_refuse_broken_policy() -> None:
    bad = ROOT / "tests" / "fixtures" / "policies" / "unknown_entity.yaml"
    r = CliRunner().invoke(main, ["policy", "show", str(bad)])
    assert r.exit_code == 2 and f"{bad}:4: detection.entities[1]:" in r.stderr


@pytest.mark.parametrize(("regex", "matches"), [
    (r"\bEMP-\d{6}\b", "EMP-777777"), (r"(?:CVV|CVC)\s*\d{3}", "CVV 777"), (r"[A-Z]{2}-\d+", "AA-7"),
])
def test_example_for_regex(regex: str, matches: str) -> None:
    assert example_for(regex) == matches
