"""mask with show_last: a card keeps at most its last four digits whatever its length (PCI DSS 3.4.1)."""

from __future__ import annotations

import pytest

from prepkit.transform import get_operator


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "4111-1111-1111-1111-123", "378282246310005"])
def test_show_last_four_at_any_length(card):
    out = get_operator("mask").apply(card, "CREDIT_CARD", {"show_last": 4, "keep": " -"}, None)
    digits_in = [c for c in card if c.isdigit()]
    visible = [c for c in out if c.isdigit()]
    assert visible == digits_in[-4:]
    assert len(out) == len(card)


def test_too_short_values_are_masked_whole():
    assert get_operator("mask").apply("1234", "X", {"show_last": 4}, None) == "****"


def test_count_and_show_last_conflict_is_reported():
    assert get_operator("mask").check({"count": 3, "show_last": 4})
