"""prepkit's post-filter of the analyzer's results: Presidio's and the NER model's known false positives, and one
finding per value."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from prepkit.detect.lexicon import is_place, known_names, proper_words
from prepkit.detect.propernoun import _HONORIFIC_WORD, _ORG_CUES, no_name_word

# Types whose pattern recognizers validate (checksum, strict format): when one of them overlaps a weaker guess,
# the guess is the false positive (a Luhn-valid card number is not also a driver's licence or a date).
_VALIDATED = {"CREDIT_CARD", "IBAN_CODE", "US_SSN", "EMAIL_ADDRESS", "IP_ADDRESS", "NPI", "MEDICAL_RECORD_NUMBER"}
_WEAK_ON_NUMBERS = {"US_DRIVER_LICENSE", "US_BANK_NUMBER", "US_PASSPORT", "DATE_TIME", "PHONE_NUMBER", "URL",
                    "US_ITIN", "ORGANIZATION", "PERSON", "LOCATION", "NRP", "ZIP_CODE", "AGE"}
# NER guesses that prepkit's cued rules override (a "35-year-old" is an AGE, not a DATE_TIME).
_NER_TYPES = {"DATE_TIME", "ORGANIZATION", "PERSON", "NRP", "LOCATION"}
_DATE_WORDS = re.compile(
    r"(?i)\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|"
    r"fri|sat(?:ur)?|sun)(?:day)?\b|\b(?:yesterday|today|tomorrow|tonight|christmas|easter|thanksgiving)\b")
_YEAR = re.compile(r"(?:1[6-9]|20)\d\d|'\d\d|\d\d?(?:st|nd|rd|th)?")


def _recognizer(r: RecognizerResult) -> str:
    return str((r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, ""))


def _overlaps(a: RecognizerResult, b: RecognizerResult) -> bool:
    return a.start < b.end and b.start < a.end


def _trim(text: str, r: RecognizerResult, hits: list[RecognizerResult]) -> bool:
    """Cut an NER span back to the part before/after the findings it overlaps ("Barbara Yudina Apt" next to the
    address "Apt. 675 ..." keeps "Barbara Yudina"); False when too little of it is left to be a name."""
    start, end = r.start, r.end
    for h in hits:
        if h.start <= start < h.end:
            start = h.end
        if h.start < end <= h.end:
            end = h.start
        if start < h.start and h.end < end:  # a finding inside the span: keep the longer side
            if h.start - start >= end - h.end:
                end = h.start
            else:
                start = h.end
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    if end - start < 2:
        return False
    r.start, r.end = start, end
    return True


def refine(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop Presidio's known false positives; call on the analyzer's results for one text, before thresholds.

    - a span that overlaps a validated identifier (card, IBAN, SSN, e-mail...) of another type: e.g. the
      driver's-licence and bank-number patterns fire on every 16-digit card number, the URL recognizer on the
      domain of every e-mail address;
    - an NER guess inside a finding of one of prepkit's cued rules (an age, a street address, a ZIP code); one
      that overlaps such a finding only in part is cut back to the rest;
    - a DATE_TIME that names no date: no digit, month, weekday or holiday ("a few months ago", "the first year")
      or a bare number that cannot be a year or day ("91196" is a postcode, not a date).
    """
    strong = [r for r in results if r.entity_type in _VALIDATED and r.score >= 0.5]
    ours = [r for r in results if _recognizer(r).startswith("Prepkit") and r.score >= 0.5
            and _recognizer(r) != "PrepkitProperNounRecognizer"]
    others = [r for r in results if _recognizer(r) != "PrepkitProperNounRecognizer"]
    out = []
    for r in results:
        if _recognizer(r) == "PrepkitProperNounRecognizer" and any(_overlaps(r, o) for o in others):
            continue
        if r.entity_type in _WEAK_ON_NUMBERS and any(
                s is not r and s.entity_type != r.entity_type and _overlaps(r, s) for s in strong):
            continue
        if r.entity_type in _NER_TYPES and not _recognizer(r).startswith("Prepkit"):
            hits = [o for o in ours if o.entity_type != r.entity_type and _overlaps(r, o)]
            if hits:
                head = r.start
                if any(h.start <= r.start and r.end <= h.end for h in hits) or not _trim(text, r, hits):
                    continue  # an NER guess inside a cued finding ("35-year-old" as a date) is the cued one's
                # Overlapping only in part, the rest of the guess is kept ("16 November" of "16 November 2004"
                # when a rule claims "2004 ..."); after an honorific it is a person whatever NER called it
                # ("Mr Antoni Janus" as an ORG).
                if r.entity_type != "PERSON" and any(h.entity_type == "TITLE" and h.start <= head < h.end
                                                     and _HONORIFIC_WORD.match(text[h.start:h.end]) for h in hits):
                    r.entity_type = "PERSON"
        if r.entity_type == "DATE_TIME" and not _recognizer(r).startswith("Prepkit"):
            value = text[r.start:r.end]
            if not _DATE_WORDS.search(value):
                continue
            if value.isdigit() and not _YEAR.fullmatch(value):
                continue
        if r.entity_type in _NER_TYPES and _URLISH.search(text[r.start:r.end]):
            continue  # NER models tag links as names; the URL recognizer owns those
        if r.entity_type in _NER_TYPES and text[r.start:r.end].upper() in _COMMON_ACRONYMS:
            continue  # "my SSN is", "the ATM", "LOL": the small model calls any short all-caps word an ORG
        if r.entity_type == "ORGANIZATION" and _recognizer(r) == "SpacyRecognizer" and text[r.start].isupper() \
                and _LONE_NAME.fullmatch(text[r.start:r.end]) and not _ORG_CUES.match(text[r.start:r.end]) \
                and not _famous(text[r.start:r.end]):
            # the small model's ORG for one unknown capitalized word is more often a name; for a frequent word
            # mostly written capitalized that is no given or family name ("Google", "Hamas") it is the ORG it said
            r.entity_type = "PERSON"
        elif _recognizer(r) == "PrepkitHandleRecognizer" and _ORG_HANDLE.search(text[r.start:r.end]):
            r.entity_type = "ORGANIZATION"  # @nytimes, @CBSSports: an outlet's or a company's account
        elif r.entity_type == "PERSON" and _recognizer(r) == "SpacyRecognizer" and _AT_PLACE.search(
                text, max(0, r.start - 20), r.start):
            r.entity_type = "LOCATION"  # "lives in Kerry", "dinner at Olive Garden": people are not "in" a person
        if r.entity_type == "PERSON" and _recognizer(r) == "SpacyRecognizer" and _ONE_WORD.fullmatch(
                text, r.start, r.end) and no_name_word(text, r.start, r.end):
            # "Petitioners", "Adv.", "Thu": the proper-noun pass's non-name classes, guessed by NER; a code with
            # digits ("#RS-234567") is kept: it may be an identifier no rule knows, the wrong label still masks it
            continue
        if r.entity_type in ("PERSON", "ORGANIZATION") and _recognizer(r) in _NAME_GUESSERS \
                and is_place(text[r.start:r.end]):
            r.entity_type = "LOCATION"  # "Ernakulam", "Begusarai": the small model takes many places for people
        if r.entity_type == "PHONE_NUMBER" and _SSN_SHAPE.fullmatch(text, r.start, r.end):
            r.entity_type = "US_SSN"  # 3-2-4 is an SSN's shape, never a phone number's (3-3-4): "078-05-1120"
            r.score = max(r.score, 0.6)
        if r.entity_type == "PERSON" and (lead := _SALUTATION_LEAD.match(text, r.start, r.end)) is not None:
            if lead.end() >= r.end:
                continue  # the whole span is a greeting
            r.start = lead.end()  # NER's "Hello Sam": the name is "Sam", the greeting stays in the text
        out.append(r)
    return _merge_same_type(out)


_SALUTATION_LEAD = re.compile(r"(?i)(?:hi|hello|hey|dear|greetings|thanks|thank\s+you|cheers|regards|bye|goodbye|"
                              r"good\s+(?:morning|afternoon|evening)|welcome|congratulations|congrats)\b[\s,!.:;]*")


_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_NAME_GUESSERS = {"SpacyRecognizer", "PrepkitProperNounRecognizer"}
_ONE_WORD = re.compile(r"[^\s.\d]+")  # one word without digits
_URLISH = re.compile(r"://|^www\.", re.IGNORECASE)
# Words that name a media outlet, company or team account inside a handle (anywhere: handles have no spaces).
_ORG_HANDLE = re.compile(r"(?i)news|radio|tv$|fm$|official|hq$|daily|magazine|mag$|times|post$|sports?$|fc$|club|"
                         r"team|inc$|media|records|network|press$|journal|weekly|store|shop$|studios?$|channel|music")
# Abbreviations of forms, banking and chat that are nobody's name.
_COMMON_ACRONYMS = {
    "SSN", "ATM", "PIN", "ID", "DOB", "ZIP", "FAQ", "ASAP", "FYI", "LOL", "LMAO", "OMG", "IMO", "IMHO", "TBH", "BTW",
    "DM", "PM", "AM", "AMA", "ITT", "TIL", "ELI5", "TL;DR", "TLDR", "IRL", "AFAIK", "IDK", "SMH", "OK",
    "CEO", "CFO", "CTO", "HR", "IT", "PDF", "URL", "USB", "PC", "TV", "DIY", "ETA", "RSVP", "NB", "PS", "VIP",
    "IP", "VPN", "API", "SMS", "OTP", "MFA", "2FA", "SSO", "CSV",  # support-ticket words ("came from IP 10.0.0.1")
}
_AT_PLACE = re.compile(r"(?i)\b(?:in|at|near|into|across|around|visiting|visit)\s+(?:the\s+)?$")
_LONE_NAME = re.compile(r"[^\W\d_][^\W\d_A-Z]+")  # one capitalized word, no acronym ("Corbyn", not "NASA")


def _famous(word: str) -> bool:
    w = word.casefold()
    return w in proper_words() and w not in known_names()


def _merge_same_type(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Overlapping findings of one type become one span (their union), so one value is one finding."""
    by_type: dict[str, list[RecognizerResult]] = {}
    for r in results:
        by_type.setdefault(r.entity_type, []).append(r)
    out: list[RecognizerResult] = []
    for rs in by_type.values():
        rs.sort(key=lambda r: (r.start, -r.end))
        cur = rs[0]
        for r in rs[1:]:
            if r.start < cur.end:
                if r.score > cur.score:  # keep the more confident finding's provenance
                    r.start, r.end = cur.start, max(cur.end, r.end)
                    cur = r
                else:
                    cur.end = max(cur.end, r.end)
            else:
                out.append(cur)
                cur = r
        out.append(cur)
    return sorted(out, key=lambda r: (r.start, r.end, r.entity_type))

