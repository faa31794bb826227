"""Scoring rules of `prepkit eval` on hand-made cases, and the command on hand-made gold sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.eval import GoldDoc, GoldError, Span, f_beta, gold_files, load_gold, normalise_surface, score

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "policies" / "default.yaml"
VANILLA = ROOT / "policies" / "vanilla.yaml"


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


def test_an_entity_is_protected_only_when_every_mention_is_fully_masked() -> None:
    text = "Anna Berg wrote. Later anna berg, and ANNA  BERG. Bob Ray too; bob ray. Carl Dahl."
    anna = [(0, 9), (23, 32), (38, 48)]
    bob = [(50, 57), (63, 70)]
    d = doc("a", text, *[(a, b, "PERSON") for a, b in anna + bob], (72, 81, "PERSON"))
    # Anna: every mention masked (one under another label: masking is label-blind). Bob: one mention only half
    # masked. Carl: not at all.
    preds = [Span(0, 9, "PERSON"), Span(23, 32, "PERSON"), Span(38, 48, "LOCATION"), Span(50, 57, "PERSON"),
             Span(63, 66, "PERSON")]
    r = score([d], [preds])
    c = r.per_entity["PERSON"]
    assert (c.entities, c.entities_protected) == (3, 1)
    assert c.protection == pytest.approx(1 / 3)
    # any-PII recall counts Bob's half-masked mention as found; protection does not.
    assert c.gold_any == 5 and c.gold == 6
    non_space = sum(len(text[a:b].replace(" ", "")) for a, b in [*anna, *bob, (72, 81)])
    assert c.chars == non_space
    assert c.chars_masked == non_space - len("ray") - len("CarlDahl")


def test_entities_are_grouped_per_document_and_label() -> None:
    text = "Paris Hilton visited Paris."
    d1 = doc("a", text, (0, 5, "PERSON"), (21, 26, "LOCATION"))
    d2 = doc("b", "Paris again", (0, 5, "LOCATION"))
    r = score([d1, d2], [[Span(0, 12, "PERSON")], [Span(0, 5, "LOCATION")]])
    # Same surface text, different labels or documents: three entities, the LOCATION in doc a unprotected.
    assert r.overall.entities == 3 and r.overall.entities_protected == 2
    assert normalise_surface(" “Anna\u00a0 BERG,” ") == "anna berg"


def test_gold_files_expands_folders_and_rejects_clashes(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text("")
    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / "notes.md").write_text("")
    assert [p.name for p in gold_files([tmp_path])] == ["a.jsonl", "b.jsonl"]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.jsonl").write_text("")
    with pytest.raises(GoldError, match="both named 'a'"):
        gold_files([tmp_path, sub])
    with pytest.raises(GoldError, match="no such gold file"):
        gold_files([tmp_path / "missing.jsonl"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GoldError, match="no .jsonl gold files"):
        gold_files([empty])


def _line(i: str, text: str, *spans: tuple[str, str]) -> str:
    out = []
    for value, label in spans:
        start = text.index(value)
        out.append({"start": start, "end": start + len(value), "label": label})
    return json.dumps({"id": i, "text": text, "spans": out}) + "\n"


@pytest.fixture(scope="module")
def gold_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gold")
    (d / "tickets.jsonl").write_text(
        _line("t1", "Please call Margaret Thompson at 212-555-0147 about the refund.",
              ("Margaret Thompson", "PERSON"), ("212-555-0147", "PHONE_NUMBER"))
        + _line("t2", "Write to jonas.weber@example.org, he lives in Hamburg.",
                ("jonas.weber@example.org", "EMAIL_ADDRESS"), ("Hamburg", "LOCATION"))
        + _line("t3", "The printer on floor two is jammed again.")
        + _line("t4", "Margaret Thompson said the invoice from Siemens was paid.",
                ("Margaret Thompson", "PERSON"), ("Siemens", "ORGANIZATION")), encoding="utf-8")
    (d / "notes.jsonl").write_text(
        _line("n1", "Dr. Alan Turing met Grace Hopper in London last week.",
              ("Alan Turing", "PERSON"), ("Grace Hopper", "PERSON"), ("London", "LOCATION"))
        + _line("n2", "My card 4111 1111 1111 1111 was charged twice.", ("4111 1111 1111 1111", "CREDIT_CARD")),
        encoding="utf-8")
    return d


def test_eval_suite_json_with_baseline(gold_dir: Path) -> None:
    res = CliRunner().invoke(main, ["eval", "--gold", str(gold_dir), "--policy", str(DEFAULT), "--baseline",
                                    str(VANILLA), "--format", "json", "--worst", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [s["dataset"] for s in data["sets"]] == ["notes", "tickets"]
    assert [s["documents"] for s in data["sets"]] == [2, 4]
    assert data["policy"]["name"] == "default" and data["baseline_policy"]["name"] == "vanilla"
    for s in data["sets"]:
        o = s["overall"]
        assert set(o) >= {"precision", "recall", "f2", "any_pii_recall", "entity_protection", "chars_masked"}
        assert o["gold"] == sum(v["gold"] for v in s["per_entity"].values())
        assert s["delta"]["f2"] == pytest.approx(o["f2"] - s["baseline"]["overall"]["f2"], abs=2e-4)
        for w in s["most_missed"]:
            assert set(w) == {"id", "missed", "labels"}  # no text without --show-text
    tickets = data["sets"][1]
    # Margaret Thompson, two mentions in two documents: two entities, each found by both policies.
    assert tickets["per_entity"]["PERSON"]["entities"] == 2
    assert tickets["per_entity"]["PERSON"]["entities_protected"] == 2
    assert tickets["overall"]["any_pii_recall"] >= 0.8
    for m in ("f2", "entity_protection"):
        want = (data["sets"][0]["overall"][m] + data["sets"][1]["overall"][m]) / 2
        assert data["macro"][m] == pytest.approx(want, abs=2e-4)
        assert data["macro_delta"][m] == pytest.approx(data["macro"][m] - data["baseline_macro"][m], abs=2e-4)


def test_eval_command_text_and_errors(gold_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["eval", "--gold", str(gold_dir / "tickets.jsonl"), "--gold",
                               str(gold_dir / "notes.jsonl"), "--policy", str(VANILLA), "--limit", "1",
                               "--worst", "2"])
    assert res.exit_code == 0, res.output
    assert "dataset tickets: 1 documents" in res.output and "dataset notes: 1 documents" in res.output
    assert "macro (mean of sets)" in res.output
    assert "OVERALL" in res.output and "any-PII recall:" in res.output and "entities protected:" in res.output
    assert "Margaret" not in res.output  # gold text only with --show-text
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": 5}\n')
    res = runner.invoke(main, ["eval", "--gold", str(bad), "--policy", str(VANILLA)])
    assert res.exit_code == 2
    assert "bad.jsonl:1: text: expected a string" in res.output
    res = runner.invoke(main, ["eval", "--gold", str(tmp_path / "nope"), "--policy", str(VANILLA)])
    assert res.exit_code == 2 and "no such gold file or folder" in res.output
