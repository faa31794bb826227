"""`prepkit policy lint`: every problem of a policy at once — the load errors plus warnings about things that load
but do not do what the author meant (a routing rule that can never fire, a regex that can hang a run, an action
for a type that is never detected).

Each problem reads `file:line: field.path: message`; warnings start their message with "warning: ".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from prepkit.entities import CORE_TYPES
from prepkit.policy.load import PolicyError, PolicyRefused, dotted, load_policy
from prepkit.policy.model import Policy, When
from prepkit.policy_checks import (
    ANY_ENTITY,
    DEFAULT_ACTION,
    active_recognizers,
    builtin_recognizers,
    max_scores,
    recognizers,
    with_context,
)
from prepkit.review.show import join_words, route_for
from prepkit.transform.catalog import carries_value

Severity = Literal["error", "warning"]



@dataclass(frozen=True, slots=True)
class LintProblem:
    file: str
    line: int
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.path}: {prefix}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message,
                "severity": self.severity}


def lint_file(path: str | Path) -> list[LintProblem]:
    """Errors and warnings together, in one pass: schema errors, unknown names, and the warnings of whatever
    could still be read."""
    errors: list[LintProblem] = []
    try:
        loaded = load_policy(path)
    except PolicyRefused:
        raise  # not a policy problem to list but a file refused outright: the CLI exits 2
    except PolicyError as e:
        errors = [LintProblem(p.file, p.line, p.path, p.message) for p in e.problems]
        if e.partial is None:
            return sorted(errors, key=lambda p: p.line)
        loaded = e.partial
    taken = {p.path for p in errors}
    found = [LintProblem(loaded.path, loaded.line_of(loc), dotted(loc), msg, "warning")
             for loc, msg in warnings(loaded.policy) if dotted(loc) not in taken]
    return sorted(errors + found, key=lambda p: p.line)


def warnings(policy: Policy) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    out += _detection_warnings(policy)
    out += _action_warnings(policy)
    out += _routing_warnings(policy)
    out += finetune_leaks(policy)
    return out


# --------------------------------------------------------------------------------------------------- fine-tuning
# Text routed to fine-tuning ends up in model weights, where it cannot be taken back: a core identifier must be
# found there, and replaced by something that no longer carries it.
_SURE = 0.95  # a threshold this high lets through everything a recognizer is not certain of


def finetune_leaks(policy: Policy) -> list[tuple[tuple[Any, ...], str]]:
    det = policy.detection
    feeds = [f"rule {r.name!r}" for r in policy.routing.rules if r.route == "finetune"]
    if policy.routing.default.route == "finetune":
        feeds.append("the default route")
    if not feeds:
        return []
    via = f"records can reach finetune ({join_words(feeds, 'and')})"
    out: list[tuple[tuple[Any, ...], str]] = []
    core = [t for t in CORE_TYPES if t in det.entities]
    missing = [t for t in CORE_TYPES if t not in det.entities]
    if missing:
        out.append((("detection", "entities"), f"{join_words(missing, 'and')} {'is' if len(missing) == 1 else 'are'} "
                    f"not detected, yet {via}: such values would be trained into the model unchanged"))
    every = recognizers(policy)
    for i, name in enumerate(det.disabled_recognizers):
        lost = [t for t in every.get(name, ()) if t in core]
        if lost:
            out.append((("detection", "disabled_recognizers", i), f"turning off {name} stops it finding "
                        f"{join_words(lost, 'and')}, yet {via}: what only it finds is trained into the model"))
    if not det.builtin_recognizers:
        lost = sorted({t for ents in builtin_recognizers(det.language).values() for t in ents if t in core})
        if lost:
            out.append((("detection", "builtin_recognizers"), f"prepkit's builtin recognizers are off, so fewer "
                        f"{join_words(lost, 'and')} values are found, yet {via}"))
    strict: dict[tuple[Any, ...], list[str]] = {}
    for e in core:
        if det.threshold(e) >= _SURE:
            where: tuple[Any, ...] = ("detection", "thresholds", e) if e in det.thresholds else (
                "detection", "default_threshold")
            strict.setdefault(where, []).append(e)
    for where, types in strict.items():
        t = det.threshold(types[0])
        out.append((where, f"a threshold of {t} counts only findings scored {t} or more, so most "
                    f"{join_words(types, 'and')} values pass undetected, yet {via}"))
    for e in core:
        action = policy.action_for(e)
        why = carries_value(action.operator, action.params, e)
        if why and route_for(policy, e)["route"] == "finetune":
            key = e if e in policy.actions else DEFAULT_ACTION
            out.append((("actions", key), f"a record holding {e} goes to finetune, and operator {action.operator} "
                        f"{why}: the value can still be read from the training data"))
    return out


# --------------------------------------------------------------------------------------------------- detection
def _detection_warnings(policy: Policy) -> list[tuple[tuple[Any, ...], str]]:
    det = policy.detection
    out: list[tuple[tuple[Any, ...], str]] = []
    detected = set(det.entities)
    active = active_recognizers(policy)
    reported = {e for ents in active.values() for e in ents}
    for i, e in enumerate(det.entities):
        if e not in reported:
            why = " (prepkit's builtin recognizers are turned off)" if not det.builtin_recognizers else ""
            out.append((("detection", "entities", i), f"no active recognizer reports {e}{why}; it is never found"))
    best = max_scores(policy)
    for e in det.entities:
        if e in reported and best.get(e, 1.0) < det.threshold(e):
            where: tuple[Any, ...] = ("detection", "thresholds", e) if e in det.thresholds else (
                "detection", "default_threshold")
            out.append((where, f"no active recognizer scores {e} above {best[e]:.2f}, below its threshold "
                        f"{det.threshold(e)}: {e} is never reported"))
    for e in det.thresholds:
        if e not in detected:
            out.append((("detection", "thresholds", e), f"{e} is not in detection.entities; this threshold has no "
                        "effect"))
    for i, spec in enumerate(det.recognizers):
        if spec.entity_type not in detected:
            out.append((("detection", "recognizers", i, "entity_type"),
                        f"{spec.entity_type} is not in detection.entities, so this recognizer's matches are never "
                        "reported"))
        threshold = det.threshold(spec.entity_type)
        for j, pat in enumerate(spec.patterns):
            risk = backtracking_risk(pat.regex)
            if risk:
                out.append((("detection", "recognizers", i, "patterns", j, "regex"), risk))
            reach = with_context(pat.score, bool(spec.context))
            if reach < threshold:
                ctx = " even with a context word" if spec.context else ""
                out.append((("detection", "recognizers", i, "patterns", j, "score"),
                            f"score {pat.score} stays below the {spec.entity_type} threshold {threshold}{ctx}; "
                            "this pattern never reports anything"))
            elif pat.score < threshold:
                out.append((("detection", "recognizers", i, "patterns", j, "score"),
                            f"score {pat.score} is below the {spec.entity_type} threshold {threshold}: matches "
                            "count only next to a context word"))
        if spec.deny_list and spec.deny_list_score < threshold:
            out.append((("detection", "recognizers", i, "deny_list_score"),
                        f"{spec.deny_list_score} is below the {spec.entity_type} threshold {threshold}; "
                        "deny-list terms are never reported"))
        allowed = {a.casefold() for a in det.allow_list}
        for j, term in enumerate(spec.deny_list):
            if term.casefold() in allowed:
                out.append((("detection", "recognizers", i, "deny_list", j),
                            f"{term!r} is also on detection.allow_list, which wins: it is never reported"))
    return out


def backtracking_risk(pattern: str) -> str | None:
    """A warning when the regex nests an unbounded quantifier inside another (`(a+)+`, `(.*)*`, `(\\w+\\s?)*`):
    on a near-miss input the engine tries exponentially many ways to split the text, and one record can stall
    the run. Conservative: flags the shape, not a proof of blow-up."""
    import re._parser as sre

    try:
        parsed = sre.parse(pattern)
    except re.error:
        return None  # reported as an error by the load check
    found = _nested_repeat(list(parsed))
    if found:
        return (f"catastrophic-backtracking risk: the unbounded repeat {found!r} sits inside another repeat; "
                "a near-miss input can make matching take exponential time. Make the inner part match "
                "one way only (e.g. `(?:a+)` → `a+`, or bound it: `{1,20}`)")
    return None


def _nested_repeat(items: list[Any], inside: bool = False) -> str | None:
    """The first repeat (unbounded or long) whose body can be split between iterations in many ways."""
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            _lo, hi, sub = av
            if hi == _maxrepeat() or hi > 10:
                found = _ambiguous(_flatten(list(sub)))
                if found:
                    return found
            found = _nested_repeat(list(sub))
            if found:
                return found
        elif name == "SUBPATTERN":
            found = _nested_repeat(list(av[-1]))
            if found:
                return found
        elif name == "BRANCH":
            for alt in av[1]:
                found = _nested_repeat(list(alt))
                if found:
                    return found
        # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack into their body.
    return None


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for op, av in items:
        if str(op) == "SUBPATTERN":
            out.extend(_flatten(list(av[-1])))
        else:
            out.append((op, av))
    return out


def _ambiguous(body: list[Any]) -> str | None:
    """Inside an outer repeat: an unbounded inner repeat that is the only mandatory part of the body (`(a+)+`,
    `(\\w+\\s?)*`), or a `.*`/`.+` that can swallow whatever the next iteration would match (`(.*,)*`)."""
    for k, (op, av) in enumerate(body):
        if str(op) not in ("MAX_REPEAT", "MIN_REPEAT"):
            continue
        _lo, hi, sub = av
        if hi != _maxrepeat() and hi <= 10:
            continue
        inner = _flatten(list(sub))
        if _min_width(inner) == 0:
            continue
        rest = body[:k] + body[k + 1:]
        if (len(inner) == 1 and str(inner[0][0]) == "ANY") or _min_width(rest) == 0:
            return _describe(inner, hi)
    return None


def _min_width(items: list[Any]) -> int:
    total = 0
    for op, av in items:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "IN", "ANY", "CATEGORY"):
            total += 1
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            total += av[0] * _min_width(list(av[2]))
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            total += _min_width(list(av[-1]))
        elif name == "BRANCH":
            total += min(_min_width(list(alt)) for alt in av[1])
    return total


def _maxrepeat() -> int:
    import re._constants as c

    return int(c.MAXREPEAT)


def _describe(sub: list[Any], hi: int) -> str:
    if len(sub) == 1:
        op, av = sub[0]
        if str(op) == "ANY":
            return ".*"
        if str(op) == "IN":
            return "[...]+"
        if str(op) == "LITERAL":
            return f"{chr(av)}+"
    return "(...)+"


# --------------------------------------------------------------------------------------------------- actions
def _action_warnings(policy: Policy) -> list[tuple[tuple[Any, ...], str]]:
    det = policy.detection
    out: list[tuple[tuple[Any, ...], str]] = []
    detected = set(det.entities)
    for e in policy.actions:
        if e != DEFAULT_ACTION and e not in detected:
            out.append((("actions", e), f"{e} is not in detection.entities; this action never applies"))
    if DEFAULT_ACTION not in policy.actions:
        missing = [e for e in det.entities if e not in policy.actions]
        if missing:
            out.append((("actions",), f"no action and no DEFAULT for {', '.join(missing)}; prepkit falls back to "
                        "redact — state it (`DEFAULT: {operator: redact}`) so a reviewer sees it"))
    return out


# --------------------------------------------------------------------------------------------------- routing
def _routing_warnings(policy: Policy) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    detected = set(policy.detection.entities)
    roles = policy.access.roles
    readable = {label for labels in roles.values() for label in labels}
    rules = policy.routing.rules
    for i, rule in enumerate(rules):
        w = rule.when
        base = ("routing", "rules", i)
        for field in ("any_entity", "all_entities"):
            for j, e in enumerate(getattr(w, field) or []):
                if e not in detected:
                    out.append((base + ("when", field, j), f"{e} is not in detection.entities, so no record ever "
                                "has it"))
        for e in w.entity_count_at_least or {}:
            if e != ANY_ENTITY and e not in detected:
                out.append((base + ("when", "entity_count_at_least", e),
                            f"{e} is not in detection.entities, so no record ever has it"))
        why = never_matches(w, detected)
        if why:
            out.append((base + ("when",), f"rule {rule.name!r} can never match: {why}"))
        else:
            for k in range(i):
                if implies(rules[k].when, w):
                    out.append((base, f"rule {rule.name!r} is shadowed by rule {rules[k].name!r} (rules[{k}]), "
                                "which matches every record this one matches, and comes first: it never applies"))
                    break
        if rule.route == "finetune" and w.verification == "failed":
            out.append((base + ("route",), "sends records that failed verification to finetune; prepkit "
                        "quarantines them instead. Route them to quarantine explicitly"))
        if rule.labels and rule.route != "rag":
            out.append((base + ("labels",), f"labels only apply to the rag route, not {rule.route}"))
        if rule.route == "rag" and roles:
            labels = rule.labels or policy.outputs.rag.default_labels
            if not set(labels) & readable:
                out.append((base + ("labels",), f"no role in access.roles may read {', '.join(labels)}; these "
                            "chunks are unreadable"))
    d = policy.routing.default
    v = policy.verification
    routes = {r.route for r in rules} | {d.route}
    if "finetune" in routes and not (v.original_values or v.pattern_rescan or v.full_rescan):
        out.append((("verification",), "every check is off, yet records can reach finetune: nothing confirms "
                    "anonymization worked before text is baked into model weights"))
    if d.labels and d.route != "rag":
        out.append((("routing", "default", "labels"), f"labels only apply to the rag route, not {d.route}"))
    return out


def never_matches(w: When, detected: set[str]) -> str | None:
    if w.error is True:
        return "records whose processing failed are quarantined before any rule runs (`error: true`)"
    needs_entity = bool(w.any_entity or w.all_entities or any(n >= 1 for n in (w.entity_count_at_least or {})
                                                               .values()) or w.max_score_at_least)
    if w.no_entities is True and needs_entity:
        return "`no_entities: true` contradicts its entity conditions"
    if w.any_entity is not None and not set(w.any_entity) & detected:
        return "none of any_entity is detected"
    if w.all_entities is not None and not set(w.all_entities) <= detected:
        return "not every type in all_entities is detected"
    if w.any_entity == [] and w.any_entity is not None:
        return "any_entity is empty"
    if w.updated_within_days is not None and w.updated_before is not None:
        import datetime as dt

        if w.updated_before <= dt.date.today() - dt.timedelta(days=w.updated_within_days):
            return "updated_before and updated_within_days exclude each other"
    return None


def _required_types(w: When) -> set[str]:
    """Entity types a record must hold for `w` to match."""
    req = set(w.all_entities or [])
    if w.any_entity is not None and len(w.any_entity) == 1:
        req |= set(w.any_entity)
    req |= {e for e, n in (w.entity_count_at_least or {}).items() if e != ANY_ENTITY and n >= 1}
    return req


def _min_findings(w: When) -> int:
    counts = w.entity_count_at_least or {}
    n = max(counts.values(), default=0) if counts else 0
    if w.any_entity or w.all_entities or w.no_entities is False or w.max_score_at_least:
        n = max(n, 1)
    n = max(n, len(_required_types(w)))
    return n


def implies(a: When, b: When) -> bool:
    """True when every record matching `b` also matches `a` (so `a`, earlier, shadows `b`). Conservative: False
    when unsure."""
    if a.error is not None and a.error is not False:
        return False  # error: true never matches (reported separately)
    req_b = _required_types(b)
    if a.any_entity is not None:
        anyb = set(b.any_entity) if b.any_entity is not None else None
        if not (req_b & set(a.any_entity) or (anyb is not None and anyb and anyb <= set(a.any_entity))):
            return False
    if a.all_entities is not None and not set(a.all_entities) <= req_b:
        return False
    if a.no_entities is not None:
        if a.no_entities is True and b.no_entities is not True:
            return False
        if a.no_entities is False and _min_findings(b) < 1:
            return False
    for e, n in (a.entity_count_at_least or {}).items():
        have = (b.entity_count_at_least or {}).get(e, 0)
        if e == ANY_ENTITY:
            have = max(have, _min_findings(b))
        elif n <= 1 and e in req_b:
            have = max(have, 1)
        if have < n:
            return False
    if a.max_score_at_least is not None and (b.max_score_at_least or 0.0) < a.max_score_at_least:
        return False
    if a.source is not None and not ("*" in a.source or (b.source is not None and set(b.source) <= set(a.source))):
        return False
    if a.kind is not None and a.kind != b.kind:
        return False
    if a.doc_type is not None and not (b.doc_type is not None and set(b.doc_type) <= set(a.doc_type)):
        return False
    for k, want in (a.field_equals or {}).items():
        if b.field_equals is None or k not in b.field_equals:
            return False
        wa = want if isinstance(want, list) else [want]
        wb = b.field_equals[k] if isinstance(b.field_equals[k], list) else [b.field_equals[k]]
        if not set(map(repr, wb)) <= set(map(repr, wa)):
            return False
    if a.updated_within_days is not None and not (
            b.updated_within_days is not None and b.updated_within_days <= a.updated_within_days):
        return False
    if a.updated_before is not None and not (b.updated_before is not None and b.updated_before <= a.updated_before):
        return False
    return a.verification is None or a.verification == b.verification
