"""The corpus shapes of the bench matrix, each written at a requested size with a fixed seed.

    dense    short records (~430 characters) dense with PII: SSNs, IBANs, cards, IPs, dates, phones, names,
             addresses, about fifteen entities each (the shape prepkit once lost to vanilla on)
    long     long real documents, 1.5k–10k characters: sections of European Court of Human Rights judgments
             (the Text Anonymization Benchmark's train split, MIT) and GUM documents (CC-BY), from ../shared/train
    tickets  Faker support tickets and runbooks (bench/corpus.py, the first benchmark's corpus)
    csv      CSV rows of a customer table: name, e-mail, phone, address, free-text note
    eval     the texts of the seven ../shared/eval dev sets (tweets, e-mail, court text, clinical queries...)

Every record is unique: sizes above what a source holds are reached by joining two of its texts, never by
repeating one (a result cache or a de-duplicating sink would otherwise make the bigger cells cheaper).
Each shape is written twice: the input prepkit reads (JSONL or CSV) and `texts.jsonl`, one line per text prepkit
scans (a CSV cell is one text, as it is one segment to prepkit), which is what vanilla Presidio is given.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.corpus import _pools, document, ticket

SHAPES = ("dense", "long", "tickets", "csv", "eval")
ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the checkout (a worktree deeper down finds the nearest one above it)
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "eval").is_dir()), ROOT.parent / "shared")


def _dense(pools: dict[str, list[str]], rng: random.Random) -> str:
    p = {k: rng.choice(v) for k, v in pools.items()}
    parts = [
        f"Customer {p['name']} (DOB {p['date']}, SSN {p['ssn']}) called from {p['phone']}.",
        f"Card {p['card']} was declined; refund to IBAN {p['iban']}.",
        f"Login from {p['ip']} on {rng.choice(pools['date'])}; mail {p['email']}.",
        f"Ship to {p['address']}. Agent {rng.choice(pools['name'])}, {p['city']} office.",
    ]
    rng.shuffle(parts)
    return " ".join(parts)


def _csv_rows(pools: dict[str, list[str]], rng: random.Random) -> Iterator[list[str]]:
    i = 0
    while True:
        i += 1
        note = _dense(pools, rng) if rng.random() < 0.3 else rng.choice(pools["sentence"])
        yield [f"C{i:08d}", rng.choice(pools["name"]), rng.choice(pools["email"]), rng.choice(pools["phone"]),
               rng.choice(pools["address"]), note]


def _sources(names: tuple[str, ...], folder: str) -> list[str]:
    texts: list[str] = []
    for n in names:
        with (SHARED / folder / f"{n}.jsonl").open(encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    return texts


def _long_texts() -> list[str]:
    """Sections of 1.5k–10k characters, cut at paragraph breaks."""
    out: list[str] = []
    for doc in _sources(("tab", "gum"), "train"):
        section: list[str] = []
        size = 0
        for para in doc.split("\n"):
            section.append(para)
            size += len(para) + 1
            if size >= 1500 and (size >= 10_000 or para.strip() == "" or len(out) % 3 == 0):
                out.append("\n".join(section).strip())
                section, size = [], 0
        if size >= 1500:
            out.append("\n".join(section).strip())
    return [t for t in out if 1500 <= len(t) <= 12_000]


def _unique(texts: list[str], rng: random.Random) -> Iterator[str]:
    """Every text once, then joined pairs (never a repeat)."""
    yield from texts
    n = len(texts)
    for k in range(1, n):
        for i in rng.sample(range(n), n):
            yield texts[i] + "\n\n" + texts[(i + k) % n]


def write(shape: str, out_dir: Path, size_bytes: int, seed: int = 11) -> dict[str, Any]:
    """Write `shape` at about `size_bytes` of input into out_dir; returns counts (cached by a marker file)."""
    done = out_dir / ".complete"
    if done.exists():
        return json.loads(done.read_text())  # type: ignore[no-any-return]
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    stats: dict[str, Any] = {"shape": shape, "bytes": 0, "records": 0, "chars": 0, "texts": 0}
    with (out_dir / "texts.jsonl").open("w", encoding="utf-8") as tx:
        if shape == "csv":
            pools = _pools(seed)
            with (out_dir / "customers.csv").open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["id", "name", "email", "phone", "address", "note"])
                for row in _csv_rows(pools, rng):
                    if stats["bytes"] >= size_bytes:
                        break
                    buf = io.StringIO()
                    csv.writer(buf).writerow(row)
                    fh.write(buf.getvalue())
                    stats["bytes"] += len(buf.getvalue().encode("utf-8"))
                    stats["records"] += 1
                    for cell in row[1:]:  # the id column is the record id, not scanned text
                        tx.write(json.dumps({"text": cell}, ensure_ascii=False) + "\n")
                        stats["texts"] += 1
                        stats["chars"] += len(cell)
        else:
            make: Callable[[], str]
            if shape == "dense":
                pools = _pools(seed)
                make = lambda: _dense(pools, rng)  # noqa: E731
            elif shape == "tickets":
                pools = _pools(seed)
                make = lambda: ticket(pools, rng) if rng.random() < 0.8 else document(pools, rng)  # noqa: E731
            else:
                src = _long_texts() if shape == "long" else _sources(
                    ("asq_phi", "enron_emailcoref", "inlegalner_judgment", "inlegalner_preamble", "presidio_synth",
                     "uner_ewt", "wnut17_test"), "eval")
                rng.shuffle(src)
                it = _unique(src, rng)
                make = lambda: next(it)  # noqa: E731
            with (out_dir / f"{shape}.jsonl").open("w", encoding="utf-8") as fh:
                i = 0
                while stats["bytes"] < size_bytes:
                    i += 1
                    text = make()
                    line = json.dumps({"id": f"{shape}-{i:08d}", "text": text}, ensure_ascii=False) + "\n"
                    fh.write(line)
                    tx.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
                    stats["bytes"] += len(line.encode("utf-8"))
                    stats["records"] += 1
                    stats["texts"] += 1
                    stats["chars"] += len(text)
    done.write_text(json.dumps(stats))
    return stats
