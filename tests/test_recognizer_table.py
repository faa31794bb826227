"""The recorded recognizer table (prepkit/policy/recognizer_table.json) must say what the live registries say:
policies are checked against it without importing Presidio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from prepkit import policy_checks as checks


def test_recorded_table_matches_live_registries(regen_golden: bool) -> None:
    live = checks.live_table()
    if regen_golden:
        checks.TABLE_PATH.write_text(json.dumps(live, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    recorded = json.loads(checks.TABLE_PATH.read_text(encoding="utf-8"))
    assert recorded == json.loads(json.dumps(live)), (
        f"{checks.TABLE_PATH.name} is stale (a recognizer or the Presidio version changed): "
        "run pytest tests/test_recognizer_table.py --regen-golden")


def test_loading_a_policy_does_not_import_presidio_or_spacy() -> None:
    code = ("import sys; from prepkit.policy import load_policy; load_policy('policies/gdpr.yaml'); "
            "print(sorted(m for m in ('presidio_analyzer', 'spacy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_entity_is_still_refused_with_the_table(tmp_path: Path) -> None:
    from prepkit.policy import PolicyError, load_policy

    src = Path("policies/default.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "p.yaml"
    assert "EMAIL_ADDRESS" in src
    bad.write_text(src.replace("EMAIL_ADDRESS", "EMAIL_ADRESS", 1), encoding="utf-8")
    try:
        load_policy(bad)
    except PolicyError as e:
        assert "EMAIL_ADRESS" in str(e) and "EMAIL_ADDRESS" in str(e)  # did-you-mean from the recorded names
    else:
        raise AssertionError("a misspelled entity type loaded")
