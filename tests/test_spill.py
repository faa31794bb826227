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


def test_a_large_item_goes_in_chunks_and_a_cut_or_relabelled_chunk_is_refused(tmp_path) -> None:
    from prepkit import spill as spill_mod

    big = {"text": os.urandom(3 * spill_mod._CHUNK).hex(), "n": 7}  # 6M characters, ~3 MB compressed
    spill = Spill(tmp_path)
    spill.write("before")
    spill.write(big)
    spill.write("after")
    ahead, behind = spill.read(), spill.read()
    assert next(ahead) == "before" and next(ahead) == big  # the two readers interleave chunk by chunk
    assert list(behind) == ["before", big, "after"] and list(ahead) == ["after"]
    spill._f.flush()
    fd = spill._f.fileno()
    first = 8 + 1 + int.from_bytes(os.pread(fd, 8, 0), "big")  # the one chunk of "before"
    n = int.from_bytes(os.pread(fd, 8, first), "big")
    assert n > spill_mod._CHUNK and spill.bytes > 3 * spill_mod._CHUNK  # the big item's first chunk is full
    assert os.pread(fd, 1, first + 8) == b"\x00"  # ... and says more follow
    os.pwrite(fd, b"\x01", first + 8)  # claim the item ends after its first chunk
    with pytest.raises(InvalidTag):
        list(spill.read())
    os.pwrite(fd, b"\x00", first + 8)
    os.truncate(fd, first + 8 + 1 + n)  # the file cut after that chunk
    with pytest.raises(OSError, match="truncated"):
        list(spill.read())
    spill.close()
