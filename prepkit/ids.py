"""Record ids a run can rely on: unique within the run, whatever the input holds.

Two input records with one id (a JSONL `id` repeated, two files each with a row "1") would otherwise collide
wherever outputs are keyed by id: the RAG store (its primary key), the subject index `prepkit forget` reads, the
fine-tune rows a later erasure removes. The first record keeps its id; each later one with the same id gets
`ID#2`, `ID#3`, … in input order (skipping any id already seen), so the same inputs always give the same ids,
resume and worker counts included. A later record whose own id was taken this way is renamed in turn.
"""

from __future__ import annotations

from dataclasses import replace

from prepkit.records import Record

DUPLICATE_MARK = "#"


class UniqueIds:
    """Feed every record of a run through `assign`, in input order."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.next_n: dict[str, int] = {}
        self.renamed = 0

    def assign(self, record: Record) -> Record:
        rid = record.id
        if rid not in self.seen:
            self.seen.add(rid)
            return record
        n = self.next_n.get(rid, 2)
        while f"{rid}{DUPLICATE_MARK}{n}" in self.seen:
            n += 1
        self.next_n[rid] = n + 1
        new = f"{rid}{DUPLICATE_MARK}{n}"
        self.seen.add(new)
        self.renamed += 1
        return replace(record, id=new)
