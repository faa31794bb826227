"""Build prepkit/detect/proper_words.json: frequent English words that are mostly written capitalized.

    pip download spacy-lookups-data==1.0.5 --no-deps -d /tmp/lk     # 98 MB wheel, MIT (ExplosionAI GmbH)
    .venv/bin/python bench/proper_words.py /tmp/lk/spacy_lookups_data-1.0.5-py2.py3-none-any.whl [../shared/train]

wordfreq's list of frequent English words is case-folded: "Trump", "Google", "Putin", "Hamas" and "Scotland" are
among its 20,000 most frequent words, so a name made of them looked like a capitalized common word ("Change",
"Patient") and lost its evidence. spaCy's English lexeme probabilities (`en_lexeme_prob`, the unigram
log-probabilities of spaCy v2's English vocabulary, shipped in spacy-lookups-data under the MIT license) are
case-sensitive: a word whose capitalized form is at least as probable as its lower-case form — sentence openings
included, so an ordinary word ("Change", "Court", "Article") stays well below — is a proper noun that happens to
be frequent, not a common word. Only the words of `prepkit.detect.lexicon`'s frequent-word list are kept (the
table says nothing about the others), and only words of letters (contractions are split by the evidence test).

That table is from before 2016: "Trump" was still mostly a card game's verb in it. The labelled NER corpora of
../shared/train add the frequent words that, seen at least MIN_SEEN times there, were a whole name on their own
(a PERSON / ORGANIZATION / LOCATION / NRP span of that one word, "the" aside) at least half the time: "Trump",
"Twitter", "NASA". Only the corpora under CC-BY-4.0 or MIT are read (btc, tab, wikigold, wnut17; attribution in
the table's `source`); a word that is only part of names ("Court" of "Supreme Court") is not taken.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prepkit.detect.lexicon import COMMON_WORDS, frequent_words  # noqa: E402

SOURCE = ["spacy-lookups-data 1.0.5, spacy_lookups_data/data/en_lexeme_prob.json.gz (MIT, ExplosionAI GmbH)",
          "Broad Twitter Corpus (Derczynski et al., CC-BY-4.0), Text Anonymization Benchmark (Norsk Regnesentral, "
          "MIT), WikiGold (Balasuriya et al., CC-BY-4.0), WNUT-17 train+dev (Derczynski et al., CC-BY-4.0)"]
CORPORA = ("btc", "tab", "wikigold", "wnut17")
MIN_SEEN = 5
WHOLE_NAME_SHARE = 0.5
_NAME_LABELS = {"PERSON", "ORGANIZATION", "LOCATION", "NRP"}
_WORD = re.compile(r"[^\W\d_]+")
MEMBER = "spacy_lookups_data/data/en_lexeme_prob.json.gz"
CAPITALIZED_SHARE = 0.5  # P(Word) / (P(Word) + P(word)) at or above which a word counts as a proper noun


def whole_names(train: Path, frequent: set[str]) -> set[str]:
    """Frequent words that the labelled corpora saw as a one-word name at least WHOLE_NAME_SHARE of the time."""
    seen: Counter[str] = Counter()
    named: Counter[str] = Counter()
    for corpus in CORPORA:
        for line in (train / f"{corpus}.jsonl").open(encoding="utf-8"):
            doc = json.loads(line)
            text = doc["text"]
            ones = set()
            for s in doc["spans"]:
                if s["label"] in _NAME_LABELS:
                    ws = list(_WORD.finditer(text, s["start"], s["end"]))
                    if ws and ws[0].group().lower() == "the":
                        ws = ws[1:]
                    if len(ws) == 1:
                        ones.add(ws[0].span())
            for m in _WORD.finditer(text):
                w = m.group().casefold()
                if w in frequent:
                    seen[w] += 1
                    named[w] += m.span() in ones
    return {w for w, n in seen.items() if n >= MIN_SEEN and named[w] >= WHOLE_NAME_SHARE * n}


def main(wheel: str, train: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        probs: dict[str, float] = json.loads(gzip.decompress(z.read(MEMBER)))
    words = set(whole_names(train, set(frequent_words())))
    for w in frequent_words():
        if not w.isalpha():
            continue
        cap = probs.get(w[:1].upper() + w[1:])
        if cap is None:
            continue
        low = probs.get(w)
        share = 1.0 if low is None else math.exp(cap) / (math.exp(cap) + math.exp(low))
        if share >= CAPITALIZED_SHARE:
            words.add(w)
    out = ROOT / "prepkit" / "detect" / "proper_words.json"
    out.write_text(json.dumps({"source": SOURCE, "built_by": "bench/proper_words.py",
                               "rule": f"among the {COMMON_WORDS} most frequent English words (wordfreq): "
                                       f"capitalized share >= {CAPITALIZED_SHARE} in en_lexeme_prob, or a one-word "
                                       f"name >= {WHOLE_NAME_SHARE} of >= {MIN_SEEN} times in the corpora",
                               "words": sorted(words)}, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(len(words), "words ->", out)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared" / "train")
