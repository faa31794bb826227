"""The policy package is a ground floor: it imports nothing above it (detection, transformation, the pipeline,
the runner); the checks of the layers above reach it as an explicit catalog."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from prepkit.policy.catalog import Catalog
from prepkit.policy.load import LoadedPolicy, PolicyError, load_policy
from prepkit.policy.model import Policy
from tests.conftest import DEFAULT_POLICY, ROOT

POLICY_PKG = ROOT / "prepkit" / "policy"
# Review tools still under prepkit/policy until they move to a review package above the pipeline (issue 14).
MOVING_OUT = {"render.py", "diff.py", "lint.py", "dryrun.py"}
ALLOWED = ("prepkit.policy", "prepkit.errors", "prepkit.safe_regex")


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def test_no_policy_module_imports_a_layer_above_it() -> None:
    bad = []
    for path in sorted(POLICY_PKG.glob("*.py")):
        if path.name in MOVING_OUT:
            continue
        for mod in _imports(path):
            if mod.startswith("prepkit.") and not mod.startswith(ALLOWED):
                bad.append(f"{path.name}: {mod}")
    assert bad == []


def test_a_policy_loads_with_an_explicit_catalog_and_nothing_above_is_imported() -> None:
    code = textwrap.dedent(f"""
        import sys
        from prepkit.policy.catalog import Catalog
        from prepkit.policy import load_policy
        load_policy({str(DEFAULT_POLICY)!r}, catalog=Catalog())
        above = sorted(m for m in sys.modules if m.startswith(("prepkit.detect", "prepkit.transform",
                       "prepkit.pipeline", "prepkit.runner", "prepkit.driver", "prepkit.sinks", "prepkit.catalog")))
        print(above)
    """)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[]"


def test_the_catalog_s_checks_are_the_ones_that_run(tmp_path: Path) -> None:
    def no_drop_default(policy: Policy, loaded: LoadedPolicy) -> list[tuple[tuple[str, ...], str]]:
        return [(("routing", "default", "route"), "this catalog forbids a default of drop")] \
            if policy.routing.default.route == "drop" else []

    p = tmp_path / "p.yaml"
    p.write_text("version: 1\nname: t\ndetection:\n  entities: [PERSON]\nactions:\n  PERSON: {operator: nosuch}\n"
                 "routing:\n  default: {route: drop, reason: none}\n", encoding="utf-8")
    try:
        load_policy(p, catalog=Catalog((no_drop_default,)))
    except PolicyError as e:
        # only the given check ran: the unknown operator is the installed catalog's business
        assert str(e) == f"{p}:8: routing.default.route: this catalog forbids a default of drop"
    else:
        raise AssertionError("the catalog's check did not run")
    try:
        load_policy(p)
    except PolicyError as e:
        assert "unknown operator 'nosuch'" in str(e)
    else:
        raise AssertionError("the installed catalog did not run")
