"""Keep third-party libraries from reaching the network at run time.

Presidio's email recognizer calls `tldextract.extract`, whose default extractor fetches the public-suffix list in
every fresh process (and waits on DNS when offline). Swap in an extractor that only uses the snapshot tldextract
ships, with no cache directory.
"""

from __future__ import annotations

import os

_done = False


def make_offline() -> None:
    global _done
    if _done:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import tldextract
    import tldextract.tldextract as tx

    tx.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    _done = True
