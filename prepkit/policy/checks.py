"""Load-time checks beyond the schema: names that must exist and patterns that must compile.

These are errors: a policy that fails them does not load, because each one silently weakens protection (a
misspelled entity type is never detected, a misspelled recognizer is never disabled, a broken regex finds
nothing). Softer findings (a rule that can never fire, a risky regex) are warnings in `prepkit.policy.lint`.

The vocabulary of entity types comes from what can really detect them: Presidio's predefined recognizers for the
policy's language, prepkit's builtin recognizers, and the policy's own YAML recognizers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from prepkit.policy.load import LoadedPolicy, did_you_mean, register_check
from prepkit.policy.model import Policy

Issue = tuple[tuple[Any, ...], str]

# Pseudo entity types with a meaning of their own in a policy.
DEFAULT_ACTION = "DEFAULT"  # actions: the action for every type not listed
ANY_ENTITY = "ANY"  # routing entity_count_at_least: findings of any type


@lru_cache(maxsize=8)
def presidio_recognizers(language: str) -> dict[str, tuple[str, ...]]:
    """Presidio's predefined recognizers for `language`: recognizer name -> the entity types it reports."""
    from presidio_analyzer.recognizer_registry import RecognizerRegistry

    registry = RecognizerRegistry(supported_languages=[language])
    registry.load_predefined_recognizers(languages=[language])
    return {str(r.name): tuple(r.supported_entities) for r in registry.recognizers}  # type: ignore[has-type]


@lru_cache(maxsize=8)
def builtin_recognizers(language: str) -> dict[str, tuple[str, ...]]:
    """prepkit's own recognizers for `language` (empty while the detection package does not provide them)."""
    try:
        from prepkit.detect.recognizers import builtin_recognizers as make
    except ImportError:
        return {}
    return {str(r.name): tuple(r.supported_entities) for r in make(language)}  # type: ignore[has-type]


def builtin_descriptions() -> dict[str, str]:
    try:
        from prepkit.detect.recognizers import BUILTIN_ENTITIES
    except ImportError:
        return {}
    return dict(BUILTIN_ENTITIES)


def recognizers(policy: Policy) -> dict[str, tuple[str, ...]]:
    """Every recognizer this policy could run (before `disabled_recognizers`): name -> entity types."""
    det = policy.detection
    out = dict(presidio_recognizers(det.language))
    if det.builtin_recognizers:
        out.update(builtin_recognizers(det.language))
    for spec in det.recognizers:
        out[spec.name] = (spec.entity_type,)
    return out


def active_recognizers(policy: Policy) -> dict[str, tuple[str, ...]]:
    disabled = set(policy.detection.disabled_recognizers)
    return {k: v for k, v in recognizers(policy).items() if k not in disabled}


def known_entities(policy: Policy) -> set[str]:
    """Entity types some recognizer can report: Presidio's, prepkit's builtin ones (always known, so turning
    the builtins off yields a clearer "no recognizer" message than "unknown"), and the policy's own."""
    det = policy.detection
    names = {e for ents in presidio_recognizers(det.language).values() for e in ents}
    names |= {e for ents in builtin_recognizers(det.language).values() for e in ents}
    names |= set(builtin_descriptions())
    names |= {spec.entity_type for spec in det.recognizers}
    return names


def _unknown(name: str, known: set[str], what: str = "entity type") -> str:
    hint = did_you_mean(name, sorted(known))
    if not hint:  # "EMAIL" for EMAIL_ADDRESS: difflib misses short stems of long names
        stems = sorted(k for k in known if name.upper() in k.split("_") or k.startswith(name.upper()))
        hint = f" (did you mean {stems[0]!r}?)" if len(stems) == 1 else ""
    if not hint:
        hint = "; define a recognizer for it under detection.recognizers or see `prepkit policy show` for known types"
    return f"unknown {what} {name!r}{hint}"


def regex_error(pattern: str, ignore_case: bool = False) -> str | None:
    try:  # the engine's own regex flavour when the safe-regex layer is present
        from prepkit.safe_regex import compile_error
    except ImportError:
        compile_error = None  # type: ignore[assignment]
    if compile_error is not None:
        return compile_error(pattern)
    try:
        re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as e:
        where = f" at position {e.pos}" if e.pos is not None else ""
        return f"regex does not compile: {e.msg}{where}"
    return None


@register_check
def check_names(policy: Policy, loaded: LoadedPolicy) -> list[Issue]:
    det = policy.detection
    known = known_entities(policy)
    out: list[Issue] = []
    for i, e in enumerate(det.entities):
        if e not in known:
            out.append((("detection", "entities", i), _unknown(e, known)))
    for e in det.thresholds:
        if e not in known:
            out.append((("detection", "thresholds", e), _unknown(e, known)))
    for e in policy.actions:
        if e != DEFAULT_ACTION and e not in known:
            out.append((("actions", e), _unknown(e, known | {DEFAULT_ACTION})))
    for ri, rule in enumerate(policy.routing.rules):
        w = rule.when
        for field in ("any_entity", "all_entities"):
            for j, e in enumerate(getattr(w, field) or []):
                if e not in known:
                    out.append((("routing", "rules", ri, "when", field, j), _unknown(e, known)))
        for e in w.entity_count_at_least or {}:
            if e != ANY_ENTITY and e not in known:
                out.append((("routing", "rules", ri, "when", "entity_count_at_least", e),
                            _unknown(e, known | {ANY_ENTITY})))
    return out


@register_check
def check_recognizers(policy: Policy, loaded: LoadedPolicy) -> list[Issue]:
    det = policy.detection
    out: list[Issue] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(det.recognizers):
        if spec.name in seen:
            out.append((("detection", "recognizers", i, "name"),
                        f"duplicate recognizer name {spec.name!r} (also recognizers[{seen[spec.name]}])"))
        seen.setdefault(spec.name, i)
        for j, pat in enumerate(spec.patterns):
            err = regex_error(pat.regex, spec.ignore_case)
            if err:
                out.append((("detection", "recognizers", i, "patterns", j, "regex"), err))
        for j, term in enumerate(spec.deny_list):
            if not term.strip():
                out.append((("detection", "recognizers", i, "deny_list", j), "empty deny-list term would match "
                            "nothing useful"))
    names = recognizers(policy)
    for i, name in enumerate(det.disabled_recognizers):
        if name not in names:
            out.append((("detection", "disabled_recognizers", i), _unknown(name, set(names), "recognizer")))
    return out


@register_check
def check_routing_and_outputs(policy: Policy, loaded: LoadedPolicy) -> list[Issue]:
    out: list[Issue] = []
    seen: dict[str, int] = {}
    for i, rule in enumerate(policy.routing.rules):
        if rule.name in seen:
            # The audit log names the rule that decided; two rules with one name make that ambiguous.
            out.append((("routing", "rules", i, "name"),
                        f"duplicate rule name {rule.name!r} (also rules[{seen[rule.name]}])"))
        seen.setdefault(rule.name, i)
    split = policy.outputs.finetune.split
    if split.validation + split.test >= 1.0:
        out.append((("outputs", "finetune", "split"),
                    f"validation ({split.validation}) + test ({split.test}) leave nothing for training"))
    rag = policy.outputs.rag
    if rag.chunk_overlap >= rag.chunk_size:
        out.append((("outputs", "rag", "chunk_overlap"),
                    f"must be smaller than chunk_size ({rag.chunk_size}), got {rag.chunk_overlap}"))
    return out
