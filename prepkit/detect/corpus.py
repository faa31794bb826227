"""Corpus-wide recall: a value detected anywhere in a run is caught everywhere in it.

A full name detected in a support ticket can be missed in the same customer's two-line follow-up ("Follow-up
from <name> (<e-mail>)."): the NER model sees too little context there. Every value a record's detection keeps
(names, e-mail addresses, ...) goes into a dictionary, and every record is matched against it. Records seen
before a value was first detected are found through an index of their candidate spans and re-checked before
their outputs are final, so a person is protected everywhere or nowhere.

The dictionary is keyed and never holds plaintext: entries are HMAC-SHA256 digests, under the run's key, of the
value's normalised form (NFKC, case-folded, whitespace collapsed); the index of earlier records holds digests
of their candidate spans only (runs of capitalized words, e-mail addresses). Nothing here can be read back
into a value without the key and a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from prepkit.detect.lexicon import common_words
from prepkit.records import Finding

# Types whose values are names or addresses a person is found by; numbers have their own checks (verification
# finds a detected number's digits in any layout).
DEFAULT_TYPES = frozenset({"PERSON", "EMAIL_ADDRESS"})
MAX_WORDS = 4  # longest value, in words, looked up in a record
_DIGEST_BYTES = 16
_TOKEN = re.compile(r"[^\W_](?:[\w'’.@+-]*[^\W_])?")
_WS = re.compile(r"\s+")
DETECTOR = "corpus"


def _norm(value: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def _candidate(words: Sequence[str]) -> bool:
    """A span worth looking up: one e-mail address, or capitalized words (a name is written with capitals; the
    same letters in lower case are a common word: "Rose" the person, "rose" the flower)."""
    if len(words) == 1 and "@" in words[0]:
        return True
    return all(w[:1].isupper() or w[:1].isdigit() for w in words) and any(w[:1].isupper() for w in words)


@dataclass
class CorpusRecall:
    """The run's dictionary of detected values and the index of the records already seen."""

    key: bytes
    entity_types: frozenset[str] = DEFAULT_TYPES
    _values: dict[bytes, str] = field(default_factory=dict)  # digest -> entity type
    _seen: dict[bytes, set[str]] = field(default_factory=dict)  # candidate digest -> ids of records holding it

    def _digest(self, normalised: str) -> bytes:
        return hmac.new(self.key, normalised.encode("utf-8"), hashlib.sha256).digest()[:_DIGEST_BYTES]

    def _spans(self, text: str) -> list[tuple[int, int, bytes]]:
        """(start, end, digest) of every candidate span of up to MAX_WORDS words."""
        toks = [m for m in _TOKEN.finditer(text)]
        out = []
        for i in range(len(toks)):
            for j in range(i, min(i + MAX_WORDS, len(toks))):
                if j > i and not text[toks[j - 1].end():toks[j].start()].isspace():
                    break  # words of one value are separated by spaces only ("Smith, Ann" is two values)
                words = [t.group() for t in toks[i:j + 1]]
                if not _candidate(words):
                    break
                s, e = toks[i].start(), toks[j].end()
                out.append((s, e, self._digest(_norm(text[s:e]))))
        return out

    def learn(self, texts: Sequence[str], findings: Sequence[Finding]) -> set[bytes]:
        """Add the values of one record's kept findings; the digests that are new to the run."""
        new: set[bytes] = set()
        common = common_words()
        for f in findings:
            if f.entity_type not in self.entity_types or f.detector == DETECTOR:
                continue
            value = _norm(texts[f.segment][f.start:f.end])
            if len(value) < 3 or (" " not in value and value in common):
                continue  # too short to tell apart, or a common word a detector took for a name
            d = self._digest(value)
            if d not in self._values:
                self._values[d] = f.entity_type
                new.add(d)
        return new

    def match(self, texts: Sequence[str], findings: Sequence[Finding] = ()) -> list[Finding]:
        """Mentions of known values in one record that its findings of the same type do not cover (longest
        first). A mention found under another type ("from Priyanka ..." as a place) is returned all the same:
        the run knows better what it is."""
        out: list[Finding] = []
        for si, text in enumerate(texts):
            taken = [(f.start, f.end) for f in findings if f.segment == si and f.entity_type in self.entity_types]
            for s, e, d in sorted(self._spans(text), key=lambda x: (x[0], -(x[1] - x[0]))):
                etype = self._values.get(d)
                if etype is None or any(s < te and ts < e for ts, te in taken):
                    continue
                out.append(Finding(si, s, e, etype, 1.0, DETECTOR))
                taken.append((s, e))
        return out

    def process(self, record_id: str, texts: Sequence[str], findings: Sequence[Finding]
                ) -> tuple[list[Finding], set[str]]:
        """One record in run order: learn its values, index its candidate spans, and return the extra findings
        for it plus the ids of earlier records that hold a value first detected here (re-check those with
        `match` before their outputs are final)."""
        new = self.learn(texts, findings)
        recheck = {rid for d in new for rid in self._seen.get(d, ()) if rid != record_id}
        for text in texts:
            for _, _, d in self._spans(text):
                self._seen.setdefault(d, set()).add(record_id)
        return self.match(texts, findings), recheck
