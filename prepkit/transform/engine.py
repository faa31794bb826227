"""Apply a policy's actions to one record's findings."""

from __future__ import annotations

from typing import Any

from prepkit.keys import KeyRing
from prepkit.policy.load import LoadedPolicy
from prepkit.policy.model import Action
from prepkit.records import Applied, Finding, Record, Transformed
from prepkit.transform.context import DocContext, Keys, Shared
from prepkit.transform.match import Needle
from prepkit.transform.operators import Operator, get_operator
from prepkit.transform.subjects import normalize, subject_hash


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep a non-overlapping subset, preferring higher score, then the longer span, then the type name.

    Deterministic whatever order the detectors returned spans in. The result is in reading order.
    """
    ranked = sorted(
        (f for f in findings if f.end > f.start),
        key=lambda f: (-f.score, -(f.end - f.start), f.entity_type, f.segment, f.start),
    )
    kept: list[Finding] = []
    taken: dict[int, list[tuple[int, int]]] = {}
    for f in ranked:
        spans = taken.setdefault(f.segment, [])
        if any(f.start < e and s < f.end for s, e in spans):
            continue
        spans.append((f.start, f.end))
        kept.append(f)
    return sorted(kept, key=lambda f: (f.segment, f.start))


class Transformer:
    """Built once per worker: resolves every action's operator up front so a run never meets an unknown one."""

    def __init__(self, loaded_policy: LoadedPolicy, keyring: KeyRing, *, avoid: set[str] | None = None):
        self.policy = loaded_policy.policy
        self.keyring = keyring
        self.shared = Shared(Keys.from_keyring(keyring), self.policy.locale)
        # Known real values beyond the record (e.g. a corpus pre-scan): surrogates avoid them too.
        self.avoid = [Needle(v, None) for v in sorted(avoid or ())]
        self._ops: dict[str, tuple[Operator, dict[str, Any], Action]] = {}
        # Fail at construction, not mid-run, even when the policy was loaded without checks.
        for etype, action in self.policy.actions.items():
            op = get_operator(action.operator)
            problems = op.validate(action.params, etype)
            if problems:
                param, msg = problems[0]
                raise ValueError(f"actions.{etype}{'.' + param if param else ''}: {msg}")

    def _op(self, entity_type: str) -> tuple[Operator, dict[str, Any], Action]:
        hit = self._ops.get(entity_type)
        if hit is None:
            action = self.policy.action_for(entity_type)
            hit = self._ops[entity_type] = (get_operator(action.operator), action.params, action)
        return hit

    def transform(self, record: Record, findings: list[Finding]) -> Transformed:
        valid = [
            f for f in findings
            if 0 <= f.segment < len(record.segments) and 0 <= f.start < f.end <= len(record.segments[f.segment].text)
        ]
        if len(valid) != len(findings):
            raise ValueError("finding offsets out of bounds for the record")
        kept = resolve_overlaps(valid)
        values = [record.segments[f.segment].text[f.start:f.end] for f in valid]
        ctx = DocContext(self.shared, record_id=record.id)
        ctx.needles = list(self.avoid)
        for f, v in zip(valid, values, strict=True):
            ctx.needles.append(Needle(v, f.entity_type))
        ctx.findings = [(f.entity_type, record.segments[f.segment].text[f.start:f.end]) for f in kept]
        persons = [normalize(v) for t, v in ctx.findings if t == "PERSON"]
        full = [p for p in persons if " " in p]
        ctx.subject = (full or persons or ["record:" + record.id])[0]

        replacements: list[str] = []
        for f in kept:  # reading order, so replace numbers and name variants follow the text
            op, params, _ = self._op(f.entity_type)
            value = record.segments[f.segment].text[f.start:f.end]
            key = (op.name, f.entity_type, normalize(value, f.entity_type))
            out = ctx.memo.get(key)
            if out is None:
                out = ctx.memo[key] = op.apply(value, f.entity_type, params, ctx)
            replacements.append(out)

        texts: list[str] = []
        applied: list[Applied] = []
        by_seg: dict[int, list[tuple[Finding, str]]] = {}
        for f, r in zip(kept, replacements, strict=True):
            by_seg.setdefault(f.segment, []).append((f, r))
        for i, seg in enumerate(record.segments):
            pieces: list[str] = []
            pos = 0
            out_len = 0
            for f, r in by_seg.get(i, []):
                pieces.append(seg.text[pos:f.start])
                out_len += f.start - pos
                applied.append(Applied(i, out_len, out_len + len(r), f.entity_type, self._op(f.entity_type)[0].name))
                pieces.append(r)
                out_len += len(r)
                pos = f.end
            pieces.append(seg.text[pos:])
            texts.append("".join(pieces))

        hashes = sorted({subject_hash(self.keyring, v, f.entity_type) for f, v in zip(valid, values, strict=True)})
        return Transformed(texts=texts, applied=applied, subject_hashes=hashes)
