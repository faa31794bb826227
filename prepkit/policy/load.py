"""Read a policy file: safe YAML, strict schema, and every problem reported at once as `file:line: field: message`."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from prepkit.errors import PrepkitError
from prepkit.policy.catalog import Catalog, register_check
from prepkit.policy.model import Policy
from prepkit.policy.safe_yaml import YamlLimitError, load_guarded

__all__ = ["LoadedPolicy", "PolicyError", "Problem", "did_you_mean", "dotted", "load_policy", "register_check"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class PolicyError(PrepkitError):
    """One or more problems in a policy file; str() lists them all, one per line."""

    def __init__(self, problems: list[Problem], partial: LoadedPolicy | None = None):
        self.problems = problems
        # The policy without the parts that were refused, when the rest could still be read: `policy lint` adds
        # its warnings from it, so one pass reports everything.
        self.partial = partial
        super().__init__("\n".join(str(p) for p in problems))


class PolicyRefused(PolicyError):
    """The file is refused before it is read as a policy (an alias bomb, absurd nesting): nothing to lint."""


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    policy: Policy
    path: str
    sha256: str
    lines: dict[tuple[Any, ...], int]  # field path -> 1-based line, for later checks (lint)

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.policy.name, "version": self.policy.policy_version, "sha256": self.sha256}

    def line_of(self, path: Iterable[Any]) -> int:
        return _line_for(self.lines, tuple(path))


def _compose_lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[path + (key,)] = k.start_mark.line + 1
            _compose_lines(v, path + (key,), out)
            out[path + (key,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _compose_lines(v, path + (i,), out)


def _line_for(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 1)


def dotted(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top)"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""




def _pydantic_message(err: dict[str, Any], fields_at: Callable[[tuple[Any, ...]], list[str]]) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        key = err["loc"][-1]
        allowed = fields_at(tuple(err["loc"][:-1]))
        return f"unknown key{did_you_mean(str(key), allowed)}" + (
            f"; allowed: {', '.join(allowed)}" if allowed and not did_you_mean(str(key), allowed) else ""
        )
    if err["type"] == "missing":
        if tuple(err["loc"]) == ("routing", "default"):
            return "a default route is required (where records go when no rule matches)"
        return "required field is missing"
    if tuple(err["loc"]) == ("version",):
        return f"unsupported policy version {err.get('input')!r}; this prepkit reads version 1"
    bounds = {"less_than_equal": ("le", "at most"), "greater_than_equal": ("ge", "at least"),
              "less_than": ("lt", "less than"), "greater_than": ("gt", "greater than")}
    if err["type"] in bounds and "input" in err:  # policy numbers, never data: safe to quote
        key, words = bounds[err["type"]]
        return f"must be {words} {(err.get('ctx') or {}).get(key)}, got {err['input']}"
    return msg.removeprefix("Value error, ")


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Allowed keys of the model at a location, for did-you-mean on unknown keys."""
    from pydantic import BaseModel

    model: Any = Policy
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        f = model.model_fields.get(part)
        if f is None:
            return []
        ann = f.annotation
        model = None
        for cand in [ann, *getattr(ann, "__args__", ())]:
            for c in [cand, *getattr(cand, "__args__", ())]:
                if isinstance(c, type) and issubclass(c, BaseModel):
                    model = c
    return list(model.model_fields) if model is not None else []


def load_policy(path: str | Path, *, run_checks: bool = True, catalog: Catalog | None = None) -> LoadedPolicy:
    """Read, validate and check a policy; every problem is reported at once, with its line. The checks beyond
    the schema come from `catalog` (default: the installed one); run_checks=False reads the schema only."""
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise PolicyError([Problem(name, 1, "(file)", "policy file does not exist")]) from None
    except OSError as e:
        raise PolicyError([Problem(name, 1, "(file)", f"cannot read policy file: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyError([Problem(name, 1, "(file)", f"not UTF-8 (byte {e.start})")]) from None
    try:
        node, data, duplicates = load_guarded(text)
    except YamlLimitError as e:
        raise PolicyRefused([Problem(name, e.line, e.path, e.message)]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        msg = f"invalid YAML: {getattr(e, 'problem', e)}"
        ctx, ctx_mark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if ctx and ctx_mark is not None and ctx_mark.line + 1 != line:
            # An unclosed bracket or quote is reported where parsing gave up; name where it was opened too.
            msg += f" ({ctx} started on line {ctx_mark.line + 1})"
        raise PolicyError([Problem(name, line, "(yaml)", msg)]) from None
    if duplicates:
        raise PolicyError([Problem(name, line, path, msg) for line, path, msg in duplicates])
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _compose_lines(node, (), lines)
    if not isinstance(data, dict):
        raise PolicyError([Problem(name, 1, "(top)", "a policy must be a YAML mapping")])
    schema: list[Problem] = []
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        schema = [
            Problem(name, _line_for(lines, tuple(err["loc"])), dotted(err["loc"]), _pydantic_message(dict(err), _fields_at))
            for err in e.errors()
        ]
        repaired = _without_refused(data, e) if run_checks else None
        if repaired is None:
            raise PolicyError(schema) from None
        policy = repaired
    loaded = LoadedPolicy(policy, name, hashlib.sha256(raw).hexdigest(), lines)
    if run_checks:
        checks = (catalog or Catalog.installed()).checks
        problems = schema + [
            Problem(name, _line_for(lines, loc), dotted(loc), msg)
            for check in checks
            for loc, msg in check(policy, loaded)
        ]
        if problems:
            raise PolicyError(problems, loaded)
    return loaded


def _without_refused(data: dict[str, Any], error: ValidationError) -> Policy | None:
    """The policy with every key the schema refused left out, so the checks beyond the schema still run and a
    policy's problems all come out in one pass. None when a refused part cannot be left out (a required field, an
    item of a list: dropping it would shift the positions later problems are reported at)."""
    import copy

    data = copy.deepcopy(data)
    errors = error.errors()
    for _ in range(3):  # leaving out a key can reveal another (its parent's required field): a few rounds at most
        for err in errors:
            if err["type"] == "missing" or not _drop(data, tuple(err["loc"])):
                return None
        try:
            return Policy.model_validate(data)
        except ValidationError as e:
            errors = e.errors()
    return None


def _drop(data: Any, loc: tuple[Any, ...]) -> bool:
    node = data
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not isinstance(node, dict) or not loc or loc[-1] not in node:
        return False
    del node[loc[-1]]
    return True
