"""`policy show` and `policy diff` take their sentences from the operators, so they say what the operator does:
a card masked with `show_last: 4` keeps its last four digits, and widening that is a change marked as weakening."""

from __future__ import annotations

from pathlib import Path

import pytest

from prepkit.policy import load_policy
from prepkit.review.diff import diff_policies
from prepkit.review.show import describe
from prepkit.transform.catalog import carries_value, describe_action

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("policy", ["default", "pci-dss"])
def test_show_says_a_card_keeps_its_last_four(policy: str) -> None:
    doc = describe(load_policy(ROOT / "policies" / f"{policy}.yaml"))
    card = next(e for e in doc["entities"] if e["entity"] == "CREDIT_CARD")
    assert "every character is overwritten" not in card["does"]
    assert "except the last 4" in card["does"]
    [example] = card["examples"]
    assert example["after"].endswith("1111") and example["after"].count("*") == 12  # the sentence matches the example


def test_diff_of_show_last_4_to_6_names_both_and_warns(tmp_path: Path) -> None:
    src = ROOT / "policies" / "pci-dss.yaml"
    wider = tmp_path / "pci-dss-6.yaml"
    wider.write_text(src.read_text().replace("show_last: 4", "show_last: 6"))
    [change] = [c for c in diff_policies(load_policy(src), load_policy(wider)) if c.section == "actions"]
    assert change.weakens
    now, was = change.sentence.split(" (was: ")
    assert "last 6" in now and "last 4" in was
    back = [c for c in diff_policies(load_policy(wider), load_policy(src)) if c.section == "actions"]
    assert not back[0].weakens


def test_a_parameter_the_sentence_does_not_mention_is_named() -> None:
    from prepkit.policy.model import Policy
    from prepkit.review.diff import _actions

    base = {"version": 1, "name": "p", "detection": {"entities": ["ORGANIZATION"]},
            "routing": {"default": {"route": "drop", "reason": "r"}}}
    a = Policy.model_validate({**base, "actions": {"ORGANIZATION": {"operator": "synthesize"}}})
    b = Policy.model_validate({**base, "actions": {"ORGANIZATION": {"operator": "synthesize", "keep_domain": False}}})
    [change] = _actions(a, b)
    now, was = change.sentence.split(" (was: ")
    assert now != was.rstrip(").")


@pytest.mark.parametrize(("operator", "params", "entity", "carries"), [
    ("mask", {"count": 1}, "CREDIT_CARD", True),  # all but one character stays
    ("mask", {"show_last": 4, "keep": " -"}, "CREDIT_CARD", False),
    ("mask", {"show_first": 6, "show_last": 4}, "CREDIT_CARD", True),
    ("mask", {}, "PERSON", False),
    ("encrypt", {}, "US_SSN", True),
    ("hash", {}, "EMAIL_ADDRESS", False),  # keyed: no dictionary attack without the key
    ("synthesize", {}, "PERSON", False),
    ("redact", {}, "PERSON", False),
])
def test_carries_value(operator: str, params: dict, entity: str, carries: bool) -> None:
    assert (carries_value(operator, params, entity) is not None) is carries
    assert describe_action(operator, params, entity)
