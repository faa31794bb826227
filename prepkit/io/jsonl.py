"""JSON inputs: JSONL (one object per line, plain text or chat transcripts) and JSON arrays of such objects.

A line or array element that cannot become a record is one rejection with its line number; the reader then goes
on with the next line or element. Only a syntax error inside an array ends that file (JSON has no way to find where
the next element starts); the rest of the array is then one rejection naming the line where it broke.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from prepkit.errors import PrepkitError
from prepkit.io.common import InputOptions, Position, decode, sha256
from prepkit.records import Record, Rejected, Segment

# CPython refuses to turn longer digit strings into int (sys.get_int_max_str_digits); say so instead of failing.
_MAX_DIGITS = 4300


class _TooManyDigits(PrepkitError, ValueError):
    pass


def _parse_int(s: str) -> int:
    if len(s) > _MAX_DIGITS:
        raise _TooManyDigits
    return int(s)


_DECODER = json.JSONDecoder(parse_int=_parse_int)
_SKIPPER = json.JSONDecoder(parse_int=str)  # finds where an element with a huge integer ends
_HUGE_INT = f"JSON integer with more than {_MAX_DIGITS} digits; expected a string or a smaller number"


def _parse(text: str) -> tuple[Any, str | None]:
    """(object, problem) for one JSONL line."""
    try:
        return _DECODER.decode(text), None
    except json.JSONDecodeError as e:
        return None, f"malformed JSON at column {e.colno}: {e.msg}; expected one JSON object per line"
    except _TooManyDigits:
        return None, _HUGE_INT
    except RecursionError:
        return None, "JSON nested too deeply; expected one JSON object per line"
    except ValueError as e:  # any other value the parser cannot convert: this line alone is rejected
        return None, f"unreadable JSON value ({type(e).__name__}); expected one JSON object per line"


def read_jsonl(stream: IO[bytes], name: str, opts: InputOptions, pos: Position) -> Iterator[Record | Rejected]:
    any_line = False
    for lineno, raw in enumerate(stream, start=1):
        pos.line = lineno
        if not raw.strip():
            continue
        any_line = True
        digest = sha256(raw.rstrip(b"\r\n"))
        text, problem = decode(raw, opts)
        if text is None:
            yield Rejected(name, lineno, None, problem or "undecodable", digest)
            continue
        obj, problem = _parse(text)
        if problem is not None:
            yield Rejected(name, lineno, None, problem, digest)
            continue
        if not isinstance(obj, dict):
            yield Rejected(name, lineno, None, f"expected a JSON object, got {type(obj).__name__}", digest)
            continue
        yield record_from_object(obj, name, lineno, digest, opts)
    if not any_line:
        yield Rejected(name, None, None, "empty file: no records", sha256(b""))


def read_json_object(stream: IO[bytes], name: str, opts: InputOptions) -> Record | Rejected:
    """A `.json` file holding one object over several lines: one record."""
    data = stream.read(opts.max_record_chars * 4 + 1)
    digest = sha256(data)
    if len(data) > opts.max_record_chars * 4:
        return Rejected(name, None, None, f"JSON document longer than input.max_record_chars "
                        f"({opts.max_record_chars})", digest)
    text, problem = decode(data, opts)
    if text is None:
        return Rejected(name, None, None, problem or "undecodable", digest)
    obj, problem = _parse(text)
    if problem is not None:
        return Rejected(name, None, None, problem.replace("one JSON object per line", "one JSON object, an array "
                                                          "of objects or one object per line"), digest)
    if not isinstance(obj, dict):
        return Rejected(name, None, None, f"expected a JSON object, got {type(obj).__name__}", digest)
    return record_from_object(obj, name, 1, digest, opts, default_id=name)


# -- JSON arrays ------------------------------------------------------------------------------------------
_CHUNK = 1 << 16
_WS = re.compile(r"[ \t\n\r]*")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape


class _Buffer:
    """Decoded text read ahead from the stream, with the line number of the read position."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self.text = ""
        self.at = 0
        self.line = 1
        self.eof = False
        self.first = True

    def more(self, hint: int = _CHUNK) -> bool:
        if self.eof:
            return False
        data = self.stream.read(max(hint, _CHUNK))
        if self.first and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        self.first = False
        if not data:
            self.eof = True
            self.text += self.decoder.decode(b"", final=True)
            return False
        if self.at > _CHUNK:  # drop what was consumed, now and then, so the buffer stays small
            self.text = self.text[self.at:]
            self.at = 0
        self.text += self.decoder.decode(data)
        return True

    def advance(self, to: int) -> None:
        self.line += self.text.count("\n", self.at, to)
        self.at = to

    def skip_ws(self) -> str:
        """The next non-blank character ('' at the end of the stream), not consumed."""
        while True:
            m = _WS.match(self.text, self.at)
            assert m is not None
            self.advance(m.end())
            if self.at < len(self.text):
                return self.text[self.at]
            if not self.more():
                return ""


def read_json_array(stream: IO[bytes], name: str, opts: InputOptions,
                    pos: Position) -> Iterator[Record | Rejected]:
    """A `.json` file holding a list of records, read element by element (never the whole file at once)."""
    buf = _Buffer(stream)
    if buf.skip_ws() != "[":
        yield Rejected(name, buf.line, None, "expected a JSON array of objects or one JSON object per line")
        return
    buf.advance(buf.at + 1)
    index = 0
    while True:
        pos.line = buf.line
        c = buf.skip_ws()
        if c == "]":
            buf.advance(buf.at + 1)
            break
        if index > 0:
            if c != ",":
                yield _broken(name, buf.line, index, "expected ',' or ']' between array elements")
                return
            buf.advance(buf.at + 1)
            c = buf.skip_ws()
        if c == "":
            yield _broken(name, buf.line, index, "the array ends before its closing ']'")
            return
        line = buf.line
        got = _element(buf, opts)
        if isinstance(got, str):
            yield _broken(name, line, index, got)
            return
        obj, raw, problem = got
        digest = sha256(raw.encode("utf-8", "surrogateescape"))
        pos.line = line
        if problem is None and _UNDECODABLE.search(raw):
            if opts.encoding_errors != "replace":
                problem = ("invalid UTF-8 (latin-1 or binary?); set input.encoding_errors: replace in the policy "
                           "to decode with replacement characters")
            else:
                obj, _ = _parse(_UNDECODABLE.sub("\ufffd", raw))
        where = f"[{index}]"
        if problem is not None:
            yield Rejected(name, line, where, problem, digest)
        elif not isinstance(obj, dict):
            yield Rejected(name, line, where, f"expected a JSON object, got {type(obj).__name__}", digest)
        else:
            got_record = record_from_object(obj, name, line, digest, opts, default_id=f"{name}#{index + 1}")
            if isinstance(got_record, Rejected):  # several elements can share a line: the field names the element
                got_record = dataclasses.replace(got_record, field=where + ("." + got_record.field
                                                                            if got_record.field else ""))
            yield got_record
        index += 1
    if buf.skip_ws() != "":
        yield Rejected(name, buf.line, None, "content after the array's closing ']'; expected the end of the file")
    if index == 0:
        yield Rejected(name, None, None, "empty file: the array holds no records", sha256(b"[]"))


def _element(buf: _Buffer, opts: InputOptions) -> tuple[Any, str, str | None] | str:
    """(object, raw text, problem) of the element at the read position, or why the array cannot be read on."""
    want = _CHUNK
    while True:
        try:
            try:
                obj, end = _DECODER.raw_decode(buf.text, buf.at)
                problem = None
            except _TooManyDigits:
                obj, end = _SKIPPER.raw_decode(buf.text, buf.at)
                problem = _HUGE_INT
        except RecursionError:
            return "JSON nested too deeply"
        except json.JSONDecodeError as e:
            if buf.more(want):
                want *= 2  # read ahead in growing steps, so a long element costs linear time
                if len(buf.text) - buf.at > opts.max_record_chars * 4 + _CHUNK:
                    return f"array element longer than input.max_record_chars ({opts.max_record_chars})"
                continue
            return f"malformed JSON: {e.msg}"
        # A number or literal that touches the end of what was read may go on in the next chunk.
        if end >= len(buf.text) and buf.more(want):
            continue
        raw = buf.text[buf.at:end]
        buf.advance(end)
        return obj, raw, problem


def _broken(name: str, line: int, index: int, why: str) -> Rejected:
    return Rejected(name, line, f"[{index}]", f"{why}; the rest of the array from element {index + 1} cannot be "
                    "read")


# -- JSON object → record ---------------------------------------------------------------------------------
def record_from_object(obj: dict[str, Any], name: str, lineno: int | None, digest: str, opts: InputOptions, *,
                       default_id: str | None = None) -> Record | Rejected:
    rid = obj.get(opts.id_field)
    if rid is not None and not isinstance(rid, str | int):
        return Rejected(name, lineno, opts.id_field, "id must be a string or integer", digest)
    record_id = str(rid) if rid is not None and str(rid) != "" else (default_id or f"{name}:{lineno}")
    metadata: dict[str, Any] = {}
    segments: list[Segment] = []
    kind: str
    if opts.messages_field in obj:
        msgs = obj[opts.messages_field]
        if not isinstance(msgs, list) or not msgs:
            return Rejected(name, lineno, opts.messages_field, "expected a non-empty list of messages", digest)
        for i, m in enumerate(msgs):
            where = f"{opts.messages_field}[{i}]"
            if not isinstance(m, dict):
                return Rejected(name, lineno, where, "expected an object with role and content", digest)
            if not isinstance(m.get("role"), str) or not m["role"]:
                return Rejected(name, lineno, f"{where}.role", "missing or non-string role", digest)
            if not isinstance(m.get("content"), str):
                return Rejected(name, lineno, f"{where}.content", "missing or non-string content", digest)
            segments.append(Segment(f"{where}.content", m["content"], m["role"]))
        kind = "chat"
    elif opts.text_field in obj:
        t = obj[opts.text_field]
        if not isinstance(t, str):
            return Rejected(name, lineno, opts.text_field, f"expected a string, got {type(t).__name__}", digest)
        if not t.strip():
            return Rejected(name, lineno, opts.text_field, "empty text", digest)
        segments.append(Segment(opts.text_field, t))
        kind = "text"
    else:
        return Rejected(name, lineno, opts.text_field,
                        f"missing text field {opts.text_field!r} (or {opts.messages_field!r} for chat); "
                        "choose another with --text-field", digest)
    for k, v in obj.items():
        if k in (opts.text_field, opts.messages_field, opts.id_field):
            continue
        if isinstance(v, str) and k not in opts.passthrough:
            # Other string fields may hold PII too (a `customer_email` field): scan them like text.
            if v.strip():
                segments.append(Segment(k, v))
        elif v is None or isinstance(v, bool | int | float | str):
            metadata[k] = v
        # nested values other than messages are not carried to any output (data minimisation)
    if not any(s.text.strip() for s in segments):
        return Rejected(name, lineno, opts.messages_field if kind == "chat" else opts.text_field,
                        "empty record: no text to process", digest)
    for s in segments:
        if has_surrogate(s.text):
            # A JSON escape like "\\ud800" decodes to half a UTF-16 pair, which no output file can encode.
            if opts.encoding_errors != "replace":
                return Rejected(name, lineno, s.key, "unpaired UTF-16 surrogate escape; expected valid Unicode text "
                                "(or set input.encoding_errors: replace)", digest)
            s.text = _SURROGATE.sub("\ufffd", s.text)
    if sum(len(s.text) for s in segments) > opts.max_record_chars:
        return Rejected(name, lineno, None, f"record longer than input.max_record_chars ({opts.max_record_chars})",
                        digest)
    return Record(record_id, name, kind, segments, metadata, lineno, digest)  # type: ignore[arg-type]


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None
