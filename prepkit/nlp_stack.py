"""Importing spaCy and Presidio without paying for torch and transformers.

`import presidio_analyzer` imports transformers and torch whenever they are installed (its optional Hugging Face
engine and recognizer try them at import time), and thinc, under spaCy, imports torch the same way. With both
installed that is about 6 CPU-seconds per process, for code prepkit never calls: its spaCy models are CNNs and its
own `transformers:PATH` detector imports torch itself when a policy asks for it (detect/models.py). A run pays it in
the driver, the fork server and every worker, so on a small corpus it was a third of the whole run.

So the processes prepkit owns (the `prepkit` command and the workers it starts, which inherit the environment)
import the NLP stack with torch and transformers hidden, then unhide them: a later `import torch` imports it as
usual. Only presidio's Hugging Face classes and thinc's torch layers see them missing, and prepkit uses neither.
A program that imports prepkit as a library keeps its imports as they are (it may use torch models in spaCy),
unless it sets PREPKIT_DEFER_TORCH=1 itself.
"""

from __future__ import annotations

import importlib
import os
import sys

ENV = "PREPKIT_DEFER_TORCH"
_HIDDEN = ("torch", "transformers")


def defer_torch_in_this_process() -> None:
    """Called by the CLI before any command runs; the workers it starts inherit the setting."""
    os.environ.setdefault(ENV, "1")


def import_nlp_stack() -> None:
    """Import spaCy, thinc and Presidio now, without torch/transformers when this process asked for it."""
    if os.environ.get(ENV) != "1" or any(m in sys.modules for m in (*_HIDDEN, "thinc", "presidio_analyzer")):
        return  # not asked for, or too late to matter: whatever is imported already stays as it is
    for name in _HIDDEN:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        for name in ("thinc.api", "spacy", "presidio_analyzer", "presidio_anonymizer"):
            importlib.import_module(name)
    finally:
        for name in _HIDDEN:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
