"""Retrieval quality of the RAG embedders on a small labelled set (bench/rag_queries.jsonl).

30 short HR / IT / customer-support passages and 30 questions written as a user would ask them (paraphrases,
little word overlap). Each embedder gets a real encrypted store built by RagWriter and answers through the same
role-filtered query path as `prepkit rag query`. Prints recall@1, recall@5 and MRR per embedder.

    .venv/bin/python bench/rag_quality.py [--embedder NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prepkit.keys import KeyRing  # noqa: E402
from prepkit.policy import load_policy  # noqa: E402
from prepkit.rag import RagWriter, run_query  # noqa: E402
from prepkit.records import Decision, Record, Result, Route, Segment, Transformed, Verification  # noqa: E402

POLICY = """\
version: 1
name: bench
detection: {{entities: [PERSON]}}
actions: {{DEFAULT: {{operator: redact}}}}
routing: {{default: {{route: rag, reason: bench}}}}
outputs: {{rag: {{embedder: "{embedder}"}}}}
access: {{roles: {{reader: [internal]}}}}
"""


def load_set(path: Path) -> tuple[dict[str, str], list[tuple[str, set[str]]]]:
    chunks, queries = {}, []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["type"] == "chunk":
            chunks[row["id"]] = row["text"]
        else:
            queries.append((row["query"], set(row["relevant"])))
    return chunks, queries


def evaluate(embedder: str, chunks: dict[str, str], queries: list[tuple[str, set[str]]]) -> dict[str, float]:
    key = KeyRing.from_bytes(b"\x42" * 32, "bench")
    with tempfile.TemporaryDirectory() as tmp:
        pol = Path(tmp) / "policy.yaml"
        pol.write_text(POLICY.format(embedder=embedder))
        w = RagWriter(Path(tmp) / "out", load_policy(pol, run_checks=False), key)
        for cid, text in chunks.items():
            w.add(Result(Record(cid, cid, "text", [Segment("text", text)]), [], Transformed([text]),
                         Verification(), Decision(Route.RAG, "bench")))
        w.close()
        r1 = r5 = rr = 0.0
        t0 = time.perf_counter()
        for q, relevant in queries:
            ids = [h.chunk.record_id for h in run_query(Path(tmp) / "out", q, "reader", key, k=5,
                                                          audit_path=None).hits]
            r1 += bool(ids[:1] and ids[0] in relevant)
            r5 += bool(relevant.intersection(ids))
            rr += next((1 / (i + 1) for i, x in enumerate(ids) if x in relevant), 0.0)
        ms = (time.perf_counter() - t0) / len(queries) * 1000
    n = len(queries)
    return {"embedder": embedder, "queries": n, "chunks": len(chunks), "recall@1": round(r1 / n, 3),
            "recall@5": round(r5 / n, 3), "mrr@5": round(rr / n, 3), "ms_per_query_incl_open": round(ms, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embedder", action="append", default=None)
    ap.add_argument("--set", type=Path, default=ROOT / "bench" / "rag_queries.jsonl")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    chunks, queries = load_set(args.set)
    rows = [evaluate(e, chunks, queries) for e in args.embedder or ["builtin:minilm-m2v", "hashing"]]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'embedder':<24} {'recall@1':>9} {'recall@5':>9} {'MRR@5':>7}   ({len(queries)} queries, {len(chunks)} chunks)")
    for r in rows:
        print(f"{r['embedder']:<24} {r['recall@1']:>9.3f} {r['recall@5']:>9.3f} {r['mrr@5']:>7.3f}")


if __name__ == "__main__":
    main()
