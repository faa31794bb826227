"""Shared fixtures. Tests run the real spaCy model, real Presidio, real files: nothing we ship is mocked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
EVAL_FIXTURES = ROOT / "tests" / "fixtures" / "eval"  # small slices of the dev sets kept beside the repo; licenses in README.md
SAMPLES = ROOT / "samples"
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"

# A fixed test key so outputs are reproducible; individual tests override it to prove key effects.
def fixed_key(name: str) -> str:
    """A fixed 32-byte key in hex that looks random (keys with few distinct bytes are refused as not random)."""
    import hashlib

    return hashlib.sha256(f"prepkit-test-key:{name}".encode()).hexdigest()


TEST_KEY = fixed_key("suite")
os.environ.pop("PREPKIT_KEY_FILE", None)
os.environ["PREPKIT_KEY"] = TEST_KEY
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


# Property tests explore with a fixed seed in the suite, so CI is reproducible; `HYPOTHESIS_PROFILE=explore`
# searches fresh examples when hunting for bugs by hand.
settings.register_profile("suite", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="Rewrite golden files under tests/golden/ from current output.")


@pytest.fixture(scope="session")
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden")) or os.environ.get("PREPKIT_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="session")
def default_pipeline():
    """One real Pipeline for the session: building it loads spaCy and Presidio (seconds)."""
    from prepkit.pipeline import Pipeline

    return Pipeline(DEFAULT_POLICY)


@pytest.fixture(scope="module")
def detect(default_pipeline):
    """`detect(text)` -> [(value, entity type)] of the default policy's findings in one plain-text record."""
    from prepkit.records import Record, Segment

    def run(text: str) -> list[tuple[str, str]]:
        [findings] = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])
        return [(text[f.start:f.end], f.entity_type) for f in findings]

    return run


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory):
    """`prepkit run` on samples/ with the default policy, once per session."""
    from prepkit.runner import RunConfig, run

    out = tmp_path_factory.mktemp("sample_run")
    return run(RunConfig(policy=DEFAULT_POLICY, inputs=[SAMPLES], out=out))


@pytest.fixture(scope="session")
def quarantine_run(tmp_path_factory: pytest.TempPathFactory):
    """A real run (default policy) with two quarantined chats; tests that decide on them copy it first."""
    from tests.webtools import make_run

    return make_run(tmp_path_factory.mktemp("quarantine_run"))
