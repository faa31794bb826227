"""Every prepkit exception shares one root carrying its exit code, and the CLI turns it into an error line in
one place; nothing of prepkit's own is optional (no `except ImportError` around prepkit modules)."""

from __future__ import annotations

import ast
import builtins
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from prepkit.cli import main
from prepkit.errors import EXIT_ERROR, PrepkitError
from tests.conftest import DEFAULT_POLICY, ROOT

PKG = ROOT / "prepkit"


def _class_bases() -> dict[str, list[str]]:
    """Every class defined in prepkit: name -> the names of its bases (read from source: importing every module
    would load spaCy, Presidio and the embedders)."""
    out: dict[str, list[str]] = {}
    for path in sorted(PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                name = f"{path.relative_to(ROOT)}:{node.name}"
                out[name] = [ast.unparse(b).split(".")[-1] for b in node.bases]
    return out


def test_every_prepkit_exception_derives_from_the_root() -> None:
    classes = _class_bases()
    by_name: dict[str, list[str]] = {}
    for k, bases in classes.items():
        by_name.setdefault(k.split(":")[1], []).extend(bases)

    def ancestors(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        out = {name}
        for b in by_name.get(name, []):
            if b not in seen:
                out |= ancestors(b, seen | {name})
        return out

    builtin_errors = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    exceptions = [k for k in classes if ancestors(k.split(":")[1]) & builtin_errors]
    assert len(exceptions) >= 17
    assert [k for k in exceptions if "PrepkitError" not in ancestors(k.split(":")[1])] == []
    # and the real classes agree with the source reading
    from prepkit.io.readers import InputError
    from prepkit.policy import PolicyError

    assert issubclass(PolicyError, PrepkitError) and issubclass(InputError, PrepkitError)


def test_a_prepkit_error_from_any_command_is_one_line_and_its_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\ndetection:\n  entities: [NOT_A_TYPE]\n", encoding="utf-8")
    for args in (["policy", "show", str(bad)], ["run", "--policy", str(bad), "--input", str(tmp_path),
                                                "--out", str(tmp_path / "o")]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == EXIT_ERROR, res.output
        assert res.stderr.startswith("error: ") and f"{bad}:" in res.stderr
        assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)


def test_no_cli_module_lists_the_errors_it_expects() -> None:
    for path in sorted((PKG / "cli").glob("*.py")):
        src = path.read_text(encoding="utf-8")
        assert "_user_errors" not in src, path
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler):
                caught = ast.unparse(node.type) if node.type is not None else "everything"
                assert caught not in ("Exception", "BaseException", "everything"), f"{path}:{node.lineno}"


def _prepkit_imports_under_import_error(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Try):
            continue
        if not any(h.type is not None and ("ImportError" in ast.unparse(h.type) or "ModuleNotFoundError" in
                                           ast.unparse(h.type)) for h in node.handlers):
            continue
        for stmt in node.body:
            for sub in ast.walk(stmt):
                mods = [sub.module or ""] if isinstance(sub, ast.ImportFrom) else \
                    [a.name for a in sub.names] if isinstance(sub, ast.Import) else \
                    [str(sub.args[0].value)] if isinstance(sub, ast.Call) and ast.unparse(sub.func).endswith(
                        "import_module") and sub.args and isinstance(sub.args[0], ast.Constant) else \
                    ["prepkit.?"] if isinstance(sub, ast.Call) and ast.unparse(sub.func).endswith("import_module") \
                    else []
                bad += [f"{path.relative_to(ROOT)}:{sub.lineno} {m}" for m in mods
                        if m == "prepkit" or m.startswith("prepkit.") or (isinstance(sub, ast.ImportFrom)
                                                                          and sub.level > 0)]
    return bad


def test_no_prepkit_module_is_imported_fail_open() -> None:
    assert [b for p in sorted(PKG.rglob("*.py")) for b in _prepkit_imports_under_import_error(p)] == []


def _run_blocked(blocked: str, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter in which importing `blocked` fails (a broken or missing module)."""
    script = f"import sys\nsys.modules[{blocked!r}] = None\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_detection_does_not_run_without_its_recognizers() -> None:
    # Before: the builtin recognizers, truecasing and refine silently dropped out and detection went on.
    proc = _run_blocked("prepkit.detect.recognizers", f"""
        from prepkit.policy import load_policy
        from prepkit.detect import Detector
        Detector(load_policy({str(DEFAULT_POLICY)!r}, run_checks=False).policy)
        print("built")
    """)
    assert proc.returncode != 0 and "built" not in proc.stdout
    assert "halted; None in sys.modules" in proc.stderr


def test_policy_checks_do_not_pretend_there_are_no_builtin_recognizers() -> None:
    proc = _run_blocked("prepkit.detect.recognizers", """
        from prepkit import policy_checks as checks
        print(checks.builtin_recognizers("xx"))  # a language the recorded table lacks: asks the live registry
    """)
    assert proc.returncode != 0 and "halted; None in sys.modules" in proc.stderr


def test_a_run_without_the_rag_writer_fails_instead_of_counting_rag_records_as_written(tmp_path: Path) -> None:
    # Before: RAG-routed records were counted, written nowhere, and conservation still said ok.
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "internal wiki page", "doc_type": "wiki"}\n', encoding="utf-8")
    out = tmp_path / "out"
    proc = _run_blocked("prepkit.rag", f"""
        from prepkit.runner import RunConfig, run
        o = run(RunConfig(policy={str(DEFAULT_POLICY)!r}, inputs=[{str(src)!r}], out={str(out)!r}))
        print("routes", o.summary["routes"], o.summary["conservation"]["ok"])
    """)
    assert proc.returncode != 0 and "routes" not in proc.stdout
    assert "halted; None in sys.modules" in proc.stderr
    assert not (out / "summary.json").exists()
