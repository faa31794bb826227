"""Presidio's phone recognizer, with libphonenumber's work shared between regions and between texts.

Presidio runs libphonenumber's matcher once per supported region (eight by default) over the whole text, and
every run parses and validates every digit run again: on PII-dense records that was a third of all CPU, paid a
second time by the verification re-scan. The findings here are the same, found with less work:

- The matcher's control flow is kept as it is (its own `_find`, `_extract_match` and inner-match search, its
  retry budget), one matcher per region as before; only `_parse_and_verify`, where the time goes, is replaced.
- `_parse_and_verify` is a region-independent check of the candidate's shape and neighbours (brackets, page
  references, a letter or currency sign next to it) followed by `parse(candidate, region)` and validation, which
  are pure functions of (candidate, region). Their outcome is memoised per (candidate, region) for the process,
  so a digit run that cannot be a phone ("2024", "12", an IP octet) is parsed once per region per process, not
  once per region per occurrence.
- A candidate written with "+" parses to the same number whatever the default region, when the plus sign's
  country code is valid (libphonenumber takes the country from the number and the region's metadata is not read;
  the only region-dependent path, the retry after an unknown country code, never yields a number whose country
  came with the plus sign). Such a candidate is parsed and validated once for all regions.
- Validation (`_verify`) reads only the parsed number and the candidate, so it is memoised on both: the same
  local number under the US and Canadian defaults is validated once.

The shape checks are copied from phonenumbers.phonenumbermatcher (9.x) and run only once per candidate and
offset in a text. tests/test_detect_phones.py compares this recognizer with Presidio's on real and adversarial
texts; bench/profile_dense.py builds the corpus it was measured on.
"""

from __future__ import annotations

import re
from typing import Any

from phonenumbers import Leniency, NumberParseException, PhoneNumberMatch, PhoneNumberMatcher, parse
from phonenumbers import phonenumbermatcher as _pm
from phonenumbers.phonenumber import CountryCodeSource
from phonenumbers.re_util import fullmatch
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

# (candidate, region or "+") -> the parsed number when it is a valid phone number at the matcher's leniency,
# else None. Bounded: cleared when full (a long run meets millions of distinct digit runs).
_MEMO_LIMIT = 200_000
_memo: dict[tuple[str, str | None, int], Any] = {}
_verified: dict[tuple[Any, ...], bool] = {}
_PLUS = "+"


def _number_key(n: Any) -> tuple[Any, ...]:
    return (n.country_code, n.national_number, n.extension, bool(n.italian_leading_zero),
            n.number_of_leading_zeros, n.raw_input, n.country_code_source, n.preferred_domestic_carrier_code)


def _valid(candidate: str, region: str | None, leniency: int, matcher: Any) -> Any:
    """The parsed number if `candidate` is a valid number for the `region` default at `leniency`, else None."""
    key = (candidate, region, leniency)
    if key in _memo:
        return _memo[key]
    shared = (candidate, _PLUS, leniency)
    if shared in _memo:
        return _memo[shared]
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
        _verified.clear()
    try:
        numobj = parse(candidate, region, keep_raw_input=True)
    except NumberParseException:
        _memo[key] = None
        return None
    vkey = (_number_key(numobj), candidate, leniency)
    ok = _verified.get(vkey)
    if ok is None:
        # _verify reads only the number and the candidate at leniency VALID and below (the grouping leniencies
        # read the matcher's text, so they are not memoised across texts)
        ok = bool(_pm._verify(leniency, numobj, candidate, matcher))
        if leniency <= Leniency.VALID:
            _verified[vkey] = ok
    out = numobj if ok else None
    if leniency <= Leniency.VALID:
        from_plus = numobj.country_code_source == CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN
        _memo[shared if from_plus else key] = out
    return out


# The matcher's candidates are matches of its _PATTERN, which cannot match without one of its digit sequences
# (`\\d` under the same `re` module and Unicode rules): a text without such a digit holds no phone number.
_ANY_DIGIT = re.compile(r"\d", re.UNICODE | re.IGNORECASE)  # phonenumberutil._REGEX_FLAGS


class _SharingMatcher(PhoneNumberMatcher):
    """libphonenumber's matcher for one region; the shape checks are shared with the other regions' matchers on
    the same text through `shape`, parsing and validation through the module memo."""

    def __init__(self, text: str, region: str | None, leniency: int, shape: dict[tuple[str, int], bool]) -> None:
        super().__init__(text, region, leniency=leniency)
        self._shape = shape

    def _shape_ok(self, candidate: str, offset: int) -> bool:
        # phonenumbermatcher._parse_and_verify up to the parse, unchanged
        if not fullmatch(_pm._MATCHING_BRACKETS, candidate) or _pm._PUB_PAGES.search(candidate):
            return False
        if self.leniency >= Leniency.VALID:
            if offset > 0 and not _pm._LEAD_PATTERN.match(candidate):
                previous_char = self.text[offset - 1]
                if self._is_invalid_punctuation_symbol(previous_char) or self._is_latin_letter(previous_char):
                    return False
            last_char_index = offset + len(candidate)
            if last_char_index < len(self.text):
                next_char = self.text[last_char_index]
                if self._is_invalid_punctuation_symbol(next_char) or self._is_latin_letter(next_char):
                    return False
        return True

    def _parse_and_verify(self, candidate: str, offset: int) -> PhoneNumberMatch | None:
        key = (candidate, offset)
        ok = self._shape.get(key)
        if ok is None:
            ok = self._shape[key] = self._shape_ok(candidate, offset)
        if not ok:
            return None
        if self.leniency > Leniency.VALID:  # grouping checks read the text: no sharing, the library's own path
            return super()._parse_and_verify(candidate, offset)
        numobj = _valid(candidate, self.preferred_region, self.leniency, self)
        return None if numobj is None else PhoneNumberMatch(offset, candidate, numobj)


def _region_of(value: str, fallback: str) -> str:
    """The region named in the finding's explanation, as Presidio's recognizer computes it."""
    import phonenumbers

    try:
        return str(phonenumbers.region_code_for_number(phonenumbers.parse(value)))
    except NumberParseException:
        return fallback


def share_phone_work(recognizer: EntityRecognizer) -> bool:
    """Install the shared matcher on Presidio's PhoneRecognizer instance (its exact class); True if it was."""
    if type(recognizer) is not PhoneRecognizer:
        return False
    rec: Any = recognizer

    def analyze(text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if _ANY_DIGIT.search(text) is None:
            return []  # every candidate of the matcher holds a digit (see _ANY_DIGIT): eight scans for nothing
        results = []
        shape: dict[tuple[str, int], bool] = {}
        for region in rec.supported_regions:
            named = region  # Presidio's loop rebinds its region to the last match's: the explanation follows it
            for match in _SharingMatcher(text, region, rec.leniency, shape):
                named = _region_of(text[match.start:match.end], named)
                results.append(rec._get_recognizer_result(match, text, named, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results)

    rec.analyze = analyze
    return True
