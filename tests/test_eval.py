"""Scoring rules of `prepkit eval` on hand-made cases, and the command on a slice of the shared gold data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.eval import GoldDoc, GoldError, Span, f_beta, load_gold, score

ROOT = Path(__file__).resolve().parent.parent
SYNTH = ROOT.parent / "shared" / "eval" / "presidio_synth.jsonl"


def doc(i: str, text: str, *spans: tuple[int, int, str]) -> GoldDoc:
    return GoldDoc(i, text, tuple(Span(*s) for s in spans))


def test_one_character_overlap_of_same_label_is_a_hit_and_touching_is_not() -> None:
    d = doc("a", "John Smith lives in Paris", (0, 10, "PERSON"), (20, 25, "LOCATION"))
    # The PERSON prediction shares one character ("h" at 9); the LOCATION one ends where the gold begins.
    r = score([d], [[Span(9, 12, "PERSON"), Span(15, 20, "LOCATION")]])
    assert r.per_entity["PERSON"].pred_correct == 1 and r.per_entity["PERSON"].gold_found == 1
    assert r.per_entity["LOCATION"].pred_correct == 0 and r.per_entity["LOCATION"].gold_found == 0
    assert r.overall.precision == 0.5 and r.overall.recall == 0.5
    assert r.overall.any_recall == 0.5


def test_wrong_label_counts_for_any_pii_recall_only() -> None:
    d = doc("a", "Call Acme Corp now", (5, 14, "ORGANIZATION"))
    r = score([d], [[Span(5, 9, "PERSON")]])
    assert r.overall.recall == 0.0
    assert r.overall.any_recall == 1.0
    # PERSON is not a label of this one-document "dataset", so the prediction is not scored for precision.
    assert r.unscored == {"PERSON": 1} and r.overall.pred == 0 and r.overall.precision == 0.0


def test_precision_ignores_labels_the_dataset_never_annotates() -> None:
    d1 = doc("a", "Anna met Bob on Monday", (0, 4, "PERSON"), (9, 12, "PERSON"))
    d2 = doc("b", "nothing here")
    preds = [[Span(0, 4, "PERSON"), Span(16, 22, "DATE_TIME")], [Span(0, 7, "URL"), Span(8, 12, "PERSON")]]
    r = score([d1, d2], preds)
    assert r.labels == ("PERSON",)
    assert r.unscored == {"DATE_TIME": 1, "URL": 1}
    # 1 correct of 2 PERSON predictions; 1 of 2 gold names found.
    assert r.overall.pred == 2 and r.overall.pred_correct == 1
    assert r.overall.precision == 0.5 and r.overall.recall == 0.5
    assert r.overall.f2 == pytest.approx(0.5)


def test_one_prediction_covering_several_gold_spans_recalls_them_all_but_counts_once_for_precision() -> None:
    text = "12 Main St\nApt 4\nSpringfield"
    d = doc("a", text, (0, 10, "LOCATION"), (11, 16, "LOCATION"), (17, 28, "LOCATION"))
    r = score([d], [[Span(0, 28, "LOCATION"), Span(0, 2, "LOCATION")]])
    c = r.per_entity["LOCATION"]
    assert (c.pred, c.pred_correct, c.gold, c.gold_found) == (2, 2, 3, 3)


def test_micro_average_and_f2_values() -> None:
    # 3 PERSON gold (2 found), 1 LOCATION gold (found); predictions: 3 PERSON (2 right), 2 LOCATION (1 right).
    d = doc("a", "A B C D E F G H I J", (0, 1, "PERSON"), (2, 3, "PERSON"), (4, 5, "PERSON"), (6, 7, "LOCATION"))
    preds = [[Span(0, 1, "PERSON"), Span(2, 3, "PERSON"), Span(10, 11, "PERSON"),
              Span(6, 7, "LOCATION"), Span(12, 13, "LOCATION")]]
    r = score([d], preds)
    assert r.overall.precision == pytest.approx(3 / 5)
    assert r.overall.recall == pytest.approx(3 / 4)
    p, rec = 3 / 5, 3 / 4
    assert r.overall.f2 == pytest.approx(5 * p * rec / (4 * p + rec))
    assert r.per_entity["PERSON"].recall == pytest.approx(2 / 3)
    assert f_beta(0.0, 0.0) == 0.0


def test_worst_documents_sorted_by_missed_count_then_file_order() -> None:
    docs = [doc("x", "aaaa", (0, 1, "PERSON")), doc("y", "bbbb", (0, 1, "PERSON"), (2, 3, "LOCATION")),
            doc("z", "cccc", (0, 1, "PERSON"))]
    r = score(docs, [[], [], [Span(0, 1, "PERSON")]], worst=5)
    assert [(w.id, len(w.missed)) for w in r.worst] == [("y", 2), ("x", 1)]
    d = r.as_dict()
    assert d["most_missed"][0] == {"id": "y", "missed": 2, "labels": ["LOCATION", "PERSON"]}
    assert "spans" not in d["most_missed"][0]
    assert d["most_missed"][0] != r.as_dict(show_text=True)["most_missed"][0]


def test_load_gold_reports_file_and_line(tmp_path: Path) -> None:
    good = {"id": "1", "text": "Anna", "spans": [{"start": 0, "end": 4, "label": "PERSON"}]}
    p = tmp_path / "g.jsonl"
    p.write_text(json.dumps(good) + "\n" + json.dumps({"id": "2", "text": "Bo", "spans": [
        {"start": 0, "end": 9, "label": "PERSON"}]}) + "\n")
    with pytest.raises(GoldError, match=r"g\.jsonl:2: spans\[0\]: offsets 0\.\.9 outside the text"):
        load_gold(p)
    assert load_gold(p, limit=1)[0].spans == (Span(0, 4, "PERSON"),)
    p.write_text("{not json\n")
    with pytest.raises(GoldError, match=r"g\.jsonl:1: not valid JSON"):
        load_gold(p)


@pytest.fixture(scope="module")
def synth_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert SYNTH.exists(), f"shared eval data missing at {SYNTH}"
    out = tmp_path_factory.mktemp("gold") / "synth50.jsonl"
    out.write_text("".join(SYNTH.read_text(encoding="utf-8").splitlines(keepends=True)[:50]), encoding="utf-8")
    return out


def test_eval_command_json_on_a_slice(synth_slice: Path) -> None:
    res = CliRunner().invoke(main, ["eval", "--gold", str(synth_slice), "--policy",
                                    str(ROOT / "policies" / "default.yaml"), "--format", "json", "--worst", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["documents"] == 50
    assert data["policy"]["name"] == "default" and len(data["policy"]["sha256"]) == 64
    assert set(data["overall"]) >= {"precision", "recall", "f2", "any_pii_recall", "gold"}
    assert "PERSON" in data["per_entity"] and "LOCATION" in data["per_entity"]
    assert data["overall"]["gold"] == sum(v["gold"] for v in data["per_entity"].values())
    assert 0.6 <= data["overall"]["any_pii_recall"] <= 1.0
    assert 0.4 <= data["overall"]["recall"] <= 1.0
    assert len(data["most_missed"]) <= 3
    for w in data["most_missed"]:
        assert set(w) == {"id", "missed", "labels"}  # no text without --show-text


def test_eval_command_text_and_errors(synth_slice: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["eval", "--gold", str(synth_slice), "--policy",
                               str(ROOT / "policies" / "vanilla.yaml"), "--limit", "20", "--worst", "2"])
    assert res.exit_code == 0, res.output
    assert "dataset synth50: 20 documents" in res.output
    assert "OVERALL" in res.output and "any-PII recall:" in res.output
    assert "documents with the most missed spans:" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": 5}\n')
    res = runner.invoke(main, ["eval", "--gold", str(bad), "--policy", str(ROOT / "policies" / "vanilla.yaml")])
    assert res.exit_code == 2
    assert "bad.jsonl:1: text: expected a string" in res.output
