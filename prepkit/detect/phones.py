"""Presidio's phone recognizer, with libphonenumber's work shared between regions and between texts.

Presidio runs libphonenumber's matcher once per supported region (eight by default) over the whole text, and
every run parses and validates every digit run again: on PII-dense records that was a third of all CPU, paid a
second time by the verification re-scan. The findings here are the same, found with less work:

- One walk over the text serves every region. A region enters libphonenumber's matcher only where a candidate is
  parsed and verified (`_parse_and_verify`); the rest of the walk (the candidate search, the trims, the date and
  time-stamp checks, the inner-match search) reads only the text and the region's own state: where it searches
  from next and how many failed tries it has left. Regions that search from the same place (or from places with
  no candidate between them) meet the same candidate and walk together; a region that finds a number there moves
  on from the end of it, the others from the end of the candidate, each keeping its own count of tries, exactly
  as its own matcher would (`_Walk` below follows phonenumbermatcher's `_find`, `_extract_match` and
  `_extract_inner_match` step for step).
- Whether a candidate is a valid number is a pure function of (candidate, region) at the leniencies shared here
  (VALID and POSSIBLE): it is worked out for all regions at once and memoised per candidate for the process.
- A candidate written with "+" parses to the same number whatever the default region when the plus sign's country
  code is valid (libphonenumber takes the country from the number and the region's metadata is not read; the only
  region-dependent path, the retry after an unknown country code, never yields a number whose country came with
  the plus sign): it is parsed and verified once for all regions. The same number parsed under two regions (a
  local number under the US and the Canadian defaults) is verified once.
- parse() reads a candidate without a plus the same way under every region until it looks at the region's
  international and national prefixes: that first part (the national number, its extension, its normalised
  digits) is done once per candidate, and parse's remaining steps are followed per region (`_parse`, a copy).
- At VALID, a digit run too short for any valid number of a region's country code is not parsed under that region
  when it cannot be dialled internationally from there, and a parsed number whose length no region of its country
  code allows is not validated: both follow from libphonenumber's own metadata, argued at `_lengths` below.
- libphonenumber keeps its compiled metadata patterns once `enable_pattern_cache()` is called (its own switch),
  instead of looking each one up in `re`'s cache on every use.
- The stricter leniencies (STRICT_GROUPING, EXACT_GROUPING) verify against the text around the number: they keep
  Presidio's own matcher.

The shape checks and the walk are copied from phonenumbers.phonenumbermatcher (9.x), the end of parse from
phonenumberutil. tests/test_detect_phones.py compares this recognizer with Presidio's on real and adversarial
texts, the walk with libphonenumber's matcher region by region, and `_parse` and the length shortcut with
libphonenumber's parse and validation on fixed and generated candidates; bench/profile_dense.py builds the corpus
it was measured on.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumberMatcher, parse
from phonenumbers import phonenumbermatcher as _pm
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.phonenumber import CountryCodeSource, PhoneNumber
from phonenumbers.phonenumberutil import (
    _MAX_INPUT_STRING_LENGTH,
    _MAX_LENGTH_FOR_NSN,
    _MIN_LENGTH_FOR_NSN,
    _PLUS_CHARS_PATTERN,
    _SECOND_NUMBER_START_PATTERN,
    _UNWANTED_END_CHAR_PATTERN,
    COUNTRY_CODE_TO_REGION_CODE,
    ValidationResult,
    _build_national_number_for_parsing,
    _is_valid_region_code,
    _is_viable_phone_number,
    _match_national_number,
    _maybe_strip_extension,
    _maybe_strip_national_prefix_carrier_code,
    _normalize,
    _parse_prefix_as_idd,
    _set_italian_leading_zeros_for_phone_number,
    _test_number_length,
    national_significant_number,
    region_code_for_country_code,
)
from phonenumbers.re_util import enable_pattern_cache, fullmatch, re_compile
from phonenumbers.util import to_long
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

# (regions, leniency) -> candidate -> the positions in `regions` of the regions under whose default the candidate
# is a valid number at `leniency`. Bounded: cleared when full (a long run meets millions of distinct digit runs).
_MEMO_LIMIT = 200_000
_memo: dict[tuple[tuple[str, ...], int], dict[str, frozenset[int]]] = {}
# a finding's text -> the region Presidio names in its explanation (None: the text does not parse without a region)
_named: dict[str, str | None] = {}
_MAX_TRIES = 65535  # PhoneNumberMatcher's default, which Presidio keeps
_SHARED_LENIENCIES = (Leniency.POSSIBLE, Leniency.VALID)
_verify: Any = _pm._verify  # its stub wants a matcher, which it reads only at the grouping leniencies


def _number_key(n: Any) -> tuple[Any, ...]:
    return (n.country_code, n.national_number, n.extension, bool(n.italian_leading_zero),
            n.number_of_leading_zeros, n.raw_input, n.country_code_source, n.preferred_domestic_carrier_code)


def _check(candidate: str, regions: tuple[str, ...], leniency: int) -> frozenset[int]:
    """Positions of the regions under whose default `candidate` parses to a number that passes `_verify`."""
    valid: list[int] = []
    verified: dict[tuple[Any, ...], bool] = {}
    plus: bool | None = None  # the outcome for every region, once one parse took the country from the plus sign
    local = _local(candidate)
    for i, region in enumerate(regions):
        if plus is None:
            numobj = _parse(candidate, region, local, leniency)
            if numobj is None:
                continue
            key = _number_key(numobj)
            ok = verified.get(key)
            if ok is None:
                if leniency == Leniency.VALID and len(national_significant_number(numobj)) not in _lengths(
                        numobj.country_code or 0):
                    ok = False  # is_valid_number is false (see _lengths)
                else:
                    # at VALID and below _verify reads only the number and the candidate, never the matcher
                    ok = bool(_verify(leniency, numobj, candidate, None))
                verified[key] = ok
            if numobj.country_code_source == CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN:
                plus = ok
        else:
            ok = plus
        if ok:
            valid.append(i)
    return frozenset(valid)


# --- parse(candidate, region, keep_raw_input=True), its region-independent start done once per candidate --------
# phonenumberutil.parse (9.x) reads the candidate's national number (RFC 3966, leading junk, viability, extension)
# and normalises its digits before it looks at the region; for a candidate without a leading plus those steps are
# done once here (`_local`) and the rest of parse is followed for each region with their result (`_parse`). A
# candidate with a plus, or a region that is not valid, or whose international prefix starts the digits, takes
# libphonenumber's own parse.

class _Local:
    """What parse() derives from a candidate before it reads the region."""

    __slots__ = ("national", "extension", "digits")

    def __init__(self, national: str, extension: str, digits: str) -> None:
        self.national = national  # the national number, extension stripped, not normalised
        self.extension = extension
        self.digits = digits  # _normalize(national)


def _local(candidate: str) -> _Local | None:
    """None when parse() would fail under every region (too long, bad phone-context, not viable), or when the
    candidate starts with a plus (parse() reads no region then; the library's own parse is used)."""
    if len(candidate) > _MAX_INPUT_STRING_LENGTH:
        return None
    try:
        national = _build_national_number_for_parsing(candidate)
    except NumberParseException:
        return None
    if not _is_viable_phone_number(national) or _PLUS_CHARS_PATTERN.match(national):
        return None
    extension, national = _maybe_strip_extension(national)
    return _Local(national, extension, _normalize(national))


def _failed_everywhere(candidate: str) -> bool:
    """True when parse(candidate, any region) raises before reading the region."""
    if len(candidate) > _MAX_INPUT_STRING_LENGTH:
        return True
    try:
        return not _is_viable_phone_number(_build_national_number_for_parsing(candidate))
    except NumberParseException:
        return True


def _parse(candidate: str, region: str, local: _Local | None, leniency: int) -> Any:
    """parse(candidate, region, keep_raw_input=True), or None where it raises NumberParseException."""
    md: Any = _region_metadata(region) if local is not None else None
    if local is None or md is None:
        if local is None and _failed_everywhere(candidate):
            return None
        try:
            return parse(candidate, region, keep_raw_input=True)
        except NumberParseException:
            return None
    digits = local.digits
    idd = _idd(md)
    if idd is not None and _parse_prefix_as_idd(idd, digits)[0]:
        try:  # the country comes from the digits after the international prefix: the library's own path
            return parse(candidate, region, keep_raw_input=True)
        except NumberParseException:
            return None
    if leniency == Leniency.VALID and _too_short(digits, region):
        return None  # parses, maybe, but is not valid: see _lengths
    # _maybe_extract_country_code, from the default country
    numobj = PhoneNumber()
    numobj.raw_input = candidate
    if local.extension:
        numobj.extension = local.extension
    numobj.country_code_source = CountryCodeSource.FROM_DEFAULT_COUNTRY
    cc = md.country_code
    national: str | None = None
    cc_str = str(cc)
    if digits.startswith(cc_str):
        potential = digits[len(cc_str):]
        general_desc = md.general_desc
        _, potential, _ = _maybe_strip_national_prefix_carrier_code(potential, md)
        if ((not _match_national_number(digits, general_desc, False)
             and _match_national_number(potential, general_desc, False))
                or _test_number_length(digits, md) == ValidationResult.TOO_LONG):
            numobj.country_code_source = CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN
            numobj.country_code = cc
            national = potential
            number_region = region_code_for_country_code(cc)
            if number_region != region:
                md = PhoneMetadata.metadata_for_region_or_calling_code(cc, number_region)
    if national is None:
        national = digits  # parse: "" + _normalize(national_number)
        numobj.country_code = cc
    # the rest of parse
    if len(national) < _MIN_LENGTH_FOR_NSN:
        return None
    carrier_code, potential, _ = _maybe_strip_national_prefix_carrier_code(national, md)
    if _test_number_length(potential, md) not in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
                                                  ValidationResult.INVALID_LENGTH):
        national = potential
        if carrier_code is not None and len(carrier_code) > 0:
            numobj.preferred_domestic_carrier_code = carrier_code
    if not _MIN_LENGTH_FOR_NSN <= len(national) <= _MAX_LENGTH_FOR_NSN:
        return None
    _set_italian_leading_zeros_for_phone_number(national, numobj)
    numobj.national_number = to_long(national)
    return numobj


_metadata: dict[str, Any] = {}


def _region_metadata(region: str) -> Any:
    """The region's metadata when parse() accepts it as a default region (else None: the library's own parse)."""
    if region not in _metadata:
        md = PhoneMetadata.metadata_for_region(region.upper(), None)
        _metadata[region] = md if md is not None and _is_valid_region_code(region) else None
    return _metadata[region]


def _idd(md: Any) -> re.Pattern[str] | None:
    return None if md.international_prefix is None else re_compile(md.international_prefix)


# --- numbers too short to be valid, known before parsing -------------------------------------------------------
# is_valid_number(n) holds only if n's national significant number matches, in length first, the general
# description and one number type of the region region_code_for_number picks among the regions of n's country
# code (_number_type_helper; a description without possible lengths sets no bound). `_lengths(cc)` is the union
# of those lengths over the country code's regions: a number whose NSN length is outside it is not valid.
#
# Before parsing: for a candidate without a leading plus, parse(candidate, R) takes the country from R unless R's
# international prefix (IDD) starts the normalised digits (_maybe_strip_i18n_prefix_and_normalize). On that path
# the NSN is the normalised digits of the candidate without its extension (`_Local.digits`), less a leading country
# code and national prefix, each of them cut off the front (so never longer) as long as neither R nor the main
# region of R's country code rewrites the national prefix (national_prefix_transform_rule, as BR does). So when
# R takes that path, has no rewrite, and the digits are fewer than the shortest of `_lengths(R's country code)`,
# the candidate is not valid under R, and the parse is skipped. Everything else is parsed as before.

_ALL_LENGTHS = frozenset(range(_MAX_LENGTH_FOR_NSN + 1))
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")
_lengths_of: dict[int, frozenset[int]] = {}
_shortest: dict[str, int | None] = {}


def _desc_lengths(desc: Any) -> frozenset[int]:
    if desc is None:
        return frozenset()
    return frozenset(desc.possible_length) if desc.possible_length else _ALL_LENGTHS


def _lengths(cc: int) -> frozenset[int]:
    """The NSN lengths a valid number of country code `cc` can have (a superset; see above)."""
    out = _lengths_of.get(cc)
    if out is None:
        out = frozenset()
        for region in COUNTRY_CODE_TO_REGION_CODE.get(cc, ()):
            md = PhoneMetadata.metadata_for_region_or_calling_code(cc, region.upper())
            if md is not None:
                out |= _desc_lengths(md.general_desc) & frozenset().union(
                    *(_desc_lengths(getattr(md, t)) for t in _TYPES))
        _lengths_of[cc] = out
    return out


def _fewest(region: str) -> int | None:
    """The fewest digits a valid number has on `region`'s default-country path, or None when the region takes no
    shortcut (a national-prefix rewrite)."""
    if region in _shortest:
        return _shortest[region]
    out = None
    md = _region_metadata(region)
    cc = None if md is None else md.country_code
    if md is not None and cc is not None:
        main = PhoneMetadata.metadata_for_region_or_calling_code(cc, region_code_for_country_code(cc))
        if not md.national_prefix_transform_rule and (main is None or not main.national_prefix_transform_rule):
            lengths = _lengths(cc)
            out = min(lengths) if lengths else _MAX_LENGTH_FOR_NSN + 1
    _shortest[region] = out
    return out


def _too_short(digits: str, region: str) -> bool:
    """True if a candidate with these normalised digits, on the default-country path under `region` (no plus, no
    international prefix), is certainly not a valid number there."""
    fewest = _fewest(region)
    return fewest is not None and len(digits) < fewest


def _trim(pattern: re.Pattern[str], candidate: str) -> str:
    """phonenumbermatcher's _trim_after_first_match."""
    m = pattern.search(candidate)
    return candidate[:m.start()] if m else candidate


_NONE: frozenset[int] = frozenset()
_bad_neighbours: dict[str, bool] = {}


def _bad_neighbour(char: str) -> bool:
    """The matcher's test of the characters around a candidate at VALID: a Latin letter, a currency sign or '%'."""
    out = _bad_neighbours.get(char)
    if out is None:
        out = _bad_neighbours[char] = bool(PhoneNumberMatcher._is_invalid_punctuation_symbol(char)
                                           or PhoneNumberMatcher._is_latin_letter(char))
    return out


class _Walk:
    """libphonenumber's matcher over one text for several regions at once (see the module docstring)."""

    def __init__(self, text: str, regions: tuple[str, ...], leniency: int, max_tries: int = _MAX_TRIES) -> None:
        self.text = text
        self.regions = regions
        self.leniency = leniency
        self.tries = [max_tries] * len(regions)
        self.verdicts = _memo.setdefault((regions, leniency), {})

    def matches(self) -> list[list[tuple[int, int]]]:
        """Per region (in `regions` order), the (start, end) of each number its own matcher yields, in order."""
        text, tries = self.text, self.tries
        found: list[list[tuple[int, int]]] = [[] for _ in self.regions]
        waiting: dict[int, list[int]] = {0: list(range(len(self.regions)))}  # search index -> regions searching there
        while waiting:
            index = min(waiting)
            members = [r for r in waiting.pop(index) if tries[r] > 0]
            if not members:
                continue
            m = _pm._PATTERN.search(text, index)
            if m is None:
                break  # nor from any later index
            start = m.start()
            # a search from anywhere up to `start` finds this same match: those regions meet this candidate too
            for j in [j for j in waiting if j <= start]:
                members += [r for r in waiting.pop(j) if tries[r] > 0]
            candidate = _trim(_SECOND_NUMBER_START_PATTERN, text[start:m.end()])
            out: dict[int, tuple[int, int]] = {}
            if candidate:  # the matcher's min_candidate_length, 1
                out = self._extract_match(candidate, start, members)
            for r in members:
                if r in out:
                    found[r].append(out[r])
                    waiting.setdefault(out[r][1], []).append(r)
                else:
                    if candidate:
                        tries[r] -= 1
                    waiting.setdefault(start + len(candidate), []).append(r)
        return found

    def _extract_match(self, candidate: str, offset: int, members: list[int]) -> dict[int, tuple[int, int]]:
        if _pm._SLASH_SEPARATED_DATES.search(candidate):
            return {}
        if _pm._TIME_STAMPS.search(candidate) and _pm._TIME_STAMPS_SUFFIX.match(self.text[offset + len(candidate):]):
            return {}
        out: dict[int, tuple[int, int]] = {}
        ok = self._parse_and_verify(candidate, offset)
        for r in members:
            if r in ok:
                out[r] = (offset, offset + len(candidate))
        rest = [r for r in members if r not in ok]
        if rest:
            self._extract_inner_match(candidate, offset, rest, out)
        return out

    def _extract_inner_match(self, candidate: str, offset: int, alive: list[int],
                             out: dict[int, tuple[int, int]]) -> None:
        tries = self.tries
        for inner in _pm._INNER_MATCHES:
            group_match = inner.search(candidate)
            is_first_match = True
            while group_match:
                alive = [r for r in alive if tries[r] > 0]  # the matcher's loop condition, per region
                if not alive:
                    return
                if is_first_match:
                    group = _trim(_UNWANTED_END_CHAR_PATTERN, candidate[:group_match.start()])
                    alive = self._try(group, offset, alive, out)
                    if not alive:
                        return
                    is_first_match = False
                group = _trim(_UNWANTED_END_CHAR_PATTERN, group_match.group(1))
                alive = self._try(group, offset + group_match.start(1), alive, out)
                if not alive:
                    return
                group_match = inner.search(candidate, group_match.start() + 1)

    def _try(self, group: str, offset: int, alive: list[int], out: dict[int, tuple[int, int]]) -> list[int]:
        """One parse-and-verify step of the inner-match search: regions that match are done, the others pay a try."""
        ok = self._parse_and_verify(group, offset)
        rest = []
        for r in alive:
            if r in ok:
                out[r] = (offset, offset + len(group))
            else:
                self.tries[r] -= 1
                rest.append(r)
        return rest

    def _parse_and_verify(self, candidate: str, offset: int) -> frozenset[int]:
        if not self._shape_ok(candidate, offset):
            return _NONE
        out = self.verdicts.get(candidate)
        if out is None:
            if len(self.verdicts) >= _MEMO_LIMIT:
                self.verdicts.clear()
            out = self.verdicts[candidate] = _check(candidate, self.regions, self.leniency)
        return out

    def _shape_ok(self, candidate: str, offset: int) -> bool:
        # phonenumbermatcher._parse_and_verify up to the parse, unchanged
        if not fullmatch(_pm._MATCHING_BRACKETS, candidate) or _pm._PUB_PAGES.search(candidate):
            return False
        if self.leniency >= Leniency.VALID:
            if offset > 0 and not _pm._LEAD_PATTERN.match(candidate) and _bad_neighbour(self.text[offset - 1]):
                return False
            last_char_index = offset + len(candidate)
            if last_char_index < len(self.text) and _bad_neighbour(self.text[last_char_index]):
                return False
        return True


def _region_of(value: str, fallback: str) -> str:
    """The region named in the finding's explanation, as Presidio's recognizer computes it."""
    if value not in _named:
        if len(_named) >= _MEMO_LIMIT:
            _named.clear()
        try:
            _named[value] = str(phonenumbers.region_code_for_number(phonenumbers.parse(value)))
        except NumberParseException:
            _named[value] = None
    named = _named[value]
    return fallback if named is None else named


# The matcher's candidates are matches of its _PATTERN, which cannot match without one of its digit sequences
# (`\\d` under the same `re` module and Unicode rules): a text without such a digit holds no phone number.
_ANY_DIGIT = re.compile(r"\d", re.UNICODE | re.IGNORECASE)  # phonenumberutil._REGEX_FLAGS


def share_phone_work(recognizer: EntityRecognizer) -> bool:
    """Install the shared matcher on Presidio's PhoneRecognizer instance (its exact class); True if it was."""
    if type(recognizer) is not PhoneRecognizer:
        return False
    rec: Any = recognizer
    presidios = rec.analyze
    # libphonenumber compiles its metadata patterns on every use unless told to keep them (its own switch)
    enable_pattern_cache()

    def analyze(text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if rec.leniency not in _SHARED_LENIENCIES:
            return presidios(text, entities, nlp_artifacts)
        if _ANY_DIGIT.search(text) is None:
            return []  # every candidate of the matcher holds a digit (see _ANY_DIGIT): eight scans for nothing
        regions = tuple(rec.supported_regions)
        results = []
        for region, spans in zip(regions, _Walk(text, regions, rec.leniency).matches(), strict=True):
            named = region  # Presidio's loop rebinds its region to the last match's: the explanation follows it
            for start, end in spans:
                named = _region_of(text[start:end], named)
                results.append(rec._get_recognizer_result(_Span(start, end), text, named, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results) if results else results

    rec.analyze = analyze
    return True


class _Span:
    """What Presidio's `_get_recognizer_result` reads of a PhoneNumberMatch."""

    __slots__ = ("start", "end")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
