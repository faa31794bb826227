"""Parse policy YAML defensively: a policy is a few hundred nodes, so anything far beyond that is refused before it
can cost time or memory.

`yaml.safe_load` already refuses arbitrary tags, but three shapes still hurt: aliases that expand exponentially
("billion laughs": a few hundred bytes that expand to billions of nodes for whoever walks the tree — the schema
check or the line map), deep nesting (the composer and the constructor recurse, so ten thousand `[` end in a
RecursionError), and a duplicated key, which YAML silently resolves to the last one (a second `routing:` would
replace the first without a word).
"""

from __future__ import annotations

from typing import Any

import yaml

from prepkit.errors import PrepkitError

MAX_DEPTH = 64  # a real policy nests about 6 deep
MAX_EVENTS = 200_000  # parser events in the file; a large policy has a few thousand
MAX_EXPANDED_NODES = 100_000  # nodes after following every alias; aliases are fine, exponential expansion is not


class YamlLimitError(PrepkitError):
    """The document is refused; `line` is 1-based, `path` the dotted place (or a placeholder)."""

    def __init__(self, line: int, path: str, message: str) -> None:
        self.line, self.path, self.message = line, path, message
        super().__init__(f"line {line}: {path}: {message}")


def _prescan(text: str) -> None:
    """Walk the parser's event stream (a state machine, no recursion) to bound depth and size before composing."""
    depth = 0
    for n, ev in enumerate(yaml.parse(text, Loader=yaml.SafeLoader), 1):
        line = ev.start_mark.line + 1 if ev.start_mark is not None else 1
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlLimitError(line, "(yaml)",
                                     f"nested more than {MAX_DEPTH} levels deep; a policy needs far fewer")
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1
        if n > MAX_EVENTS:
            raise YamlLimitError(line, "(yaml)",
                                 f"more than {MAX_EVENTS} YAML nodes; a policy needs far fewer")


def _expanded_size(root: yaml.Node) -> None:
    """Count nodes as a tree walk would see them (aliases followed), memoized per node so the count itself is
    linear in the document; refuse a document that expands past MAX_EXPANDED_NODES."""
    sizes: dict[int, int] = {}
    # iterative post-order over the node graph (aliases make it a DAG)
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [c for kv in node.value for c in kv]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        if total > MAX_EXPANDED_NODES:
            raise YamlLimitError(node.start_mark.line + 1, "(yaml)",
                                 f"aliases (*name) expand this document to more than {MAX_EXPANDED_NODES} nodes "
                                 "(an alias bomb?); write the values out or use fewer nested aliases")
        sizes[id(node)] = total


def _duplicate_keys(root: yaml.Node) -> list[tuple[int, str, str]]:
    """(line, path, message) for every mapping key given twice."""
    problems: list[tuple[int, str, str]] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:  # an aliased node is checked once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for k, v in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                where = f"{path}.{key}" if path else str(key)
                if key is not None and key != "<<":
                    ident = (k.tag, key)
                    if ident in first:
                        problems.append((k.start_mark.line + 1, where,
                                         f"duplicate key {key!r} (first given on line {first[ident]}); YAML would "
                                         "silently keep only the last one"))
                    else:
                        first[ident] = k.start_mark.line + 1
                stack.append((v, where))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node.value))
    return sorted(problems)


def load_guarded(text: str) -> tuple[yaml.Node | None, Any, list[tuple[int, str, str]]]:
    """(composed node, constructed data, duplicate-key problems). Raises YamlLimitError for a document past the
    limits and yaml.YAMLError for invalid YAML."""
    _prescan(text)
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is None:
        return None, None, []
    _expanded_size(node)
    dups = _duplicate_keys(node)
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return node, data, dups
