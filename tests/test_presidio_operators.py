"""prepkit's operators are presidio-anonymizer operators: the README's example runs in Presidio's own engine and
gives what prepkit's Transformer gives for the same spans, under the same key."""

from __future__ import annotations

import contextlib
import io
import re
import secrets
from pathlib import Path

import pytest
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import InvalidParamError, OperatorConfig, RecognizerResult
from presidio_anonymizer.operators import Operator as PresidioOperator

from prepkit.checksums import luhn_valid
from prepkit.keys import KeyRing
from prepkit.policy import load_policy
from prepkit.records import Finding, Record, Segment
from prepkit.transform import Transformer
from prepkit.transform.catalog import fingerprints, operators
from prepkit.transform.presidio import add_operators, document_context

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- run by tests/test_presidio_operators.py -->\n```python\n(.*?)```", readme, re.S)
    assert m, "the README's Presidio example is gone"
    return m.group(1)


def run_readme(monkeypatch: pytest.MonkeyPatch, key_hex: str) -> dict:
    monkeypatch.delenv("PREPKIT_KEY_FILE", raising=False)
    monkeypatch.setenv("PREPKIT_KEY", key_hex)
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(readme_example(), "README.md", "exec"), scope)  # noqa: S102 - the documented example itself
    return scope


def test_readme_example_runs_in_presidios_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    key = secrets.token_hex(32)
    scope = run_readme(monkeypatch, key)
    text, out = scope["text"], scope["out"].text
    for real in ("Maria", "Lopez", "maria.lopez", "4111 1111 1111 1111"):
        assert real not in out
    fake_card = next(i.text for i in scope["out"].items if i.entity_type == "CREDIT_CARD")
    assert luhn_valid(fake_card) and fake_card[0] == "4" and re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", fake_card)
    first = next(i.text for i in sorted(scope["out"].items, key=lambda i: i.start) if i.entity_type == "PERSON")
    assert f"Ms. {first.split()[-1]} called back." in out  # "Ms. Lopez" follows "Maria Lopez"'s surrogate
    assert run_readme(monkeypatch, key)["out"].text == out  # same key, same output
    assert run_readme(monkeypatch, secrets.token_hex(32))["out"].text != out

    # The same spans through prepkit's own Transformer give the same text.
    loaded = load_policy(ROOT / "tests" / "fixtures" / "synthesize_policy.yaml")
    ring = KeyRing.from_bytes(bytes.fromhex(key), "test")
    rec = Record("r", "t", "text", [Segment("text", text)])
    fs = [Finding(0, r.start, r.end, r.entity_type, r.score) for r in scope["results"]]
    assert Transformer(loaded, ring, propagate=False).transform(rec, fs).texts[0] == out


def test_every_operator_is_a_presidio_operator_with_its_own_name() -> None:
    engine = AnonymizerEngine()
    names = add_operators(engine)
    assert set(names) == {f"prepkit_{op.name}" for op in operators()}
    assert {"mask", "hash", "encrypt", "redact", "replace"} <= set(engine.operators_factory.get_anonymizers())
    for op in operators():
        assert isinstance(op, PresidioOperator)


def test_presidio_validate_refuses_bad_parameters_and_a_missing_context() -> None:
    text = "card 4111 1111 1111 1111"
    results = [RecognizerResult("CREDIT_CARD", 5, 24, 1.0)]
    engine = AnonymizerEngine()
    add_operators(engine)
    ctx = document_context(KeyRing.from_bytes(secrets.token_bytes(32), "t"), text, results)
    with pytest.raises(InvalidParamError, match="show_lats"):
        engine.anonymize(text, results, {"CREDIT_CARD": OperatorConfig("prepkit_mask", {"context": ctx,
                                                                                          "show_lats": 4})})
    with pytest.raises(InvalidParamError, match="context"):
        engine.anonymize(text, results, {"CREDIT_CARD": OperatorConfig("prepkit_mask", {"show_last": 4})})
    out = engine.anonymize(text, results, {"CREDIT_CARD": OperatorConfig("prepkit_mask", {
        "context": ctx, "show_last": 4, "keep": " "})})
    assert out.text == "card **** **** **** 1111"


def test_fingerprints_name_every_operator_and_cover_the_library_that_draws_values() -> None:
    fp = fingerprints()
    assert set(fp) == {op.name for op in operators()}
    assert len(set(fp.values())) == len(fp)
    assert fp == fingerprints()
    assert "faker" in type(next(op for op in operators() if op.name == "synthesize")).libraries


def test_operators_are_subclasses_of_presidios_operator() -> None:
    for op in operators():
        assert issubclass(type(op), PresidioOperator)
