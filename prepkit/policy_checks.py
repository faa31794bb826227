"""Load-time checks beyond the schema: names that must exist and patterns that must compile.

These are errors: a policy that fails them does not load, because each one silently weakens protection (a
misspelled entity type is never detected, a misspelled recognizer is never disabled, a broken regex finds
nothing). Softer findings (a rule that can never fire, a risky regex) are warnings in `prepkit.review.lint`.

The vocabulary of entity types comes from what can really detect them: Presidio's predefined recognizers for the
policy's language, prepkit's builtin recognizers, and the policy's own YAML recognizers.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from prepkit.nlp_stack import import_nlp_stack
from prepkit.policy.catalog import register_check
from prepkit.policy.load import LoadedPolicy, did_you_mean
from prepkit.policy.model import Policy

Issue = tuple[tuple[Any, ...], str]

# Pseudo entity types with a meaning of their own in a policy.
DEFAULT_ACTION = "DEFAULT"  # actions: the action for every type not listed
ANY_ENTITY = "ANY"  # routing entity_count_at_least: findings of any type


@lru_cache(maxsize=8)
def _presidio_instances(language: str) -> tuple[Any, ...]:
    import_nlp_stack()
    from presidio_analyzer.recognizer_registry import RecognizerRegistry

    registry = RecognizerRegistry(supported_languages=[language])
    registry.load_predefined_recognizers(languages=[language])
    return tuple(registry.recognizers)


@lru_cache(maxsize=8)
def _builtin_instances(language: str) -> tuple[Any, ...]:
    import_nlp_stack()
    from prepkit.detect.recognizers import builtin_recognizers as make

    return tuple(make(language))


# Which recognizer reports which entity types, recorded for the installed Presidio version: loading a policy
# then needs no Presidio or spaCy import (about a second per command). Any other version or language asks the
# live registries. tests/test_recognizer_table.py fails when the table and the registries disagree, and
# rewrites it with --regen-golden.
TABLE_PATH = Path(__file__).parent / "policy" / "recognizer_table.json"
TABLE_LANGUAGES = ("en",)


def presidio_version() -> str:
    from importlib.metadata import version

    return version("presidio-analyzer")


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    try:
        data = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("presidio") == presidio_version() else {}


def live_table() -> dict[str, Any]:
    """The table as the registries give it now (what TABLE_PATH should hold)."""
    return {"presidio": presidio_version(),
            "languages": {lang: {"presidio": _live(_presidio_instances(lang)),
                                 "builtin": _live(_builtin_instances(lang))} for lang in TABLE_LANGUAGES},
            "builtin_descriptions": _live_descriptions()}


def _live(instances: tuple[Any, ...]) -> dict[str, list[str]]:
    return {str(r.name): list(r.supported_entities) for r in instances}


def _recorded(language: str, kind: str) -> dict[str, tuple[str, ...]] | None:
    entry = _table().get("languages", {}).get(language, {}).get(kind)
    return {k: tuple(v) for k, v in entry.items()} if isinstance(entry, dict) else None


def presidio_recognizers(language: str) -> dict[str, tuple[str, ...]]:
    """Presidio's predefined recognizers for `language`: recognizer name -> the entity types it reports."""
    recorded = _recorded(language, "presidio")
    if recorded is not None:
        return recorded
    return {k: tuple(v) for k, v in _live(_presidio_instances(language)).items()}


def builtin_recognizers(language: str) -> dict[str, tuple[str, ...]]:
    """prepkit's own recognizers for `language`."""
    recorded = _recorded(language, "builtin")
    if recorded is not None:
        return recorded
    return {k: tuple(v) for k, v in _live(_builtin_instances(language)).items()}


# Presidio's context enhancer (LemmaContextAwareEnhancer defaults): a context word near a match raises its score
# by this much, to at least the floor.
CONTEXT_BOOST = 0.35
CONTEXT_FLOOR = 0.4


def with_context(score: float, has_context: bool) -> float:
    return min(1.0, max(score + CONTEXT_BOOST, CONTEXT_FLOOR)) if has_context else score


def _max_score(r: Any) -> float:
    """The highest score a recognizer instance can give; 1.0 when it cannot be told (checksums, custom code)."""
    import_nlp_stack()
    from presidio_analyzer import PatternRecognizer

    if getattr(r, "ner_strength", None) is not None:  # spaCy NER: one fixed score, no context words
        return float(r.ner_strength)
    base: float | None = None
    if isinstance(r, PatternRecognizer):
        if type(r).validate_result is not PatternRecognizer.validate_result:
            return 1.0  # a passing checksum raises the score to the maximum
        scores = [p.score for p in getattr(r, "patterns", None) or []]
        if getattr(r, "deny_list", None):
            scores.append(float(getattr(r, "deny_list_score", 1.0)))
        base = max(scores, default=1.0)
    elif getattr(r, "rules", None):  # prepkit's RegexRecognizer
        base = max(float(rule.score) for rule in r.rules)
    if base is None:
        return 1.0
    return with_context(base, bool(r.context))


def max_scores(policy: Policy) -> dict[str, float]:
    """Per entity type, the best score any active recognizer can give (before `disabled_recognizers`)."""
    det = policy.detection
    disabled = set(det.disabled_recognizers)
    out: dict[str, float] = {}
    instances = list(_presidio_instances(det.language))
    if det.builtin_recognizers:
        instances += _builtin_instances(det.language)
    for r in instances:
        if str(r.name) in disabled:
            continue
        for e in r.supported_entities:
            out[e] = max(out.get(e, 0.0), _max_score(r))
    for spec in det.recognizers:
        if spec.name in disabled:
            continue
        base = max([p.score for p in spec.patterns] + ([spec.deny_list_score] if spec.deny_list else []))
        out[spec.entity_type] = max(out.get(spec.entity_type, 0.0), with_context(base, bool(spec.context)))
    return out


def builtin_descriptions() -> dict[str, str]:
    recorded = _table().get("builtin_descriptions")
    if isinstance(recorded, dict):
        return dict(recorded)
    return _live_descriptions()


def _live_descriptions() -> dict[str, str]:
    import_nlp_stack()
    from prepkit.detect.recognizers import BUILTIN_ENTITIES

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
    """Whether the pattern compiles in the engine's own regex flavour (flags do not change that)."""
    from prepkit.safe_regex import compile_error

    return compile_error(pattern)


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
    for i, e in enumerate(det.corpus_recall.entity_types):
        if e not in known:
            out.append((("detection", "corpus_recall", "entity_types", i), _unknown(e, known)))
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
