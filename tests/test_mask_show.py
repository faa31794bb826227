"""mask with show_last: a card keeps at most its last four digits whatever its length (PCI DSS 3.4.1)."""

from __future__ import annotations

import pytest

from prepkit.transform import get_operator


def _mask(value: str, entity: str, params: dict) -> str:
    op = get_operator("mask")
    return op.apply(value, entity, op.parse(params), None)


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "4111-1111-1111-1111-123", "378282246310005"])
def test_show_last_four_at_any_length(card):
    out = _mask(card, "CREDIT_CARD", {"show_last": 4, "keep": " -"})
    digits_in = [c for c in card if c.isdigit()]
    visible = [c for c in out if c.isdigit()]
    assert visible == digits_in[-4:]
    assert len(out) == len(card)


def test_too_short_values_are_masked_whole():
    assert _mask("1234", "X", {"show_last": 4}) == "****"


def test_count_and_show_last_conflict_is_reported():
    assert get_operator("mask").problems({"count": 3, "show_last": 4})
