"""Detection. `Detector` and `build_analyzer` import spaCy and Presidio (seconds), so they load on first use:
the light modules here (corpus recall's dictionary, the lexicon) are imported by runs that never detect.
Code outside this package reaches spaCy and Presidio through those two names (or calls `import_nlp_stack` first),
so the CLI's processes import them without torch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prepkit.nlp_stack import import_nlp_stack

if TYPE_CHECKING:
    from prepkit.detect.engine import Detector, build_analyzer
    from prepkit.model_ref import ModelNotInstalled

__all__ = ["Detector", "ModelNotInstalled", "build_analyzer"]


def __getattr__(name: str) -> Any:
    if name in ("Detector", "build_analyzer"):
        import_nlp_stack()  # in a process the CLI started: without torch and transformers (nlp_stack says why)
        from prepkit.detect import engine

        return getattr(engine, name)
    if name == "ModelNotInstalled":
        from prepkit.model_ref import ModelNotInstalled

        return ModelNotInstalled
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
