"""`prepkit policy diff`: what a reviewer signs off when a policy changes — effects, not a text diff.

Actions are compared by their *effective* action per detected type (a type that falls back to DEFAULT counts as
changed when DEFAULT changes); rules are matched by name, so a reworded rule is "changed", not "removed + added".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prepkit.entities import entity_type
from prepkit.policy.load import LoadedPolicy
from prepkit.policy.model import Action, Policy, RecognizerSpec, Rule
from prepkit.review.show import action_sentence, conditions, rule_sentence
from prepkit.transform.catalog import exposure


@dataclass(frozen=True, slots=True)
class Change:
    section: str  # identity, detection, actions, verification, routing, outputs, access, input, keys
    kind: str  # added, removed, changed, reordered
    subject: str  # the entity, rule, recognizer or field concerned
    sentence: str
    weakens: bool = False  # the change lowers protection: less found, more exposed, wider access


def _q(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]" if v else "(none)"
    if v is None or v == "":
        return "(unset)"
    return str(v)


def diff_policies(old: LoadedPolicy, new: LoadedPolicy) -> list[Change]:
    a, b = old.policy, new.policy
    out: list[Change] = []
    out += _identity(a, b)
    out += _detection(a, b)
    out += _actions(a, b)
    out += _fields("verification", a.verification.model_dump(), b.verification.model_dump())
    out += _routing(a, b)
    out += _fields("outputs", a.outputs.model_dump(mode="json"), b.outputs.model_dump(mode="json"))
    out += _access(a, b)
    out += _fields("input", a.input.model_dump(), b.input.model_dump())
    out += _fields("keys", a.keys.model_dump(), b.keys.model_dump())
    return out


def _identity(a: Policy, b: Policy) -> list[Change]:
    out = []
    labels = {"name": "The policy name", "policy_version": "The policy version", "effective_date": "The effective date",
              "regulation": "The regulation it implements", "owner": "The owner", "description": "The description",
              "locale": "The locale of fake values"}
    for f, label in labels.items():
        x, y = getattr(a, f), getattr(b, f)
        if x != y:
            out.append(Change("identity", "changed", f, f"{label} changes from {_q(x)} to {_q(y)}."))
    return out


def _detection(a: Policy, b: Policy) -> list[Change]:
    da, db = a.detection, b.detection
    out: list[Change] = []
    for f, label in (("language", "The detection language"), ("spacy_model", "The spaCy model")):
        if getattr(da, f) != getattr(db, f):
            out.append(Change("detection", "changed", f, f"{label} changes from {getattr(da, f)} to {getattr(db, f)}."))
    if da.builtin_recognizers != db.builtin_recognizers:
        out.append(Change("detection", "changed", "builtin_recognizers",
                          "prepkit's builtin recognizers (addresses, ZIP codes, ages, record numbers...) are now "
                          + ("on." if db.builtin_recognizers else "off: those types are no longer found by them."),
                          not db.builtin_recognizers))
    ca, cb = da.corpus_recall, db.corpus_recall
    if ca.enabled != cb.enabled:
        out.append(Change("detection", "changed", "corpus_recall",
                          "Corpus recall is now " + ("on: a value detected in one record is masked wherever else it "
                          "occurs in the run." if cb.enabled else "off: a name found in one record is no longer "
                          "looked for in the others."), not cb.enabled))
    elif cb.enabled and ca != cb:
        dropped = [t for t in ca.entity_types if t not in cb.entity_types]
        out.append(Change("detection", "changed", "corpus_recall",
                          f"Corpus recall now covers {_q(cb.entity_types)} (was {_q(ca.entity_types)}) and learns "
                          f"values scored {cb.min_score} or more (was {ca.min_score}).",
                          bool(dropped) or cb.min_score > ca.min_score))
    for e in db.entities:
        if e not in da.entities:
            meaning = entity_type(e).meaning
            out.append(Change("detection", "added", e, f"{e}{f' ({meaning})' if meaning else ''} is now detected."))
    for e in da.entities:
        if e not in db.entities:
            out.append(Change("detection", "removed", e, f"{e} is no longer detected: such values now pass through "
                              "unchanged.", True))
    if da.default_threshold != db.default_threshold:
        out.append(Change("detection", "changed", "default_threshold",
                          f"The default confidence threshold changes from {da.default_threshold} to "
                          f"{db.default_threshold} ({_direction(da.default_threshold, db.default_threshold)}).",
                          db.default_threshold > da.default_threshold))
    for e in db.entities:
        explicit = e in da.thresholds or e in db.thresholds  # the rest follow the default, reported above
        if e in da.entities and explicit and da.threshold(e) != db.threshold(e):
            out.append(Change("detection", "changed", e,
                              f"The confidence threshold for {e} changes from {da.threshold(e)} to {db.threshold(e)} "
                              f"({_direction(da.threshold(e), db.threshold(e))}).", db.threshold(e) > da.threshold(e)))
    ra = {r.name: r for r in da.recognizers}
    rb = {r.name: r for r in db.recognizers}
    for n, r in rb.items():
        if n not in ra:
            out.append(Change("detection", "added", n, f"New recognizer {n} finds {r.entity_type} by {_finds(r)}."))
    for n, r in ra.items():
        if n not in rb:
            out.append(Change("detection", "removed", n, f"Recognizer {n} ({r.entity_type}) is removed.", True))
        elif r != rb[n]:
            out.append(Change("detection", "changed", n, _recognizer_change(r, rb[n])))
    for t in db.allow_list:
        if t not in da.allow_list:
            out.append(Change("detection", "added", t, f"“{t}” is now on the allow list: never treated as personal "
                              "data.", True))
    for t in da.allow_list:
        if t not in db.allow_list:
            out.append(Change("detection", "removed", t, f"“{t}” is no longer on the allow list."))
    for n in db.disabled_recognizers:
        if n not in da.disabled_recognizers:
            out.append(Change("detection", "added", n, f"Recognizer {n} is turned off.", True))
    for n in da.disabled_recognizers:
        if n not in db.disabled_recognizers:
            out.append(Change("detection", "removed", n, f"Recognizer {n} is turned back on."))
    return out


def _direction(x: float, y: float) -> str:
    # For a privacy reviewer a higher threshold is *less* protection: what the detector is unsure of passes.
    return ("fewer findings: values detected with less confidence now pass through" if y > x
            else "more findings: more values replaced, more false alarms")


def _finds(r: RecognizerSpec) -> str:
    parts = [f"pattern {p.regex} (score {p.score})" for p in r.patterns]
    if r.deny_list:
        parts.append("the terms " + ", ".join(r.deny_list))
    return " and ".join(parts)


def _recognizer_change(x: RecognizerSpec, y: RecognizerSpec) -> str:
    bits = []
    if x.entity_type != y.entity_type:
        bits.append(f"now reports {y.entity_type} instead of {x.entity_type}")
    pa = {(p.regex, p.score) for p in x.patterns}
    pb = {(p.regex, p.score) for p in y.patterns}
    for rx, sc in sorted(pb - pa):
        bits.append(f"adds pattern {rx} (score {sc})")
    for rx, sc in sorted(pa - pb):
        bits.append(f"drops pattern {rx} (score {sc})")
    added = [t for t in y.deny_list if t not in x.deny_list]
    removed = [t for t in x.deny_list if t not in y.deny_list]
    if added:
        bits.append("adds the terms " + ", ".join(added))
    if removed:
        bits.append("drops the terms " + ", ".join(removed))
    if x.context != y.context:
        bits.append(f"context words change from {_q(x.context)} to {_q(y.context)}")
    for f in ("deny_list_score", "ignore_case"):
        if getattr(x, f) != getattr(y, f):
            bits.append(f"{f} changes from {getattr(x, f)} to {getattr(y, f)}")
    return f"Recognizer {y.name}: " + "; ".join(bits or ["pattern names change"]) + "."


def _actions(a: Policy, b: Policy) -> list[Change]:
    out: list[Change] = []
    seen: list[str] = []
    for e in [*a.detection.entities, *b.detection.entities, "DEFAULT"]:
        if e in seen:
            continue
        seen.append(e)
        if e == "DEFAULT" and "DEFAULT" not in a.actions and "DEFAULT" not in b.actions:
            continue
        if e != "DEFAULT" and not (e in a.detection.entities and e in b.detection.entities):
            continue  # detection added/removed says it already
        x, y = a.action_for(e), b.action_for(e)
        if (x.operator, x.params) != (y.operator, y.params):
            what = "Types without an action of their own (DEFAULT)" if e == "DEFAULT" else e
            now, was = action_sentence(y, e), action_sentence(x, e)
            if now == was:  # a parameter the sentence does not mention: name it rather than print one text twice
                now += f" ({_params(y)})"
                was += f" ({_params(x)})"
            more = exposure(y.operator, y.params, e) > exposure(x.operator, x.params, e)
            warn = " More of each value stays readable." if more else ""
            out.append(Change("actions", "changed", e, f"{what}: now {now} (was: {was}).{warn}", more))
    for e in b.detection.entities:
        if e not in a.detection.entities:
            out.append(Change("actions", "added", e, f"{e}: {action_sentence(b.action_for(e), e)}."))
    return out


def _params(action: Action) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(action.params.items())) or "no parameters"


def _routing(a: Policy, b: Policy) -> list[Change]:
    out: list[Change] = []
    ra = {r.name: (i, r) for i, r in enumerate(a.routing.rules)}
    rb = {r.name: (i, r) for i, r in enumerate(b.routing.rules)}
    for n, (i, r) in rb.items():
        if n not in ra:
            out.append(Change("routing", "added", n, f"New rule {n} at position {i + 1}: {_sentence(r)}"))
    for n, (_i, r) in ra.items():
        if n not in rb:
            out.append(Change("routing", "removed", n, f"Rule {n} is removed; it said: {_sentence(r)}",
                              _EXPOSURE[r.route] < _EXPOSURE[b.routing.default.route]))
    for n, (_i, r) in rb.items():
        if n in ra and ra[n][1] != r:
            old = ra[n][1]
            bits = []
            if old.route != r.route:
                bits.append(f"the route changes from {old.route} to {r.route}")
            if old.when != r.when:
                bits.append("its conditions change from “" + _conds(old) + "” to “" + _conds(r) + "”")
            if old.labels != r.labels:
                bits.append(f"labels change from {_q(old.labels)} to {_q(r.labels)}")
            if old.reason != r.reason:
                bits.append("its reason is reworded")
            out.append(Change("routing", "changed", n, f"Rule {n}: {'; '.join(bits)}. Now: {_sentence(r)}",
                              _EXPOSURE[r.route] > _EXPOSURE[old.route]))
    common_a = [n for n in ra if n in rb]
    common_b = [n for n in rb if n in ra]
    if common_a != common_b:
        out.append(Change("routing", "reordered", "rules",
                          f"The rules are checked in a new order: {', '.join(common_a)} → {', '.join(common_b)}. "
                          "The first matching rule decides, so records may go elsewhere."))
    da, db = a.routing.default, b.routing.default
    if da != db:
        out.append(Change("routing", "changed", "default", "The default route changes. Now: "
                          f"{rule_sentence(None, db.route, db.labels, db.reason)} Before: "
                          f"{rule_sentence(None, da.route, da.labels, da.reason)}",
                          _EXPOSURE[db.route] > _EXPOSURE[da.route]))
    return out


def _conds(r: Rule) -> str:
    return " and ".join(conditions(r.when)) or "every record"


# How far a route lets data travel: a change towards a higher number exposes records more.
_EXPOSURE = {"drop": 0, "quarantine": 1, "rag": 2, "finetune": 3}


def _sentence(r: Rule) -> str:
    return rule_sentence(r.when, r.route, r.labels, r.reason)


def _access(a: Policy, b: Policy) -> list[Change]:
    out: list[Change] = []
    ra, rb = a.access.roles, b.access.roles
    for role in rb:
        if role not in ra:
            out.append(Change("access", "added", role, f"New role {role} may read {_q(rb[role])}.", bool(rb[role])))
        else:
            more = [x for x in rb[role] if x not in ra[role]]
            less = [x for x in ra[role] if x not in rb[role]]
            if more:
                out.append(Change("access", "changed", role, f"Role {role} may now also read {', '.join(more)}.",
                                  True))
            if less:
                out.append(Change("access", "changed", role, f"Role {role} may no longer read {', '.join(less)}."))
    for role in ra:
        if role not in rb:
            out.append(Change("access", "removed", role, f"Role {role} is removed (it could read {_q(ra[role])})."))
    return out


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: d}


def _fields(section: str, x: dict[str, Any], y: dict[str, Any]) -> list[Change]:
    fx, fy = _flatten(x), _flatten(y)
    # A check or safeguard switched off (a True that becomes False) weakens; the rest is for the reviewer to judge.
    return [Change(section, "changed", k, f"{section}.{k} changes from {_q(fx.get(k))} to {_q(fy.get(k))}.",
                   fx.get(k) is True and fy.get(k) is False)
            for k in sorted(set(fx) | set(fy)) if fx.get(k) != fy.get(k)]


def render_diff(changes: list[Change], old: LoadedPolicy, new: LoadedPolicy, fmt: str = "text") -> str:
    head = {"old": {**old.identity, "file": Path(old.path).name}, "new": {**new.identity, "file": Path(new.path).name}}
    if fmt == "json":
        return json.dumps({**head, "changes": [asdict(c) for c in changes]}, indent=2, ensure_ascii=False) + "\n"
    lines = [f"Policy {old.policy.name} {old.policy.policy_version} (sha256 {old.sha256[:12]}) → "
             f"{new.policy.name} {new.policy.policy_version} (sha256 {new.sha256[:12]})", ""]
    if not changes:
        same = " (identical files)" if old.sha256 == new.sha256 else " (the files differ only in layout or comments)"
        return "\n".join(lines + [f"No change in effect{same}.", ""])
    titles = {"identity": "Identity", "detection": "Detection", "actions": "What is done to each type",
              "verification": "Verification", "routing": "Where records go", "outputs": "Outputs",
              "access": "Access", "input": "Input", "keys": "Keys"}
    for section, title in titles.items():
        group = [c for c in changes if c.section == section]
        if group:
            lines += [f"{title}:"] + [f"  {'⚠' if c.weakens else '-'} {c.sentence}" for c in group] + [""]
    weaker = sum(c.weakens for c in changes)
    lines.append(f"{len(changes)} change{'s' if len(changes) != 1 else ''} to sign off"
                 + (f", {weaker} of them weakening protection (marked ⚠)." if weaker else "."))
    return "\n".join(lines) + "\n"
