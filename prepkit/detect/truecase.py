"""Case habits: all-lowercase and ALL-CAPS texts, and a truecased copy of them for the NER model."""

from __future__ import annotations

import re

# spaCy's small NER model keys on capitals: in all-lowercase or ALL-CAPS text (chat, social media) it finds almost
# no names. Such a text also goes through NER as a truecased copy: every word that is not a function word gets a
# capital. The copy has the same length as the text, so the entities found in it address the original 1:1.
_WORD = re.compile(r"[^\W\d_]+")
_LOWER_SHARE = 0.9  # share of words starting lower-case for a text to count as "all lowercase"
_UPPER_SHARE = 0.6  # share of multi-letter ALL-CAPS words for a text to count as "shouting"


_NOT_PROSE = re.compile(r"\S*(?:://|www\.)\S*|@[ \t]?\w+|\bRT\b")
# An e-mail address is no prose either. A text whose words all sit inside addresses (a CSV e-mail cell) has nothing
# for a truecased copy to show NER, and was a second NER pass over every such cell: 7% of a CSV run's CPU.
_EMAIL = re.compile(r"[\w.+'’-]+@[\w-]+(?:\.[\w-]+)+")
_NEGATION = re.compile(r"\s?['’]\s?t\b")  # "don't", "wouldn ' t": the stem is no name


def case_mode(text: str) -> str | None:
    """"lower" for a mostly lower-case text, "upper" for a mostly ALL-CAPS one, "runs" for a mixed-case text with
    ALL-CAPS stretches, None when its case carries signal throughout."""
    # Links, @-handles and the retweet marker keep their own case whatever the writer's habit: not counted.
    words = _WORD.findall(_NOT_PROSE.sub(" ", text))
    if len(words) < 2 or len(_WORD.findall(_NOT_PROSE.sub(" ", _EMAIL.sub(" ", text)))) < 2:
        return None
    if sum(w.isupper() and len(w) > 1 for w in words) >= _UPPER_SHARE * len(words):
        return "upper"
    if sum(w[0].islower() for w in words) >= _LOWER_SHARE * len(words):
        return "lower"
    if _CAPS_RUN.search(text):
        return "runs"  # shouting inside ordinary text ("... THIS IS BARTHOLOMEW CHRISTOPHER WRITING AGAIN.")
    return None


# Two or more ALL-CAPS words in a row, one of them at least four letters long (not "IT HR"): a shouted stretch of
# an otherwise mixed-case text. Deciding the case habit per text missed these: the text as a whole is not shouting.
_CAPS_RUN = re.compile(r"\b(?=[A-Z'’ ,]*[A-Z]{4})[A-Z][A-Z'’]+(?:[ \t,]+[A-Z][A-Z'’]+)+\b")


def truecase(text: str, mode: str | None) -> str | None:
    """A same-length copy of `text` where every word that is not a function word has a capital (an ALL-CAPS text
    is lower-cased first); None when `mode` is None or a letter changes length with case ("İ").

    Capitalizing only the tagger's nouns was measured too: the tagger mislabels lower-case names, so fewer names
    came back."""
    from spacy.lang.en.stop_words import STOP_WORDS

    if mode is None:
        return None
    if mode == "runs":  # only the shouted stretches change; the rest keeps the case it was written in
        chars = list(text)
        spans = [m.span() for m in _CAPS_RUN.finditer(text)]
        for a, b in spans:
            low = text[a:b].lower()
            if len(low) != b - a:
                return None
            chars[a:b] = list(low)
        words = [m for a, b in spans for m in _WORD.finditer(text, a, b)]
    else:
        chars = list(text.lower() if mode == "upper" else text)
        if len(chars) != len(text):
            return None
        words = list(_WORD.finditer(text))
    for m in words:
        w = m.group(0)
        if len(w) < 2 or w.lower() in STOP_WORDS or _NEGATION.match(text, m.end()):
            continue
        first = w[0].upper()
        if len(first) == 1:
            chars[m.start()] = first
    return "".join(chars)



# A "runs" copy differs from its text only inside the shouted stretches: NER reads it around them, not whole. The
# window reaches RUN_CONTEXT characters past each stretch (a sentence or two: NER's view of a token spans a few
# tokens each side); of what it finds, only entities within RUN_KEEP characters of a stretch count, so an entity
# cut by the window's edge is never taken.
RUN_CONTEXT = 300
RUN_KEEP = 150


def run_windows(text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(window start, window end, the shouted stretches it covers) for a "runs" text; windows snap to whitespace
    and never overlap."""
    out: list[tuple[int, int, list[tuple[int, int]]]] = []
    n = len(text)
    for m in _CAPS_RUN.finditer(text):
        lo, hi = max(0, m.start() - RUN_CONTEXT), min(n, m.end() + RUN_CONTEXT)
        while lo > 0 and not text[lo - 1].isspace() and m.start() - lo < 2 * RUN_CONTEXT:
            lo -= 1
        while hi < n and not text[hi].isspace() and hi - m.end() < 2 * RUN_CONTEXT:
            hi += 1
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi), [*out[-1][2], m.span()])
        else:
            out.append((lo, hi, [m.span()]))
    return out
