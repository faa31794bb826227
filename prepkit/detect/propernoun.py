"""The proper-noun pass: runs of proper nouns the NER model left unlabelled."""

from __future__ import annotations

import re
from typing import Any

import numpy
from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.attrs import IDX, IS_ALPHA, IS_STOP, LENGTH

from prepkit.detect.lexicon import common_words, known_names
from prepkit.detect.tables import _HONORIFICS

_ORG_CUES = re.compile(
    r"(?i)^(?:inc|ltd|llc|plc|corp|corporation|company|co|group|gmbh|ag|sa|bv|fc|university|college|school|"
    r"institute|bank|hospital|clinic|foundation|association|agency|ministry|department|council|party|club|"
    r"union|society|labs?|studios?|records|airlines?|motors|systems|technologies|news|times|post)\.?$")
_HONORIFIC_WORD = re.compile(rf"(?i)^(?:{_HONORIFICS})\.?$")
# The last word of a law's or a rule book's title: "the Negotiable Instruments Act" names no one.
_LAW_TITLE = re.compile(r"^(?:Act|Acts|Code|Ordinance|Rules|Regulations?|Bill|Amendment|Constitution)$")
_PLACE_PREPS = {"in", "at", "from", "to", "near", "into", "across", "around", "visit", "visiting", "via"}


# Greetings and sign-offs: the small tagger calls "Hi" in "Hi Anthony," a proper noun, and a lone "Hi" reported
# as a PERSON then fails the record's verification wherever else "Hi" appears (2.7% of Faker tickets were
# quarantined for it).
_SALUTATIONS = {"hi", "hello", "hey", "dear", "greetings", "thanks", "thank", "cheers", "regards", "bye", "goodbye",
                "morning", "afternoon", "evening", "welcome", "congratulations", "congrats"}


def _name_like(tok: Any, text: str) -> bool:
    """A capitalized proper noun that is not an abbreviation ("ZIP"), a label ("Phone:"), a greeting or a URL.
    `text` is the document's text (`doc.text` joins every token again on each read: quadratic in a loop)."""
    t = tok.text
    if tok.pos_ != "PROPN" or not t[:1].isupper() or tok.like_url or tok.like_email or tok.lower_ in _SALUTATIONS:
        return False
    if t.isupper() and len(t) <= 3 or t.endswith(".") or _HONORIFIC_WORD.match(t) or _no_name_word(tok, text):
        return False
    nxt = tok.nbor(1).text if tok.i + 1 < len(tok.doc) else ""
    return nxt != ":" or t.lower() not in _FIELD_LABELS


# Words that are capitalized but name no one, whatever the genre (each class measured on the seven dev sets, where
# the proper-noun pass was right on 0-4% of them): month and weekday abbreviations ("Date: Thu, 27 Dec 2001"); a
# party's role in a case or contract ("Petitioner", "Respondents", "Appellant"); codes with digits ("PW-5", "T2DM",
# "Chennai-9"); and short abbreviations cut off before their full stop ("Adv.", "Crl.P.", "Rs. 500").
_DATE_ABBREVIATIONS = {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon",
                       "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
_ROLE = re.compile(r"(?i)^(?:petitioner|respondent|appellant|applicant|plaintiff|defendant|complainant|claimant|"
                   r"accused|opponent|intervenor|intervener|deponent|caveator|objector|appellee|licensor|licensee|"
                   r"lessor|lessee|landlord|tenant|buyer|seller|vendor|purchaser|employer|employee|contractor|"
                   r"guarantor|borrower|lender|assignor|assignee|testator|executor|trustee|beneficiary)s?$")
_INNER_CAPITAL = re.compile(r"[a-z][A-Z]|^[A-Z]{2,}s$")
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|O'|O’|D'|D’|De|Di|Da|Du|La|Le|Van|Von|St)[A-Z][a-z]+(?:-[A-Z][a-z]+)*$")


def _no_name_word(tok: Any, text: str) -> bool:
    """A capitalized token of the document whose text is `text` that is no word of a name (see the classes above)."""
    return no_name_word(text, tok.idx, tok.idx + len(tok.text))


def no_name_word(text: str, start: int, end: int) -> bool:
    """Is the word text[start:end] of a class that names no one (see above)? Read from the text, so it applies to
    the NER model's guesses too."""
    t = text[start:end]
    low = t.lower()
    if low in _DATE_ABBREVIATIONS and low not in known_names() or _ROLE.match(t) or any(c.isdigit() for c in t):
        return True
    if text[end:end + 1] != ".":
        return False
    after = text[end + 1:end + 2]
    # "Crl.P.", "Rs.500"; or a short word that is no known name with more of the sentence after its full stop
    # ("Adv. Deepak"), unlike a name closing a line ("Thanks again Nina.", "Kingston, Ont.")
    return after.isalnum() or (after in (" ", "\t") and len(t) <= 4 and low not in known_names())


def _brand_like(tok: Any) -> bool:
    """Capitals inside a word: an acronym's plural, a brand or a hashtag compound ("PwC", "SoCalGas", "UTIs",
    "MissUniverse"), unless a name's prefix explains them ("McDonald", "DeShawn", "O'Brien")."""
    return _INNER_CAPITAL.search(tok.text) is not None and not _NAME_PREFIX.match(tok.text)


# Labels Presidio maps to an entity type; a span of another label (FAC, WORK_OF_ART...) hides nothing: spaCy's small
# model calls "my name is Priyanka Raghunathan" a facility, and Presidio drops FAC spans.
_NER_LABELS_USED = {"PERSON", "PER", "NORP", "LOC", "GPE", "ORG", "DATE", "TIME"}
# Field labels of forms and headers ("Name: ...", "Phone: ..."); a capitalized word before a colon is otherwise a
# speaker in a dialogue ("Alice: ...") and a name.
_FIELD_LABELS = {"name", "address", "phone", "email", "e-mail", "date", "website", "mobile", "fax", "desk", "note",
                 "notes", "subject", "from", "to", "re", "cc", "where", "when", "title", "company", "city", "country",
                 "zip", "state", "street", "tel", "dob", "id", "ref", "summary", "description", "status", "type",
                 "location", "time", "position", "department", "office", "home", "work", "cell", "answer",
                 "question", "q", "a", "user", "customer", "agent", "assistant", "system", "update", "warning",
                 "error", "info", "personal", "contact", "directed", "starring", "genre", "rating", "hint", "tip",
                 "example", "edit", "source", "sources", "link", "links", "tags", "category", "reply", "comment",
                 "owner", "author", "manager", "approver", "reviewer", "attendees", "participants", "reporter",
                 "assignee", "requester"}
_BOUNDARY = {".", "!", "?", ":", ";", '"', "“", "”", ">", "…", "-", "*", "•", "(", ")", "[", "]", "|"}


def _title_like(tok: Any, text: str) -> bool:
    """Orthography alone: capitalized, not all capitals, not a stop word, label, URL or honorific."""
    t = tok.text
    if not t[:1].isupper() or t.isupper() or tok.is_stop or tok.like_url or tok.like_email \
            or tok.lower_ in _SALUTATIONS:
        return False
    if not any(c.isalpha() for c in t) or t.endswith(".") or _HONORIFIC_WORD.match(t) or _no_name_word(tok, text):
        return False
    nxt = tok.nbor(1).text if tok.i + 1 < len(tok.doc) else ""
    return nxt != ":" or t.lower() not in _FIELD_LABELS


def _initial(tok: Any) -> bool:
    """A middle initial inside a name: "J", "H."."""
    t = tok.text.rstrip(".")
    return len(t) == 1 and t.isupper()


def _possessive_or_verb_after(doc: Any, j: int) -> bool:
    """A lone capitalized word opening a sentence is a name when a verb or a possessive follows it ("Jacob lives
    on...", "Trump's budget"); a capitalized common word opening a sentence is mostly followed by something else."""
    if j >= len(doc):
        return False
    nxt = doc[j]
    return nxt.text in {"'s", "’s", "'", "’"} or (nxt.pos_ in {"VERB", "AUX"} and nxt.text.islower())


# Tags of common words: a sentence opening "Passwords must...", "Report phishing..." is a plural noun or an
# imperative, not a person, even when a verb follows.
_COMMON_TAGS = {"NNS", "VB", "VBP", "VBZ", "MD"}


def _common_tag(tok: Any) -> bool:
    return bool(tok.tag_) and tok.tag_ in _COMMON_TAGS


_MD_HEADING = re.compile(r"#{1,6} ")


def _in_heading(doc: Any, text: str, i: int) -> bool:
    """Is token i of `doc`, whose text is `text`, on a Markdown heading line ("# Incident runbook")?"""
    line_start = text.rfind("\n", 0, doc[i].idx) + 1
    # "# Title" on its own line above more text; a one-line post opening with "# tag" (tokenized hashtags) is not
    return _MD_HEADING.match(text, line_start) is not None and text.find("\n", doc[i].idx) != -1


def _possessive_after(doc: Any, j: int) -> bool:
    return j < len(doc) and doc[j].text in {"'s", "’s", "'", "’"}


def _headline_case(doc: Any, text: str) -> bool:
    """Title Case Like A Headline: function words inside sentences carry capitals too, so a capital says nothing.
    `text` is the document's text (each read of `doc.text` joins all its tokens again)."""
    # Stop words of two letters or more ("i" is the only one-letter one) from whole-document arrays: a Python loop
    # over every token builds a Token object for each, which was most of this pass's time on long documents.
    if not len(doc):
        return False
    cols = doc.to_array([IS_STOP, IS_ALPHA, LENGTH, IDX])
    candidates = numpy.flatnonzero((cols[:, 0] == 1) & (cols[:, 1] == 1) & (cols[:, 2] > 1))
    if len(candidates) < 3:
        return False
    stops = upper = 0
    for i, at in zip(candidates.tolist(), cols[candidates, 3].tolist(), strict=True):
        if not _sentence_start(doc, i):
            stops += 1
            upper += text[at].isupper()
    return stops >= 3 and upper >= 0.5 * stops


def _sentence_start(doc: Any, i: int) -> bool:
    k = i - 1
    while k >= 0 and (doc[k].is_space or doc[k].text in {"?", "??", "???"}):
        if "\n" in doc[k].text:
            return True
        k -= 1
    return k < 0 or doc[k].text in _BOUNDARY or "\n" in doc[k].text_with_ws


EVIDENCE_KEY = "prepkit_evidence"
# Words right before a run that say a person's name follows: an honorific, a greeting, an introduction.
_PERSON_CUES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "shri", "sri", "smt", "kumari", "mister",
                "madam", "dear", "hi", "hello", "hey", "thanks", "named", "called", "signed", "regards", "cheers",
                "sincerely", "cc", "attn", "attention", "by"}
_INTRODUCTIONS = {("name", "is"), ("this", "is"), ("i", "am"), ("i", "'m"), ("i", "’m"), ("it", "'s"), ("it", "’s")}


def _evidence(doc: Any, i: int, j: int, speaker: bool) -> str | None:
    """Why the capitalized run doc[i:j] is a name: "cue" (an honorific, greeting or introduction before it),
    "name" (one of its words is a known given or family name), "speaker" (a colon after it, as in a transcript),
    "rare" (one of its words is no common English word); None when every word is a common word and no cue
    precedes it: a form label ("Patient:", "Medical Record Number:") has a colon too."""
    k = i - 1
    while k >= 0 and doc[k].text in {".", ","}:
        k -= 1
    if (k >= 0 and doc[k].lower_ in _PERSON_CUES) or (
            k >= 1 and (doc[k - 1].lower_, doc[k].lower_) in _INTRODUCTIONS):
        return "cue"
    words = [w.casefold() for t in doc[i:j] for w in _LETTERS.findall(t.text)]
    if any(w in known_names() for w in words):
        return "name"
    common = common_words()
    if not words or all(w in common for w in words):
        return None
    return "speaker" if speaker else "rare"


_LETTERS = re.compile(r"[^\W\d_]+")


class ProperNounRecognizer(LocalRecognizer):
    """Runs of proper nouns that the NER model left unlabelled.

    In informal text (chats, social media) the small NER model misses many names. With spaCy's tagger in the
    pipeline a run of PROPN tokens is taken; without it (the engine may drop the tagger for speed) a run of
    capitalized words that are not stop words, where a lone capitalized word that starts a sentence or line does
    not count. An unlabelled run is a PERSON, a LOCATION after "in/at/from/to", an ORGANIZATION when it ends in
    an organisation word. A run needs evidence beyond its capitals (see `_evidence`). Scored low: a policy can
    raise its threshold above SCORE to turn this off.
    """

    SCORE = 0.5

    def __init__(self, language: str = "en"):
        super().__init__(supported_entities=["PERSON", "LOCATION", "ORGANIZATION"],
                         name="PrepkitProperNounRecognizer", supported_language=language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        doc = getattr(nlp_artifacts, "tokens", None)
        if doc is None:
            return []
        # the document's text: spaCy's tokenizer loses nothing, so it is `text`, the string the document was made
        # from (checked by its length; each read of doc.text joins all its tokens again)
        dtext = text if len(doc) and doc[-1].idx + len(doc[-1].text_with_ws) == len(text) else doc.text
        headline = _headline_case(doc, dtext)
        tagged = doc.has_annotation("TAG")
        if tagged:
            def name_like(t: Any) -> bool:
                return _name_like(t, dtext) or _title_like(t, dtext)
        else:
            def name_like(t: Any) -> bool:
                return _title_like(t, dtext)
        covered: set[int] = set()
        for ent in doc.ents:  # labels Presidio ignores (WORK_OF_ART, PRODUCT, CARDINAL...) hide nothing
            if ent.label_ in _NER_LABELS_USED:
                covered.update(range(ent.start, ent.end))
        # A name word and an initial start with a capital: the other tokens are passed over without building a
        # Token object for each (that was most of this pass's time).
        cap = [dtext[k].isupper() for k in doc.to_array(IDX).tolist()]
        out: list[RecognizerResult] = []
        i, n = 0, len(doc)
        while i < n:
            if i in covered or not cap[i] or not name_like(tok := doc[i]):
                i += 1
                continue
            j = i + 1
            while j < n and j not in covered and cap[j]:
                if name_like(doc[j]):
                    j += 1
                elif not tagged and _initial(doc[j]) and j + 1 < n and cap[j + 1] and name_like(doc[j + 1]):
                    j += 2
                else:
                    break
            speaker = j < n and doc[j].text == ":"  # "Alice: ..." in a transcript (form labels are already out)
            if j == i + 1 and not speaker and (headline or not (tagged and _name_like(tok, dtext)) and _sentence_start(
                    doc, i) and (_common_tag(tok) and not _possessive_after(doc, j)
                                 or not _possessive_or_verb_after(doc, j))):
                i = j
                continue
            if _in_heading(doc, dtext, i):
                i = j  # a Markdown heading is title case by convention: its capitals name no one
                continue
            evidence = _evidence(doc, i, j, speaker)
            if j == i + 1 and _ORG_CUES.match(tok.text):
                evidence = None  # an organisation word alone names nothing ("Post updates every 30 minutes")
            if evidence is None:
                i = j  # capitals alone: a form label, heading word or legal term ("Patient", "Section")
                continue
            if j - i > 1 and _LAW_TITLE.match(doc[j - 1].text):
                i = j  # a law's title ("Dowry Prohibition Act"), not a person
                continue
            prev = doc[i - 1].lower_ if i > 0 else ""
            if _ORG_CUES.match(doc[j - 1].text):
                label = "ORGANIZATION"
            elif prev in _PLACE_PREPS and evidence != "name":  # "from Priyanka ..." is a person
                label = "LOCATION"
            else:
                label = "PERSON"
            if label == "PERSON" and evidence not in ("cue", "name") and (
                    all(doc[k].text.isupper() for k in range(i, j)) or any(_brand_like(doc[k]) for k in range(i, j))):
                # Acronyms and brand-like words ("PIRA", "SCGC", "SoCalGas", "NiMo") name organisations far more
                # often than people (on the dev sets 2 of ~250 such guesses were people); a shouted heading
                # ("NEED HELP") is wrong either way.
                label = "ORGANIZATION"
            if not entities or label in entities:
                start, end = tok.idx, doc[j - 1].idx + len(doc[j - 1].text)
                out.append(RecognizerResult(label, start, end, self.SCORE, recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: "PrepkitProperNounRecognizer",
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id, EVIDENCE_KEY: evidence}))
            i = j
        return out

