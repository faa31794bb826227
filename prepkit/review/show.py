"""`prepkit policy show`: the policy in plain language for a compliance reader, as markdown, HTML or JSON.

Examples are not written by hand: each "before → after" comes from running the policy's real operator through
`prepkit.transform.Transformer` on a made-up value, under a fixed demo key (so the rendering is reproducible and
never reveals what the production key would produce).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from prepkit.entities import entity_type
from prepkit.keys import KeyRing
from prepkit.policy.load import LoadedPolicy
from prepkit.policy.model import Action, Policy, RecognizerSpec, When
from prepkit.policy_checks import DEFAULT_ACTION, active_recognizers, builtin_descriptions
from prepkit.sinks.finetune import describe_filters
from prepkit.transform.catalog import describe_action

DEMO_KEY = KeyRing.from_bytes(b"prepkit-policy-show-demo-key-v1!", "demo key (policy show)")

ROUTES = {
    "finetune": "goes to the fine-tuning dataset",
    "rag": "goes to the encrypted RAG store",
    "quarantine": "is quarantined (held for human review)",
    "drop": "is dropped (written nowhere)",
}


# --------------------------------------------------------------------------------------------------- model
def describe(loaded: LoadedPolicy) -> dict[str, Any]:
    """Everything `show` prints, as plain data (the JSON format is exactly this)."""
    p = loaded.policy
    det = p.detection
    by_entity: dict[str, list[str]] = {}
    for name, ents in sorted(active_recognizers(p).items()):
        for e in ents:
            by_entity.setdefault(e, []).append(name)
    specs: dict[str, list[RecognizerSpec]] = {}
    for spec in det.recognizers:
        specs.setdefault(spec.entity_type, []).append(spec)
    builtin = builtin_descriptions()
    transformer = _transformer(loaded)
    entities = []
    for e in det.entities:
        action = p.action_for(e)
        values = _examples(e, specs.get(e, []))
        entities.append({
            "entity": e,
            "meaning": entity_type(e).meaning or builtin.get(e) or _custom_meaning(specs.get(e, [])),
            "found_by": by_entity.get(e, []),
            "custom_recognizers": [_spec_dict(s) for s in specs.get(e, [])],
            "threshold": det.threshold(e),
            "action": {"operator": action.operator, **action.params},
            "action_source": e if e in p.actions else (DEFAULT_ACTION if DEFAULT_ACTION in p.actions else "builtin"),
            "does": action_sentence(action, e),
            "examples": [{"before": v, "after": _apply(transformer, e, v)} for v in values],
            "record_goes": route_for(p, e),
        })
    rules = [{"n": i + 1, "name": r.name, "when": conditions(r.when), "route": r.route, "labels": list(r.labels),
              "reason": r.reason, "sentence": rule_sentence(r.when, r.route, r.labels, r.reason)}
             for i, r in enumerate(p.routing.rules)]
    d = p.routing.default
    return {
        "policy": {"name": p.name, "policy_version": p.policy_version, "sha256": loaded.sha256,
                   "file": Path(loaded.path).name, "description": p.description, "owner": p.owner,
                   "effective_date": p.effective_date.isoformat() if p.effective_date else None,
                   "regulation": p.regulation, "locale": p.locale},
        "detection": {"language": det.language, "spacy_model": det.spacy_model,
                      "default_threshold": det.default_threshold, "allow_list": list(det.allow_list),
                      "disabled_recognizers": list(det.disabled_recognizers),
                      "builtin_recognizers": det.builtin_recognizers},
        "entities": entities,
        "other_types": action_sentence(p.action_for(DEFAULT_ACTION), DEFAULT_ACTION)
        if DEFAULT_ACTION in p.actions else None,
        "verification": _verification(p),
        "routing": {"rules": rules, "default": {"route": d.route, "labels": list(d.labels), "reason": d.reason,
                                                "sentence": rule_sentence(None, d.route, d.labels, d.reason)},
                    "always": [
                        "A record whose detection or anonymization fails is quarantined before any rule runs.",
                        "A record that fails verification never goes to the fine-tuning dataset, whatever a rule "
                        "says: it is quarantined instead.",
                    ]},
        "outputs": _outputs(p),
        "access": {role: list(labels) for role, labels in p.access.roles.items()},
    }


def _transformer(loaded: LoadedPolicy) -> Any:
    from prepkit.transform import Transformer

    return Transformer(loaded, DEMO_KEY)


def _apply(transformer: Any, entity: str, value: str) -> str:
    from prepkit.records import Finding, Record, Segment

    rec = Record("policy-show-example", "policy-show", "text", [Segment("text", value)])
    try:
        return str(transformer.transform(rec, [Finding(0, 0, len(value), entity, 1.0)]).texts[0])
    except Exception as e:  # noqa: BLE001 - an example must not stop the rendering; say why instead
        return f"(operator failed: {type(e).__name__})"


def route_for(p: Policy, entity: str) -> dict[str, Any]:
    """Where a plain record (no source pattern, document type or date matched) holding one finding of `entity`
    goes once verified clean: the policy's real routing evaluated on that record."""
    from prepkit.records import Finding, Record, Segment, Verification
    from prepkit.route import decide

    rec = Record("policy-show", "", "text", [Segment("text", "x")])
    d = decide(p, rec, [Finding(0, 0, 1, entity, 1.0)], Verification(passed=True))
    return {"route": str(d.route), "rule": d.rule, "labels": list(d.labels)}


def _route_phrase(r: dict[str, Any]) -> str:
    lab = f" with the label{'s' if len(r['labels']) > 1 else ''} {join_words(r['labels'], 'and')}" if r["labels"] else ""
    by = f"rule “{r['rule']}”" if r["rule"] else "the default route"
    return f"{ROUTES[r['route']]}{lab}, by {by}"


def _custom_meaning(specs: list[RecognizerSpec]) -> str:
    return "defined by this policy: " + "; ".join(s.name for s in specs) if specs else "(no description)"


def _spec_dict(s: RecognizerSpec) -> dict[str, Any]:
    return {"name": s.name, "patterns": [{"name": p.name, "regex": p.regex, "score": p.score} for p in s.patterns],
            "deny_list": list(s.deny_list), "context": list(s.context), "ignore_case": s.ignore_case}


def _examples(entity: str, specs: list[RecognizerSpec]) -> list[str]:
    if entity_type(entity).examples:
        return list(entity_type(entity).examples)
    for s in specs:
        if s.deny_list:
            return [s.deny_list[0]]
        for p in s.patterns:
            ex = example_for(p.regex, s.ignore_case)
            if ex:
                return [ex]
    return ["ID-4711"]


def example_for(pattern: str, ignore_case: bool = False) -> str | None:
    """A short string the regex matches, built from its parse tree (first branch, minimum repeats, '7' for a
    digit, 'x' for a letter); None when the result does not match (lookarounds, backreferences)."""
    import re._parser as sre

    try:
        tree = sre.parse(pattern)
    except re.error:
        return None
    out = _gen(list(tree))
    if out is None:
        return None
    flags = re.IGNORECASE if ignore_case else 0
    return out if out and re.search(pattern, out, flags) else None


def _gen(items: list[Any]) -> str | None:
    out = ""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out += chr(av)
        elif name == "NOT_LITERAL":
            out += "x" if chr(av) != "x" else "y"
        elif name == "ANY":
            out += "x"
        elif name == "IN":
            out += _gen_in(av)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, _hi, sub = av
            piece = _gen(list(sub))
            if piece is None:
                return None
            # Optional spacing is written out ("licence no. 7" reads better than "licence no.7").
            out += piece * (1 if lo == 0 and piece == " " else lo)
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            piece = _gen(list(av[-1]))
            if piece is None:
                return None
            out += piece
        elif name == "BRANCH":
            piece = _gen(list(av[1][0]))
            if piece is None:
                return None
            out += piece
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and lookarounds consume nothing; the final re.search checks the result
        else:  # lookarounds, backreferences, conditionals: give up rather than guess
            return None
    return out


def _gen_in(items: list[Any]) -> str:
    # A digit when the class allows one: identifiers' lookaheads usually demand a digit.
    for op, av in items:
        if (str(op) == "RANGE" and av[0] <= ord("7") <= av[1]) or (
                str(op) == "CATEGORY" and str(av).endswith("CATEGORY_DIGIT")):
            return "7"
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            return "#"
        if name == "LITERAL":
            return chr(av)
        if name == "RANGE":
            return chr(av[0])
        if name == "CATEGORY":
            cat = str(av)
            if "NOT" in cat:
                return "#"
            if "DIGIT" in cat:
                return "7"
            if "SPACE" in cat:
                return " "
            return "x"
    return "x"


# --------------------------------------------------------------------------------------------------- sentences
def action_sentence(action: Action, entity: str) -> str:
    """The operator's own description of what it does to a value of `entity`."""
    return describe_action(action.operator, action.params, entity)


def join_words(items: list[str], word: str = "or") -> str:
    items = [str(x) for x in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def conditions(w: When) -> list[str]:
    out: list[str] = []
    if w.error is True:
        out.append("its processing failed")
    elif w.error is False:
        out.append("its processing succeeded")
    if w.any_entity is not None:
        out.append(f"it contains {join_words(w.any_entity)}" if len(w.any_entity) < 2
                   else f"it contains any of {join_words(w.any_entity)}")
    if w.all_entities is not None:
        out.append(f"it contains all of {join_words(w.all_entities, 'and')}")
    if w.no_entities is True:
        out.append("no personal data was found in it")
    elif w.no_entities is False:
        out.append("some personal data was found in it")
    for e, n in (w.entity_count_at_least or {}).items():
        what = "findings of any type" if e == "ANY" else f"{e} findings"
        out.append(f"it has at least {n} {what}")
    if w.max_score_at_least is not None:
        out.append(f"some finding has a confidence of at least {w.max_score_at_least}")
    if w.source is not None:
        out.append(f"its source file matches {join_words(w.source)}")
    if w.kind is not None:
        out.append(f"it is a {w.kind} record")
    if w.doc_type is not None:
        out.append(f"its document type is {join_words(w.doc_type)}")
    for k, v in (w.field_equals or {}).items():
        out.append(f"its field “{k}” is {join_words(v) if isinstance(v, list) else v}")
    if w.updated_within_days is not None:
        out.append(f"it was updated within the last {w.updated_within_days} days")
    if w.updated_before is not None:
        out.append(f"it was last updated before {w.updated_before.isoformat()}")
    if w.verification == "passed":
        out.append("the check after anonymization found no personal data left")
    elif w.verification == "failed":
        out.append("the check after anonymization found personal data left (or could not run)")
    return out


def rule_sentence(w: When | None, route: str, labels: list[str], reason: str) -> str:
    conds = conditions(w) if w is not None else []
    if conds:
        lead = "If " + join_words(conds, "and") + ", the record "
    else:
        lead = "Every record " if w is not None else "Otherwise the record "
    lab = f" with the access label{'s' if len(labels) > 1 else ''} {join_words(labels, 'and')}" if labels else ""
    return f"{lead}{ROUTES[route]}{lab}. Why: {reason}"


def _verification(p: Policy) -> list[str]:
    v = p.verification
    out = []
    if v.original_values:
        out.append("no original value that was detected may survive anywhere in the output")
    if v.pattern_rescan:
        out.append("the output is re-scanned with the pattern recognizers and must hold nothing prepkit did not "
                   "insert")
    if v.full_rescan:
        model = f" with {v.rescan_model}" if v.rescan_model else ""
        out.append(f"a second full detection pass{model} must find nothing")
    return out


def _outputs(p: Policy) -> dict[str, Any]:
    o = p.outputs
    return {
        "finetune": describe_filters(o.finetune),
        "rag": (f"{o.rag.backend} backend, chunks of {o.rag.chunk_size} characters overlapping by "
                f"{o.rag.chunk_overlap}; default labels {', '.join(o.rag.default_labels) or 'none'}"),
        "audit": f"hash-chained log, {'HMAC-signed' if o.audit.hmac else 'not HMAC-signed'} entries",
    }


# --------------------------------------------------------------------------------------------------- formats
def render(loaded: LoadedPolicy, fmt: str = "markdown") -> str:
    doc = describe(loaded)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return to_html(doc)
    if fmt == "markdown":
        return to_markdown(doc)
    raise ValueError(f"unknown format {fmt!r}")


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def to_markdown(doc: dict[str, Any]) -> str:
    p, det = doc["policy"], doc["detection"]
    L: list[str] = [f"# Policy “{p['name']}” version {p['policy_version']}", ""]
    if p["description"]:
        L += [p["description"], ""]
    L += [f"- File: `{p['file']}`", f"- SHA-256: `{p['sha256']}`"]
    for key, label in (("owner", "Owner"), ("effective_date", "Effective date"), ("regulation", "Implements")):
        if p[key]:
            L.append(f"- {label}: {p[key]}")
    L += ["", "## What is detected and what is done with it", "",
          f"Language {det['language']} (spaCy model `{det['spacy_model']}`). A finding counts when its confidence "
          f"reaches the threshold, {det['default_threshold']} unless stated per type.", ""]
    if det["allow_list"]:
        L += ["Never treated as personal data: " + ", ".join(f"“{a}”" for a in det["allow_list"]) + ".", ""]
    if det["disabled_recognizers"]:
        L += ["Recognizers turned off: " + ", ".join(f"`{r}`" for r in det["disabled_recognizers"]) + ".", ""]
    for e in doc["entities"]:
        L += [f"### {e['entity']} — {e['meaning']}", ""]
        L.append(f"- Found by: {', '.join(f'`{r}`' for r in e['found_by']) or '(no active recognizer)'}; "
                 f"threshold {e['threshold']}")
        for s in e["custom_recognizers"]:
            parts = [f"pattern `{_md(x['regex'])}` (score {x['score']})" for x in s["patterns"]]
            if s["deny_list"]:
                parts.append("the terms " + ", ".join(f"“{t}”" for t in s["deny_list"]))
            ctx = f"; context words: {', '.join(s['context'])}" if s["context"] else ""
            L.append(f"- Policy recognizer `{s['name']}`: {'; '.join(parts)}{ctx}")
        src = {"builtin": " (no action given: prepkit's fallback)", DEFAULT_ACTION: " (the DEFAULT action)"}.get(
            e["action_source"], "")
        L.append(f"- Done: {e['does']}{src}")
        for ex in e["examples"]:
            after = f"`{_md(ex['after'])}`" if ex["after"] else "*(nothing: removed)*"
            L.append(f"- Example: `{_md(ex['before'])}` → {after}")
        L.append(f"- A record holding it {_route_phrase(e['record_goes'])}")
        L.append("")
    if doc["other_types"]:
        L += [f"Any type without an action of its own is {doc['other_types']}.", ""]
    if doc["verification"]:
        L += ["## Verification after anonymization", ""]
        L += [f"- {v}" for v in doc["verification"]] + [""]
    L += ["## Where records go", "", "Rules are checked in order; the first that matches decides. (“A record holding "
          "it” above is this routing applied to a verified record with that one finding and no source, document "
          "type or date another rule looks at.)", ""]
    for r in doc["routing"]["rules"]:
        L.append(f"{r['n']}. **{r['name']}**: {r['sentence']}")
    L += [f"{len(doc['routing']['rules']) + 1}. **default**: {doc['routing']['default']['sentence']}", ""]
    L += [f"- {s}" for s in doc["routing"]["always"]] + [""]
    L += ["## Outputs", ""] + [f"- {k}: {v}" for k, v in doc["outputs"].items()] + [""]
    if doc["access"]:
        L += ["## Who may read the RAG store", ""]
        L += [f"- {role}: {', '.join(labels) or '(nothing)'}" for role, labels in doc["access"].items()] + [""]
    return "\n".join(L)


def to_html(doc: dict[str, Any]) -> str:
    def h(s: Any) -> str:
        return html.escape(str(s))

    def hc(s: Any) -> str:  # escaped, with `code` spans of the plain-text sentences as <code>
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", h(s))

    p, det = doc["policy"], doc["detection"]
    o: list[str] = ["<!doctype html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
                    f"<title>Policy {h(p['name'])} {h(p['policy_version'])}</title>",
                    "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:80em;margin:2em auto;padding:0 1em}"
                    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;"
                    "vertical-align:top;text-align:left}code{background:#f4f4f4;padding:0 .2em}"
                    ".after{color:#064}.before{color:#822}</style></head><body>",
                    f"<h1>Policy “{h(p['name'])}” version {h(p['policy_version'])}</h1>"]
    if p["description"]:
        o.append(f"<p>{h(p['description'])}</p>")
    o.append("<ul>")
    o.append(f"<li>File: <code>{h(p['file'])}</code></li><li>SHA-256: <code>{h(p['sha256'])}</code></li>")
    for key, label in (("owner", "Owner"), ("effective_date", "Effective date"), ("regulation", "Implements")):
        if p[key]:
            o.append(f"<li>{label}: {h(p[key])}</li>")
    o.append("</ul><h2>What is detected and what is done with it</h2>")
    o.append(f"<p>Language {h(det['language'])}; default threshold {h(det['default_threshold'])}.</p>")
    if det["allow_list"]:
        o.append("<p>Never treated as personal data: " + ", ".join(h(a) for a in det["allow_list"]) + ".</p>")
    o.append("<table><tr><th>Type</th><th>Meaning</th><th>Threshold</th><th>What is done</th><th>Example</th>"
             "<th>A record holding it</th></tr>")
    for e in doc["entities"]:
        ex = "<br>".join(f"<code class=\"before\">{h(x['before'])}</code> → " + (
            f"<code class=\"after\">{h(x['after'])}</code>" if x["after"] else "<em>(nothing: removed)</em>")
            for x in e["examples"])
        o.append(f"<tr><td><code>{h(e['entity'])}</code></td><td>{h(e['meaning'])}</td><td>{h(e['threshold'])}</td>"
                 f"<td>{hc(e['does'])}</td><td>{ex}</td><td>{hc(_route_phrase(e['record_goes']))}</td></tr>")
    o.append("</table>")
    if doc["other_types"]:
        o.append(f"<p>Any type without an action of its own is {hc(doc['other_types'])}.</p>")
    if doc["verification"]:
        o.append("<h2>Verification after anonymization</h2><ul>"
                 + "".join(f"<li>{h(v)}</li>" for v in doc["verification"]) + "</ul>")
    o.append("<h2>Where records go</h2><p>Rules are checked in order; the first that matches decides.</p><ol>")
    for r in doc["routing"]["rules"]:
        o.append(f"<li><strong>{h(r['name'])}</strong>: {hc(r['sentence'])}</li>")
    o.append(f"<li><strong>default</strong>: {hc(doc['routing']['default']['sentence'])}</li></ol><ul>")
    o += [f"<li>{h(s)}</li>" for s in doc["routing"]["always"]]
    o.append("</ul><h2>Outputs</h2><ul>" + "".join(f"<li>{h(k)}: {h(v)}</li>" for k, v in doc["outputs"].items())
             + "</ul>")
    if doc["access"]:
        o.append("<h2>Who may read the RAG store</h2><ul>" + "".join(
            f"<li>{h(role)}: {h(', '.join(labels) or '(nothing)')}</li>" for role, labels in doc["access"].items())
            + "</ul>")
    o.append("</body></html>\n")
    return "\n".join(o)
