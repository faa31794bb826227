"""prepkit's own recognizers: personal data Presidio lacks or finds badly, plus a post-filter for its known false
positives.

Every rule here is written against the *shape* of the data (how addresses, ages or record numbers are written in
general), never against individual evaluation documents; `bench/EVAL.md` records what each one buys.

Rules that need a cue ("zip", "MRN", "aged") carry the cue inside their regex and report only the value group,
so the span that gets anonymized is the value, not the label in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

# Entity types only prepkit's recognizers produce, for policy validation and documentation.
BUILTIN_ENTITIES: dict[str, str] = {
    "AGE": "a person's age (\"42 years old\", \"aged 42\", \"age: 42\")",
    "TITLE": "an honorific (Mr, Mrs, Dr, Prof...) or a job title",
    "ZIP_CODE": "a postal code next to a cue (\"ZIP\", \"postal code\") or a US state",
    "MEDICAL_RECORD_NUMBER": "a medical record number next to a cue (\"MRN\", \"medical record\")",
    "NPI": "a US National Provider Identifier (10 digits, Luhn check with the 80840 prefix) next to \"NPI\"",
    "HEALTH_PLAN_NUMBER": "a health plan / insurance member or policy number next to a cue",
    "ACCOUNT_NUMBER": "an account number next to a cue (\"account number\", \"acct #\")",
}

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    score: float
    group: str | None = None  # report this named group's span instead of the whole match
    validate: Validator | None = None


class RegexRecognizer(LocalRecognizer):
    """Regex rules for one entity type; a rule may report a named group and validate the value."""

    def __init__(self, name: str, entity: str, rules: Sequence[Rule], context: Sequence[str] = (),
                 language: str = "en"):
        self.rules = list(rules)
        self._label = name  # Presidio's `name` attribute is untyped
        super().__init__(supported_entities=[entity], name=name, supported_language=language,
                         context=list(context))

    def load(self) -> None:  # rules are compiled at import
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return []
        out: list[RecognizerResult] = []
        for rule in self.rules:
            for m in rule.regex.finditer(text):
                start, end = m.span(rule.group) if rule.group else m.span()
                if start < 0 or start == end:
                    continue
                value = text[start:end]
                if rule.validate is not None and not rule.validate(value):
                    continue
                expl = AnalysisExplanation(recognizer=self._label, original_score=rule.score,
                                           pattern_name=rule.name, validation_result=rule.validate is not None)
                out.append(RecognizerResult(entity, start, end, rule.score, analysis_explanation=expl,
                                            recognition_metadata={
                                                RecognizerResult.RECOGNIZER_NAME_KEY: self._label,
                                                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                            }))
        return _dedupe(out)


def _dedupe(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the longest of overlapping matches (rules overlap by design: a bare and a cued form)."""
    results.sort(key=lambda r: (r.start, -(r.end - r.start), -r.score))
    kept: list[RecognizerResult] = []
    for r in results:
        if kept and r.start < kept[-1].end:
            k = kept[-1]
            if r.end > k.end:  # partial overlap: merge into one span
                k.end = r.end
            k.score = max(k.score, r.score)
            continue
        kept.append(r)
    return kept


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags | re.UNICODE)


# ---------------------------------------------------------------------------------------------------- addresses
# Street types in English and the languages of common international address formats. Suffix forms are glued to
# the street name in Germanic/Nordic languages ("Hauptstrasse 5", "Storgatan 7"), prefix forms precede it.
_ST_EN = (r"Street|St|Road|Rd|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Boulevard|Blvd|Terrace|Ter|"
          r"Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|Close|Row|Alley|Plaza|Loop|"
          r"Pike|Grove|Gardens|Gdns|Hill|Hills|Point|Ridge|View|Walk|Mews|Green|Parade|Esplanade|Quay|"
          r"Wharf|Rise|Vale|Heights|Expressway|Freeway|Turnpike|Junction|Crossing|Landing|Manor|Meadow|"
          r"Meadows|Orchard|Path|Pass|Passage|Port|Ramp|Route|Spur|Station|Summit|Track|Trace|Tunnel|Union|"
          r"Valley|Viaduct|Villa|Village|Ville|Vista|Estate|Estates|Field|Fields|Forge|Forges|Fork|Glen|"
          r"Harbor|Harbour|Haven|Inlet|Island|Key|Knoll|Lake|Lakes|Mill|Mills|Mission|Mount|Mountain|Neck|"
          r"Oval|Park|Prairie|Radial|Ranch|Rest|Shoal|Shore|Shores|Spring|Springs|Stream|Throughway|Way")
_ST_SUFFIX = (r"stra(?:ss|ß)e|str\.|gasse|weg|platz|allee|ring|damm|ufer|gatan|gata|gate|gata|vägen|väg|veien|"
              r"vegen|vei|vej|stræde|stien|katu|tie|kuja|polku|straat|laan|plein|gracht|kade|dreef|steeg|"
              r"utca|út|tér|körút|sor|sokak|sokağı|caddesi|ulica")
_ST_PREFIX = (r"Via|Viale|Vicolo|Piazza|Piazzale|Corso|Largo|Strada|Rue|Avenue|Boulevard|Bd|Chemin|Impasse|"
              r"Allée|Place|Quai|Route|Calle|Avenida|Avda\.?|Av\.|Paseo|Plaza|Camino|Carrera|Carretera|Ronda|"
              r"Travessa|Rua|Praça|Estrada|Largo|ul\.|ulica|al\.|aleja|os\.|pl\.|Rúa|Rambla|Passeig|Carrer|"
              r"Odos|Leoforos|Platia")
_NAME = r"[^\W\d_][\w'’.-]*"  # one word of a street name (any script)
_NUM = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"

_STREET_RULES = [
    # "1600 Pennsylvania Avenue", "12 b Baker St", "3178 254 Damvergi Street"
    Rule("number street type", _rx(
        rf"(?<![\w-]){_NUM}(?:\s+{_NUM})?,?\s+(?:{_NAME}\s+){{0,4}}(?:{_ST_EN})\.?(?![\w-])"), 0.7),
    # "Via dei Fiorentini 17", "Rue de Virton 38", "ul. Słowicza 10", optionally with a house number first
    Rule("street prefix number", _rx(
        rf"(?<![\w-])(?:{_NUM}\s+)?(?:{_ST_PREFIX})\s+(?:{_NAME}\s+){{0,4}}{_NUM}(?![\w-])", re.IGNORECASE), 0.7),
    # "Hauptstrasse 5", "Storgatan 7", "Trenerys gate 232", "Koskikatu 25", with an optional number first
    Rule("street suffix number", _rx(
        rf"(?<![\w-])(?:{_NUM}\s+)?(?:{_NAME}\s+){{0,2}}[^\W\d_][\w-]*?(?:{_ST_SUFFIX})\s+{_NUM}(?![\w-])",
        re.IGNORECASE), 0.65),
    # "Hafnar tér 19", "Trenerys gate 232": the street type as a word of its own after the name
    Rule("street type word number", _rx(
        rf"(?<![\w-])(?:{_NUM}\s+)?(?:{_NAME}\s+){{1,2}}(?:{_ST_SUFFIX})\.?\s+{_NUM}(?![\w-])", re.IGNORECASE), 0.65),
    # "28030 Edeby 55", "4923 Parmova 109": a house number and a name between two numbers is an address line
    # in most European formats (number first or last); one number alone ("Windows 10") is not enough.
    Rule("number name number", _rx(rf"(?m)(?:^|(?<=,\s))[ \t>?*-]*(?P<v>{_NUM}\s+(?:[^\W\d_a-z][\w'’.-]{{2,}}\s+)"
                                   rf"(?:[^\W\d_][\w'’.-]{{1,}}\s+){{0,2}}{_NUM})[ \t]*(?=$|,)"), 0.6, "v"),
    # "lives at Jahu 80", "address: Pivovarská 276": a name and a number right after an address cue
    Rule("cued name number", _rx(rf"\b(?:lives?\s+(?:at|on)|living\s+(?:at|on)|address(?:\s+is)?\s*:?|located\s+at|"
                                 rf"is\s+at|drops?\s+you\s+off\s+at|deliver(?:ed)?\s+to|ship(?:ped)?\s+to|"
                                 rf"send\s+(?:it\s+)?to|moved\s+to|corner\s+of)\s+(?P<v>(?:{_NUM}\s+)?(?:{_NAME}\s+){{1,4}}"
                                 rf"{_NUM})(?![\w-])", re.IGNORECASE), 0.7, "v"),
    # Apartment / suite / unit designators and post-office boxes, military mail (PSC/APO/FPO/DPO)
    Rule("unit", _rx(r"(?<![\w-])(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Room|Rm|Bldg|Building)\.?\s*#?\s*"
                     r"\d{1,5}[A-Za-z]?(?![\w-])", re.IGNORECASE), 0.6),
    Rule("po box", _rx(r"(?<![\w-])(?:P\.?\s?O\.?\s*Box|Post\s+Office\s+Box|PO\s+Box|Box)\s+\d{1,6}(?![\w-])",
                       re.IGNORECASE), 0.6),
    Rule("military", _rx(r"(?<![\w-])(?:PSC|CMR|Unit)\s+\d{1,5},?\s+Box\s+\d{1,5}(?:\s*,?\s*(?:APO|FPO|DPO)\s+"
                         r"A[AEP]\s+\d{5})?(?![\w-])", re.IGNORECASE), 0.75),
    Rule("military post", _rx(r"(?<![\w-])(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5}(?![\w-])", re.IGNORECASE), 0.75),
    Rule("ship", _rx(r"(?<![\w-])(?:USNS|USNV|USS|USCGC)\s+[A-Z][\w'-]+(?:\s*,?\s*FPO\s+A[AEP]\s+\d{5})?"), 0.7),
]

# An address block continues past the street line: unit, city, region, postcode and country, one per line or
# after commas. A continuation line is short, has no label ("Phone:"), e-mail, URL or long digit run.
_LINE_PREFIX = r"[ \t]*(?:>+|\?{3}|[-*•])?[ \t]*"
_ADDR_WORD = r"(?:[^\W\d_][\w'’.()-]*|\d{1,6}(?:[- ]\d{2,4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)"
_NEXT_LINE = re.compile(rf"[ \t,]*\r?\n(?:{_LINE_PREFIX}\r?\n)?{_LINE_PREFIX}(?P<v>{_ADDR_WORD}(?:[ \t,]+{_ADDR_WORD}){{0,5}})"
                        rf"[ \t.,]*(?=\r?\n|$)")
# After a comma any words up to the end of the clause ("..., cite de l'interieur."); after a space only
# capitalized words, numbers and postcodes ("Suite 104 Veszprém VE"), so "... Avenue tomorrow" stops.
_CAP_WORD = r"(?:[^\W\d_a-z][\w'’.()-]*|\d{1,6}(?:[- ]\d{2,4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)"
_SAME_LINE = re.compile(rf"(?:,[ \t]*(?P<v>{_ADDR_WORD}(?:[ \t,]+{_ADDR_WORD}){{0,5}}?)|[ \t]+(?P<w>{_CAP_WORD}"
                        rf"(?:[ \t,]+{_CAP_WORD}){{0,5}}?))(?=[ \t]*(?:[.?!;)]|\r?\n|$))")
_BAD_LINE = re.compile(r"[:@/]|\d[\d ()+-]{6,}\d|\b(?:tel|phone|mobile|fax|desk|office|email|e-mail|www)\b", re.I)
_MAX_BLOCK_LINES = 4


def _extend_address(text: str, start: int, end: int) -> int:
    """End of the address block that starts with the street/unit span [start, end)."""
    m = _SAME_LINE.match(text, end)
    if m and not _BAD_LINE.search(m.group(0)):
        end = m.end()
    for _ in range(_MAX_BLOCK_LINES):
        m = _NEXT_LINE.match(text, end)
        if not m or _BAD_LINE.search(m.group("v")):
            break
        end = m.end("v")
    # A full stop after a whole word ends the sentence; after an abbreviation ("St.", "Apt.") it is part of it.
    if text[end - 1:end] == "." and re.search(r"[^\W\d_]{4,}\.$", text[start:end]):
        end -= 1
    return end


class AddressRecognizer(RegexRecognizer):
    """Street addresses: the street-line rules, then each match grown over the rest of its address block."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts)
        for r in results:
            r.end = _extend_address(text, r.start, r.end)
        return _dedupe(results)


_ADDRESS_CONTEXT = ["address", "live", "lives", "living", "located", "street", "ship", "mail", "deliver",
                    "residence", "home", "apartment", "suite", "billing", "shipping"]

# ---------------------------------------------------------------------------------------------------- ZIP codes
_US_STATES = ("AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|"
              "ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR|VI|GU|AS|MP")
_ZIP_RULES = [
    Rule("cued zip", _rx(r"(?:\bzip(?:\s*code)?|\bpostal\s*code|\bpost\s*code|\bpostcode|\bplz)\s*(?:is|:|#|=)?"
                         r"\s*(?P<v>\d{3,5}(?:[- ]\d{2,4})?)(?!\d)", re.IGNORECASE), 0.85, "v"),
    Rule("state zip", _rx(rf"(?<![\w-])(?:{_US_STATES}),?\s+(?P<v>\d{{5}}(?:-\d{{4}})?)(?![\w-])"), 0.7, "v"),
    Rule("zip+4", _rx(r"(?<![\w-])\d{5}-\d{4}(?![\w-])"), 0.4),
]

# ---------------------------------------------------------------------------------------------------- ages
_AGE = r"(?P<v>1[0-2]\d|[1-9]?\d)"
_AGE_RULES = [
    Rule("n years old", _rx(rf"(?<![\w.,-]){_AGE}(?:\s*|-)(?:years?|yrs?|yo)(?:\s*|-)old\b", re.IGNORECASE),
         0.85, "v"),
    Rule("n y/o", _rx(rf"(?<![\w.,-]){_AGE}\s*(?:y/o|y\.o\.|yo\b|yrs?\s+old\b)", re.IGNORECASE), 0.7, "v"),
    Rule("aged n", _rx(rf"\b(?:aged?|at\s+the\s+age\s+of|age\s+of)\s*[:=]?\s*{_AGE}(?![\d.,]\d)", re.IGNORECASE),
         0.75, "v"),
    # "just turned 30", "I'll turn 47.": the number ends the clause, so "turn 90 degrees" is not an age
    Rule("turned n", _rx(rf"\b(?:turn(?:ed|s|ing)?|will\s+be|is\s+now)\s+{_AGE}(?=\s*(?:[.,!?;)]|$|years?\b|"
                         r"yrs?\b|this\b|next\b|last\b|today\b|tomorrow\b|soon\b|in\s+\w+\b|on\s+\w+day\b|and\b|"
                         r"but\b))", re.IGNORECASE), 0.6, "v"),
    Rule("n-year-old", _rx(rf"(?<![\w.,-]){_AGE}\s*-\s*(?:year|yr)\s*-\s*old", re.IGNORECASE), 0.85, "v"),
]

# ---------------------------------------------------------------------------------------------------- titles
_HONORIFICS = (r"Mr|Mrs|Ms|Miss|Mx|Mister|Madam|Dr|Doctor|Prof|Professor|Sir|Dame|Lord|Lady|Rev|Reverend|Fr|"
               r"Father|Sister|Brother|Hon|Capt|Captain|Col|Colonel|Gen|General|Lt|Lieutenant|Sgt|Sergeant|"
               r"Maj|Major|Cmdr|Officer|Judge|Rabbi|Imam|Pastor")
_SHORT_HONORIFICS = {"mr", "mrs", "ms", "mx", "dr", "prof", "rev", "capt", "col", "lt", "sgt", "maj", "hon"}


def _honorific_case(value: str) -> bool:
    """Abbreviations count in any case ("ms. smith"); full words only capitalized ("General Grant", not "general")."""
    word = value.rstrip(".")
    return word.lower() in _SHORT_HONORIFICS or word[0].isupper()


_JOB_HEADS = (r"engineer|manager|librarian|specialist|scientist|accountant|director|officer|analyst|developer|"
              r"designer|consultant|nurse|teacher|technician|technologist|assistant|administrator|coordinator|"
              r"therapist|psychologist|physician|surgeon|pharmacist|architect|editor|writer|producer|"
              r"lawyer|attorney|solicitor|barrister|paralegal|clerk|secretary|receptionist|counsellor|counselor|"
              r"advisor|adviser|inspector|surveyor|planner|programmer|operator|mechanic|electrician|plumber|"
              r"chemist|biologist|physicist|geologist|economist|statistician|auditor|broker|banker|trader|"
              r"executive|supervisor|instructor|lecturer|professor|researcher|radiographer|midwife|dentist|"
              r"paramedic|pilot|controller|buyer|merchandiser|estimator|underwriter|actuary|curator|archivist|"
              r"conservator|journalist|translator|interpreter|illustrator|animator|photographer|"
              r"cinematographer|choreographer|dancer|musician|artist|chef|cook|baker|farmer|gardener|"
              r"ecologist|horticulturist|toxicologist|microbiologist|sonographer|echocardiographer|"
              r"optometrist|optician|audiologist|podiatrist|dietitian|nutritionist|physiotherapist|"
              r"psychotherapist|psychiatrist|radiologist|anaesthetist|anesthetist|pathologist|veterinarian|"
              r"worker|associate|representative|agent|distributor|installer|maintainer|fitter|welder|"
              r"carpenter|joiner|labourer|laborer|driver|tutor|coach|trainer|CEO|CFO|CTO|COO|CIO|VP|president|"
              r"chairman|chairwoman|chairperson|founder|owner|partner|head|lead|manager")
_JOB_LINE_END = re.compile(rf"(?i)\b(?:{_JOB_HEADS})s?$")
_JOB_MOD = r"(?:[A-Za-z][\w'’-]*\s+){0,3}"
_TITLE_RULES = [
    # "Mr. Smith", "Dr Jones", "ms. quinzia": an honorific only counts when a name follows it
    Rule("honorific", _rx(rf"\b(?P<v>(?:{_HONORIFICS})\.?)(?=\s+[^\W\d_]+)", re.IGNORECASE), 0.6, "v", _honorific_case),
    # A job title after "as a", "work(s/ed) as", "position of", or on its own line under a name
    Rule("job title after cue", _rx(
        rf"\b(?:as\s+(?:an?\s+|the\s+)?|position\s+of\s+|role\s+of\s+|job\s+title\s*[:=]?\s*|title\s*:\s*|"
        rf"occupation\s*:\s*|profession\s*:\s*)(?P<v>{_JOB_MOD}(?:{_JOB_HEADS})s?)\b", re.IGNORECASE), 0.6, "v"),
    # A short line of its own that ends in a job word, as in a signature or CV header ("Senior Accountant")
    Rule("job title line", _rx(r"(?m)^[ \t>?]*(?P<v>[A-Z][\w'’-]*(?:[ \t]+[\w'’-]+){0,3})[ \t]*$"), 0.55, "v",
         lambda v: _JOB_LINE_END.search(v) is not None),
]

# ---------------------------------------------------------------------------------------------------- health ids
_ID = r"(?P<v>[A-Z]{0,4}[-#]?\d[\dA-Z-]{3,18}\d)"


def _luhn_npi(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return len(digits) == 10 and _luhn("80840" + digits)


_MRN_RULES = [
    Rule("cued mrn", _rx(rf"\b(?:MRN|MR#|medical\s+record(?:\s+(?:number|no\.?|num|#))?|patient\s+(?:id|"
                         rf"number|no\.?)|chart\s+(?:number|no\.?|#)|hospital\s+number)\s*(?:is|:|#|=)?\s*"
                         rf"{_ID}(?![\w-])", re.IGNORECASE), 0.85, "v"),
]
_NPI_RULES = [
    Rule("cued npi", _rx(r"\b(?:NPI|national\s+provider\s+identifier)(?:\s+(?:number|no\.?|#))?\s*(?:is|:|#|=)?"
                         r"\s*(?P<v>[12]\d{3}[ -]?\d{3}[ -]?\d{3})(?!\d)", re.IGNORECASE), 0.9, "v", _luhn_npi),
]
_PLAN_RULES = [
    Rule("cued plan id", _rx(rf"\b(?:member|subscriber|policy|health\s+plan|insurance|beneficiary|medicaid|"
                             rf"medicare|group)\s*(?:id|number|no\.?|num|#)\s*(?:is|:|#|=)?\s*{_ID}(?![\w-])",
                             re.IGNORECASE), 0.8, "v"),
]
_ACCOUNT_RULES = [
    Rule("cued account", _rx(rf"\b(?:account|acct|a/c)\.?\s*(?:(?:number|no\.?|num|#)\s*(?:is|:|#|=)?|is|:|=)"
                             rf"\s*{_ID}(?![\w-])", re.IGNORECASE), 0.75, "v"),
]

# Presidio's licence pattern knows some US states' shapes and needs a cue word nearby; any id right after
# "driver's license number" is one, whatever its state's format.
_LICENSE_RULES = [
    Rule("cued licence", _rx(r"\b(?:driver'?s?|driving)\s+licen[cs]e(?:\s+(?:number|no\.?|num|#))?\s*(?:is|:|#|=)?"
                             r"\s*(?P<v>[A-Z0-9][A-Z0-9-]{3,18}[A-Z0-9])(?![\w-])", re.IGNORECASE), 0.8, "v",
         lambda v: any(c.isdigit() for c in v)),
]

# ---------------------------------------------------------------------------------------------------- birth dates
_DATE = (r"(?P<v>\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|"
         r"Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+\d{4})")
_DOB_RULES = [
    Rule("cued birth date", _rx(rf"\b(?:date\s+of\s+birth|birth\s*date|birthday|DOB|D\.O\.B\.?|born(?:\s+on)?)"
                                rf"\s*(?:is|was|:|=|-)?\s*(?:it'?s\s+|on\s+)?{_DATE}", re.IGNORECASE), 0.9, "v"),
]


# ---------------------------------------------------------------------------------------------------- phones, cards
# Presidio's phone recognizer needs a number that libphonenumber can place in a region; local and partial
# numbers behind an explicit cue ("Mobile:", "call me on", "... fax") are phone numbers all the same.
_PHONE = r"(?P<v>\+?\(?\d[\d()]*(?:[ .\-/]?\(?\d[\d()]*\)?){1,6}(?:\s?(?:x|ext\.?)\s?\d{1,5})?)"


def _phone_digits(value: str) -> bool:
    digits = sum(c.isdigit() for c in value.split("x")[0].split("ext")[0])
    return 6 <= digits <= 15


_PHONE_RULES = [
    Rule("cued phone", _rx(rf"\b(?:phone|tel|telephone|mobile|cell|cellphone|fax|desk|office|home|work|whatsapp|"
                           rf"sms|call\s+(?:me\s+)?(?:on|at)|reach\s+me\s+(?:on|at)|answering\s+at|text\s+me\s+(?:on|at)|"
                           rf"messages\s+to|registered|number\s+is|contact\s+number|phone\s+number)\s*(?:no\.?|number|#)?"
                           rf"\s*[:=]?\s*{_PHONE}(?![\d-])", re.IGNORECASE), 0.7, "v", _phone_digits),
    # North American shape without a cue: libphonenumber rejects unassigned area codes ("+1-471-349-7094x00949"),
    # but a number of this shape is a phone number to a reader, and a missed phone number is a leak.
    Rule("NANP shape", _rx(r"(?<![\w+])(?P<v>(?:\+?1[-. ])?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[-. ])\d{3}[-. ]\d{4}"
                           r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?)(?![\w-])", re.IGNORECASE), 0.5, "v"),
    # A flat character class, not _PHONE's nested groups: this rule may start at every digit of a text.
    Rule("phone then label", _rx(r"(?<![\w+])(?P<v>\+?\(?\d[\d() ./-]{4,24}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?)\s?[-,]?\s?"
                                 r"(?:office|fax|mobile|cell|home|work|desk)\b", re.IGNORECASE), 0.7, "v",
         _phone_digits),
]


def _luhn(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Presidio's card pattern knows the big schemes' prefixes and lengths; a Luhn-valid 12-19 digit number right after
# a card cue is a card number whatever its scheme (Maestro, UnionPay, 19-digit Visa...).
_CARD_RULES = [
    Rule("cued card", _rx(r"\b(?:card|cc|credit|debit|visa|mastercard|amex|maestro)\s*(?:no\.?|number|num|#)?\s*"
                          r"(?:is|:|#|=)?\s*(?P<v>\d(?:[ -]?\d){11,18})(?![\d-])", re.IGNORECASE), 0.8, "v",
         lambda v: _luhn(v)),
]


# ---------------------------------------------------------------------------------------------------- people
# An @-mention is a person's (or an account's) online identifier: personal data even when the name is invented.
_HANDLE_RULES = [
    Rule("at-mention", _rx(r"(?<![\w.@])@[ \t]?(?P<v>[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]{1,29})(?![\w@.-]*\.[a-z]{2,})"),
         0.6, "v"),
]

_ORG_CUES = re.compile(
    r"(?i)^(?:inc|ltd|llc|plc|corp|corporation|company|co|group|gmbh|ag|sa|bv|fc|university|college|school|"
    r"institute|bank|hospital|clinic|foundation|association|agency|ministry|department|council|party|club|"
    r"union|society|labs?|studios?|records|airlines?|motors|systems|technologies|news|times|post)\.?$")
_HONORIFIC_WORD = re.compile(rf"(?i)^(?:{_HONORIFICS})\.?$")
_PLACE_PREPS = {"in", "at", "from", "to", "near", "into", "across", "around", "visit", "visiting", "via"}


# Greetings and sign-offs: the small tagger calls "Hi" in "Hi Anthony," a proper noun, and a lone "Hi" reported
# as a PERSON then fails the record's verification wherever else "Hi" appears (2.7% of Faker tickets were
# quarantined for it).
_SALUTATIONS = {"hi", "hello", "hey", "dear", "greetings", "thanks", "thank", "cheers", "regards", "bye", "goodbye",
                "morning", "afternoon", "evening", "welcome", "congratulations", "congrats"}


def _name_like(tok: Any) -> bool:
    """A capitalized proper noun that is not an abbreviation ("ZIP"), a label ("Phone:"), a greeting or a URL."""
    t = tok.text
    if tok.pos_ != "PROPN" or not t[:1].isupper() or tok.like_url or tok.like_email or tok.lower_ in _SALUTATIONS:
        return False
    if t.isupper() and len(t) <= 3 or t.endswith(".") or _HONORIFIC_WORD.match(t):
        return False
    nxt = tok.nbor(1).text if tok.i + 1 < len(tok.doc) else ""
    return nxt != ":" or t.lower() not in _FIELD_LABELS


_NER_LABELS_USED = {"PERSON", "PER", "NORP", "FAC", "LOC", "GPE", "ORG", "DATE", "TIME"}
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


def _title_like(tok: Any) -> bool:
    """Orthography alone: capitalized, not all capitals, not a stop word, label, URL or honorific."""
    t = tok.text
    if not t[:1].isupper() or t.isupper() or tok.is_stop or tok.like_url or tok.like_email \
            or tok.lower_ in _SALUTATIONS:
        return False
    if not any(c.isalpha() for c in t) or t.endswith(".") or _HONORIFIC_WORD.match(t):
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


def _in_heading(doc: Any, i: int) -> bool:
    """Is token i on a Markdown heading line ("# Incident runbook")?"""
    text = doc.text
    line_start = text.rfind("\n", 0, doc[i].idx) + 1
    # "# Title" on its own line above more text; a one-line post opening with "# tag" (tokenized hashtags) is not
    return _MD_HEADING.match(text, line_start) is not None and text.find("\n", doc[i].idx) != -1


def _possessive_after(doc: Any, j: int) -> bool:
    return j < len(doc) and doc[j].text in {"'s", "’s", "'", "’"}


def _headline_case(doc: Any) -> bool:
    """Title Case Like A Headline: function words inside sentences carry capitals too, so a capital says nothing."""
    stops = [t for t in doc if t.is_stop and t.is_alpha and len(t.text) > 1 and t.text.lower() != "i"
             and not _sentence_start(doc, t.i)]
    return len(stops) >= 3 and sum(t.text[0].isupper() for t in stops) >= 0.5 * len(stops)


def _sentence_start(doc: Any, i: int) -> bool:
    k = i - 1
    while k >= 0 and (doc[k].is_space or doc[k].text in {"?", "??", "???"}):
        if "\n" in doc[k].text:
            return True
        k -= 1
    return k < 0 or doc[k].text in _BOUNDARY or "\n" in doc[k].text_with_ws


class ProperNounRecognizer(LocalRecognizer):
    """Runs of proper nouns that the NER model left unlabelled.

    In informal text (chats, social media) the small NER model misses many names. With spaCy's tagger in the
    pipeline a run of PROPN tokens is taken; without it (the engine may drop the tagger for speed) a run of
    capitalized words that are not stop words, where a lone capitalized word that starts a sentence or line does
    not count. An unlabelled run is a PERSON, a LOCATION after "in/at/from/to", an ORGANIZATION when it ends in
    an organisation word. Scored low: a policy can raise its threshold above SCORE to turn this off.
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
        headline = _headline_case(doc)
        tagged = doc.has_annotation("TAG")
        name_like = (lambda t: _name_like(t) or _title_like(t)) if tagged else _title_like
        covered: set[int] = set()
        for ent in doc.ents:  # labels Presidio ignores (WORK_OF_ART, PRODUCT, CARDINAL...) hide nothing
            if ent.label_ in _NER_LABELS_USED:
                covered.update(range(ent.start, ent.end))
        out: list[RecognizerResult] = []
        i, n = 0, len(doc)
        while i < n:
            tok = doc[i]
            if i in covered or not name_like(tok):
                i += 1
                continue
            j = i + 1
            while j < n and j not in covered:
                if name_like(doc[j]) or (tagged and doc[j].pos_ == "PROPN" and doc[j].text[:1].isdigit()):
                    j += 1
                elif not tagged and _initial(doc[j]) and j + 1 < n and name_like(doc[j + 1]):
                    j += 2
                else:
                    break
            speaker = j < n and doc[j].text == ":"  # "Alice: ..." in a transcript (form labels are already out)
            if j == i + 1 and not speaker and (headline or not (tagged and _name_like(tok)) and _sentence_start(
                    doc, i) and (_common_tag(tok) and not _possessive_after(doc, j)
                                 or not _possessive_or_verb_after(doc, j))):
                i = j
                continue
            if _in_heading(doc, i):
                i = j  # a Markdown heading is title case by convention: its capitals name no one
                continue
            prev = doc[i - 1].lower_ if i > 0 else ""
            if _ORG_CUES.match(doc[j - 1].text):
                label = "ORGANIZATION"
            elif prev in _PLACE_PREPS:
                label = "LOCATION"
            else:
                label = "PERSON"
            if not entities or label in entities:
                start, end = tok.idx, doc[j - 1].idx + len(doc[j - 1].text)
                out.append(RecognizerResult(label, start, end, self.SCORE, recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: "PrepkitProperNounRecognizer",
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
            i = j
        return out


def builtin_recognizers(language: str = "en") -> list[LocalRecognizer]:
    """prepkit's recognizers for `language` (English cues; other languages get none yet)."""
    if language != "en":
        return []
    return [
        AddressRecognizer("PrepkitStreetAddressRecognizer", "LOCATION", _STREET_RULES, _ADDRESS_CONTEXT, language),
        RegexRecognizer("PrepkitZipCodeRecognizer", "ZIP_CODE", _ZIP_RULES, ["zip", "postal", "postcode"],
                        language),
        RegexRecognizer("PrepkitAgeRecognizer", "AGE", _AGE_RULES, ["age", "old", "aged"], language),
        RegexRecognizer("PrepkitTitleRecognizer", "TITLE", _TITLE_RULES, [], language),
        RegexRecognizer("PrepkitMedicalRecordRecognizer", "MEDICAL_RECORD_NUMBER", _MRN_RULES, [], language),
        RegexRecognizer("PrepkitNpiRecognizer", "NPI", _NPI_RULES, [], language),
        RegexRecognizer("PrepkitHealthPlanRecognizer", "HEALTH_PLAN_NUMBER", _PLAN_RULES, [], language),
        RegexRecognizer("PrepkitAccountNumberRecognizer", "ACCOUNT_NUMBER", _ACCOUNT_RULES, [], language),
        RegexRecognizer("PrepkitDriverLicenseRecognizer", "US_DRIVER_LICENSE", _LICENSE_RULES, [], language),
        RegexRecognizer("PrepkitBirthDateRecognizer", "DATE_TIME", _DOB_RULES, [], language),
        RegexRecognizer("PrepkitPhoneRecognizer", "PHONE_NUMBER", _PHONE_RULES, [], language),
        RegexRecognizer("PrepkitCardRecognizer", "CREDIT_CARD", _CARD_RULES, [], language),
        RegexRecognizer("PrepkitHandleRecognizer", "PERSON", _HANDLE_RULES, [], language),
        ProperNounRecognizer(language),
    ]


# ---------------------------------------------------------------------------------------------------- post-filter
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
    - an NER guess that overlaps a finding of one of prepkit's cued rules (an age, a street address, a ZIP code);
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
            if hits and (r.entity_type != "PERSON" or not _trim(text, r, hits)):
                continue  # an NER guess inside a cued finding ("35-year-old" as a date) is the cued one's
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
                and _LONE_NAME.fullmatch(text[r.start:r.end]) and not _ORG_CUES.match(text[r.start:r.end]):
            r.entity_type = "PERSON"  # the small model's ORG for one unknown capitalized word is more often a name
        elif _recognizer(r) == "PrepkitHandleRecognizer" and _ORG_HANDLE.search(text[r.start:r.end]):
            r.entity_type = "ORGANIZATION"  # @nytimes, @CBSSports: an outlet's or a company's account
        elif r.entity_type == "PERSON" and _recognizer(r) == "SpacyRecognizer" and _AT_PLACE.search(
                text, max(0, r.start - 20), r.start):
            r.entity_type = "LOCATION"  # "lives in Kerry", "dinner at Olive Garden": people are not "in" a person
        if r.entity_type == "PERSON" and (lead := _SALUTATION_LEAD.match(text, r.start, r.end)) is not None:
            if lead.end() >= r.end:
                continue  # the whole span is a greeting
            r.start = lead.end()  # NER's "Hello Sam": the name is "Sam", the greeting stays in the text
        out.append(r)
    return _merge_same_type(out)


_SALUTATION_LEAD = re.compile(r"(?i)(?:hi|hello|hey|dear|greetings|thanks|thank\s+you|cheers|regards|bye|goodbye|"
                              r"good\s+(?:morning|afternoon|evening)|welcome|congratulations|congrats)\b[\s,!.:;]*")


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


# ---------------------------------------------------------------------------------------------------- case
# spaCy's small NER model keys on capitals: in all-lowercase or ALL-CAPS text (chat, social media) it finds almost
# no names. Such a text also goes through NER as a truecased copy: every word that is not a function word gets a
# capital. The copy has the same length as the text, so the entities found in it address the original 1:1.
_WORD = re.compile(r"[^\W\d_]+")
_LOWER_SHARE = 0.9  # share of words starting lower-case for a text to count as "all lowercase"
_UPPER_SHARE = 0.6  # share of multi-letter ALL-CAPS words for a text to count as "shouting"


_NOT_PROSE = re.compile(r"\S*(?:://|www\.)\S*|@[ \t]?\w+|\bRT\b")
_NEGATION = re.compile(r"\s?['’]\s?t\b")  # "don't", "wouldn ' t": the stem is no name


def case_mode(text: str) -> str | None:
    """"lower" for a mostly lower-case text, "upper" for a mostly ALL-CAPS one, None when its case carries signal."""
    # Links, @-handles and the retweet marker keep their own case whatever the writer's habit: not counted.
    words = _WORD.findall(_NOT_PROSE.sub(" ", text))
    if len(words) < 2:
        return None
    if sum(w.isupper() and len(w) > 1 for w in words) >= _UPPER_SHARE * len(words):
        return "upper"
    if sum(w[0].islower() for w in words) >= _LOWER_SHARE * len(words):
        return "lower"
    return None


def truecase(text: str, mode: str | None) -> str | None:
    """A same-length copy of `text` where every word that is not a function word has a capital (an ALL-CAPS text
    is lower-cased first); None when `mode` is None or a letter changes length with case ("İ").

    Capitalizing only the tagger's nouns was measured too: the tagger mislabels lower-case names, so fewer names
    came back."""
    from spacy.lang.en.stop_words import STOP_WORDS

    if mode is None:
        return None
    chars = list(text.lower() if mode == "upper" else text)
    if len(chars) != len(text):
        return None
    for m in _WORD.finditer(text):
        w = m.group(0)
        if len(w) < 2 or w.lower() in STOP_WORDS or _NEGATION.match(text, m.end()):
            continue
        first = w[0].upper()
        if len(first) == 1:
            chars[m.start()] = first
    return "".join(chars)
