"""The CLI through click's runner: run, scan, exit codes, help on every command."""

from __future__ import annotations

import json

import click
from click.testing import CliRunner

from prepkit import __version__
from prepkit.cli import main
from tests.conftest import DEFAULT_POLICY, EVAL_FIXTURES, ROOT, SAMPLES


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append((f"{prefix}{name}", cmd))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, f"{prefix}{name} "))
    return out


def test_version():
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output


def test_every_command_has_help_and_is_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, cmd in _commands(main):
        res = CliRunner().invoke(main, [*name.split(), "--help"])
        assert res.exit_code == 0, name
        assert (cmd.help or "").strip(), f"`prepkit {name}` has no help text"
        assert f"prepkit {name}" in readme, f"`prepkit {name}` is not documented in README.md"


def test_scan_jsonl_prints_one_line_per_record_of_the_eval_set():
    gold = EVAL_FIXTURES / "presidio_synth_120.jsonl"
    n = 120
    res = CliRunner().invoke(main, ["scan", "--policy", str(DEFAULT_POLICY), "--input", str(gold),
                                    "--text-field", "text", "--format", "jsonl", "--limit", str(n)])
    assert res.exit_code == 1  # PII found
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(lines) == n
    texts = [json.loads(x)["text"] for x in gold.read_text().splitlines()[:n]]
    with_findings = 0
    for line, text in zip(lines, texts, strict=True):
        assert set(line) >= {"id", "findings"}
        for f in line["findings"]:
            assert 0 <= f["start"] < f["end"] <= len(text)
            assert set(f) >= {"start", "end", "entity_type", "score"}
        with_findings += bool(line["findings"])
    assert with_findings > n * 0.8


def test_scan_on_a_worker_pool_gives_the_in_process_output(tmp_path):
    # rejected lines must keep their place between the records the workers return
    src = tmp_path / "mixed.jsonl"
    lines = (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines()[:30]
    lines.insert(7, "{not json")
    lines.insert(20, '{"id": "x"}')
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outs = []
    for workers in ("1", "2"):
        res = CliRunner().invoke(main, ["scan", "-p", str(DEFAULT_POLICY), "-i", str(src), "--format", "jsonl",
                                        "--workers", workers])
        assert res.exit_code == 1, res.output  # PII found
        outs.append(res.stdout)
    assert outs[0] == outs[1]
    assert len(outs[0].splitlines()) == 30 and "rejected:" in res.stderr


def test_scan_clean_input_exits_0(tmp_path):
    p = tmp_path / "clean.jsonl"
    p.write_text('{"id": "a", "text": "The build finished without errors."}\n')
    res = CliRunner().invoke(main, ["scan", "-p", str(DEFAULT_POLICY), "-i", str(p), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["summary"]["records_with_pii"] == 0


def test_run_json_summary_and_errors(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "text": "Contact Jane Porter at jane.porter@example.com."}\nnot json\n')
    res = CliRunner().invoke(main, ["run", "-p", str(DEFAULT_POLICY), "-i", str(p), "-o", str(tmp_path / "out"),
                                    "--json"])
    assert res.exit_code == 2, res.output  # the bad line is rejected, the run completes, and the exit code says so
    s = json.loads(res.stdout)
    assert s["records_in"] == 2 and s["routes"]["rejected"] == 1 and s["conservation"]["ok"]
    rej = [json.loads(x) for x in (tmp_path / "out" / "rejected.jsonl").read_text().splitlines()]
    assert rej[0]["line"] == 2 and "malformed JSON" in rej[0]["reason"]

    missing = CliRunner().invoke(main, ["run", "-p", str(DEFAULT_POLICY), "-i", str(tmp_path / "nope.jsonl"),
                                        "-o", str(tmp_path / "o2")])
    assert missing.exit_code == 2 and "nope.jsonl" in missing.output and "does not exist" in missing.output
    bad_policy = CliRunner().invoke(main, ["run", "-p", str(tmp_path / "nope.yaml"), "-i", str(p),
                                           "-o", str(tmp_path / "o3")])
    assert bad_policy.exit_code == 2 and "nope.yaml" in bad_policy.output
