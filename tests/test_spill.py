"""The spill that parks a run's results between corpus recall's two passes: nameless, encrypted, read in order by
independent readers."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from prepkit.spill import Spill


def test_items_come_back_in_order_to_two_readers_and_no_byte_of_them_is_on_disk_in_clear(tmp_path) -> None:
    spill = Spill(tmp_path)
    items = [{"id": i, "text": f"Call Priyanka Raghunathan on 212-555-01{i:02d}"} for i in range(50)]
    for item in items:
        spill.write(item)
    assert list(tmp_path.iterdir()) == []  # the file has no name: a killed run leaves nothing behind
    ahead, behind = spill.read(), spill.read()
    assert [next(ahead) for _ in range(10)] == items[:10]
    assert list(behind) == items and list(ahead) == items[10:]
    raw = os.pread(spill._f.fileno(), spill.bytes, 0)
    assert len(raw) == spill.bytes and b"Priyanka" not in raw and b"212-555" not in raw
    spill.close()


def test_a_changed_byte_is_refused(tmp_path) -> None:
    spill = Spill(tmp_path)
    spill.write("Priyanka")
    spill._f.flush()
    os.pwrite(spill._f.fileno(), b"\x00", 12)
    with pytest.raises(InvalidTag):
        list(spill.read())
    spill.close()
