"""Model names that are not spaCy packages (`transformers:PATH`), readable without importing spaCy or torch: the
runner fingerprints the model for its cache keys before it knows whether anything needs detecting."""

from __future__ import annotations

import hashlib
from pathlib import Path

from prepkit.errors import PrepkitError

TRANSFORMERS_PREFIX = "transformers:"


class ModelNotInstalled(PrepkitError):
    pass


def is_transformers(name: str) -> bool:
    return name.startswith(TRANSFORMERS_PREFIX)


def transformers_dir(name: str) -> Path:
    raw = name[len(TRANSFORMERS_PREFIX):]
    if not raw:
        raise ModelNotInstalled("transformers: needs a model directory, as in transformers:/models/my-ner")
    path = Path(raw).expanduser()
    if not (path / "config.json").is_file():
        raise ModelNotInstalled(f"{raw}: not a local token-classification model directory (no config.json); "
                                "prepkit never downloads models")
    return path


def transformers_fingerprint(path: Path) -> str:
    """Short hash of the directory's configuration and weights (names, sizes, mtimes): cache keys and the audit
    log change when the model does, without reading gigabytes."""
    h = hashlib.sha256()
    for p in sorted(q for q in path.iterdir() if q.is_file()):
        st = p.stat()
        h.update(f"{p.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        if p.name == "config.json":
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def model_id(name: str) -> str | None:
    """`transformers-<fingerprint>` for a transformers: model, None for a spaCy model (the runner reads its meta)."""
    if not is_transformers(name):
        return None
    try:
        return f"transformers-{transformers_fingerprint(transformers_dir(name))}"
    except (ModelNotInstalled, OSError):
        return "transformers-missing"
