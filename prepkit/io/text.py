"""Plain text and Markdown files: one record per file, with Markdown front matter as metadata."""

from __future__ import annotations

from typing import IO, Any

from prepkit.io.common import InputOptions, decode, sha256
from prepkit.records import Record, Rejected, Segment


def read_text(stream: IO[bytes], name: str, opts: InputOptions) -> Record | Rejected:
    data = stream.read()
    digest = sha256(data)
    text, problem = decode(data, opts)
    if text is None:
        return Rejected(name, None, None, problem or "undecodable", digest)
    if not text.strip():
        return Rejected(name, None, None, "empty file", digest)
    if len(text) > opts.max_record_chars:
        return Rejected(name, None, None, f"file longer than input.max_record_chars ({opts.max_record_chars})",
                        digest)
    metadata: dict[str, Any] = {"doc_type": "document"}
    text = front_matter(text, metadata)
    return Record(name, name, "text", [Segment("text", text)], metadata, None, digest)


def front_matter(text: str, metadata: dict[str, Any]) -> str:
    """Markdown front matter (`---` YAML `---`) gives document metadata such as doc_type and updated.

    Read with the policy loader's limits: front matter nested thousands deep made the YAML composer recurse until
    the whole file was rejected. Front matter that is not readable YAML, goes past the limits or gives a key twice
    (routing reads doc_type: the last of two is a guess) is no metadata; it stays part of the text, which is
    detected like the rest."""
    if not text.startswith("---\n"):
        return text
    end = text.find("\n---\n", 4)
    if end == -1:
        return text
    import yaml

    from prepkit.policy.safe_yaml import YamlLimitError, load_guarded

    try:
        _, meta, duplicates = load_guarded(text[4:end])
    except (yaml.YAMLError, YamlLimitError):
        return text
    if duplicates or not isinstance(meta, dict):
        return text
    for k, v in meta.items():
        if isinstance(v, str | int | float | bool) or v is None:
            metadata[str(k)] = v
        elif hasattr(v, "isoformat"):
            metadata[str(k)] = v.isoformat()
    return text[end + 5:]
