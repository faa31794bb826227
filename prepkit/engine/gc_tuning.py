"""The garbage collector's settings for processes that do batch work: the CLI and the engines' workers.

Detection allocates millions of short-lived container objects (spaCy tokens and spans, Presidio results, regex
matches), nearly all freed by reference counting, while the models' hundreds of thousands of long-lived objects sit
in the oldest generation. With CPython's default thresholds (700, 10, 10) the collector ran every 700 net
allocations and re-scanned the old generation every 100 young collections: 5–6% of a run's CPU on a corpus of short
records (bench/MATRIX.md's notes). With (100000, 50, 1000) a young collection runs ~140× less often and a full one
almost never, for about 20 MB more resident memory. Cycles are still collected.

Only processes prepkit owns are tuned (`prepkit` commands, pool workers, Ray actors); a program that imports
prepkit as a library keeps its own settings.
"""

from __future__ import annotations

import gc

THRESHOLDS = (100_000, 50, 1_000)


def tune_for_batch_work() -> None:
    gc.set_threshold(*THRESHOLDS)


def freeze_before_fork() -> None:
    """Move every object alive now into the permanent generation before forking workers that inherit them: the
    children's collections then never visit (and so never copy-on-write) the pages of the models they share."""
    gc.collect()
    gc.freeze()
