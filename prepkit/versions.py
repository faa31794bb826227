"""What a run's outputs depend on besides the policy, the input and the key: the software that shapes them.

The per-record result cache and the run-level up-to-date check are both keyed on `output_versions()`, and the
audit log records it, so an upgrade of anything listed here recomputes every record instead of replaying
results the new software would not produce (Faker drawing other surrogates, say, which would break "the same
surrogate in every run" between cached and fresh records).

Versions come from package metadata, not from importing Presidio and spaCy (about a second), which a fully
cached re-run never needs. Operators add their own part through `Operator.fingerprint()` (their packages'
versions, and whatever else changes their output), so a new operator cannot be left out of the key.
"""

from __future__ import annotations

import importlib.util
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from prepkit import __version__
from prepkit.model_ref import model_id as transformers_model_id

# Distributions whose behaviour shapes findings, surrogates, verification or routing, by the key they are
# recorded under (the first three keys predate this table: audit logs and caches already use them).
SHAPING = {
    "presidio": "presidio-analyzer",  # recognizers, scores, context enhancement
    "presidio_anonymizer": "presidio-anonymizer",  # operators built on it
    "spacy": "spacy",  # tokenization and NER
    "thinc": "thinc",  # the NER model's numerics
    "faker": "faker",  # synthesized surrogates
    "phonenumbers": "phonenumbers",  # Presidio's phone recognizer
    "tldextract": "tldextract",  # Presidio's e-mail and URL recognizers
    "regex": "regex",  # the engine's regex flavour (policy patterns, safe_regex)
}


# prepkit's own detection, by revision: bumped whenever a change alters what detection finds (bench/EVAL.md is
# regenerated then), so a cache filled by the earlier detection is recomputed rather than replayed.
DETECTION_REVISION = "2026-11-30.ner-labels"


def dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def output_versions(spacy_model: str) -> dict[str, str]:
    """Everything outside the policy and the input that shapes a record's outputs, as name -> version."""
    from prepkit.transform.catalog import fingerprints  # loading a policy imported it already

    out = {"prepkit": __version__, "detection": DETECTION_REVISION}
    out.update({key: dist_version(dist) for key, dist in SHAPING.items()})
    out["spacy_model"] = transformers_model_id(spacy_model) or model_id(spacy_model)
    ops = fingerprints()
    out["operators"] = json.dumps({k: v for k, v in ops.items() if v}, sort_keys=True, separators=(",", ":"))
    return out


def model_id(name: str) -> str:
    """`<meta name>-<meta version>` of an installed spaCy pipeline package or directory (what spacy.info reads)."""
    try:
        spec = importlib.util.find_spec(name) if name.isidentifier() else None
    except (ImportError, ValueError):  # a name that is not an installed package: a directory, or nothing
        spec = None
    dirs = list(spec.submodule_search_locations or []) if spec is not None else [name]
    for d in dirs:
        try:
            meta = json.loads((Path(d) / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            return f"{meta.get('name', name)}-{meta.get('version', '')}"
    return name
