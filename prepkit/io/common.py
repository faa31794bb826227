"""What every reader shares: the options, the input error, digests and the UTF-8 decoding rules."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from prepkit.errors import PrepkitError


class InputError(PrepkitError):
    """An input path that cannot be used at all (does not exist). Per-record problems become Rejected instead."""


@dataclass(frozen=True, slots=True)
class InputOptions:
    text_field: str = "text"
    messages_field: str = "messages"
    id_field: str = "id"
    text_columns: tuple[str, ...] | None = None  # None: every string column
    passthrough: tuple[str, ...] = ("updated", "doc_type")  # metadata fields kept, not scanned
    encoding_errors: str = "reject"  # or "replace"
    max_record_chars: int = 50_000_000
    csv_delimiter: str | None = None


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data).hexdigest()


def decode(data: bytes, opts: InputOptions, *, allow_nul: bool = False) -> tuple[str | None, str | None]:
    """(text, problem). Invalid UTF-8 is rejected unless the policy allows replacement; NUL bytes always are
    (`allow_nul`: the caller rejects the affected rows itself)."""
    if not allow_nul and b"\x00" in data:
        return None, "contains NUL bytes (binary data?); expected UTF-8 text"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        if opts.encoding_errors == "replace":
            return data.decode("utf-8", errors="replace"), None
        return None, (f"invalid UTF-8 at byte {e.start} (latin-1 or binary?); set input.encoding_errors: replace "
                      "in the policy to decode with replacement characters")


_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13, 27}) + b"\x7f"


def looks_binary(head: bytes) -> bool:
    """Mostly control bytes in the head means binary (an image, an archive): one rejection for the file, not one
    per 'line'. A text file with a stray NUL in one line is not binary; that line alone is rejected."""
    if not head or b"\x00" not in head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    return control * 20 > len(head)  # over 5%


class Position:
    """The last line a reader handed out, so a file that fails half-way can say where."""

    __slots__ = ("line",)

    def __init__(self) -> None:
        self.line = 0
