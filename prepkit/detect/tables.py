"""Rule tables for the values Presidio lacks or finds badly: postcodes, ages, titles, health and account ids,
birth dates, phone numbers, card numbers and @-handles.

Every rule is written against the *shape* of the data (how ages or record numbers are written in general),
never against individual evaluation documents; `bench/EVAL.md` records what each one buys.
"""

from __future__ import annotations

import re

from prepkit.checksums import luhn_valid
from prepkit.detect.rules import Rule, _rx

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
    return len(digits) == 10 and luhn_valid("80840" + digits)


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

# ---------------------------------------------------------------------------------------------------- SSNs
def _ssn_valid(value: str) -> bool:
    """The SSA's structural rules: no area 000, 666 or 900-999, no group 00, no serial 0000."""
    d = re.sub(r"\D", "", value)
    return len(d) == 9 and d[:3] not in {"000", "666"} and d[0] != "9" and d[3:5] != "00" and d[5:] != "0000"


# Presidio wants the dashed form or a cue word within its context window and scores a bare nine-digit number 0.4
# with one; behind an explicit cue any nine digits are the number. (A 3-2-4 dashed number Presidio's phone
# recognizer claims is retyped in refine.py.) Scored above Presidio's context-raised 0.85 so that, of two findings of
# one span, Presidio keeps this one, whose calibrated precision is its own.
_SSN_RULES = [
    Rule("cued ssn", _rx(r"\b(?:social\s+security(?:\s+(?:number|no\.?|num|#))?|SSN|SS#|SSN#)\s*(?:is|:|#|=|-)?"
                         r"\s*(?P<v>\d{3}[- .]?\d{2}[- .]?\d{4})(?![\d-])", re.IGNORECASE), 0.9, "v", _ssn_valid),
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


# Presidio's card pattern knows the big schemes' prefixes and lengths; a Luhn-valid 12-19 digit number right after
# a card cue is a card number whatever its scheme (Maestro, UnionPay, 19-digit Visa...).
_CARD_RULES = [
    Rule("cued card", _rx(r"\b(?:card|cc|credit|debit|visa|mastercard|amex|maestro)\s*(?:no\.?|number|num|#)?\s*"
                          r"(?:is|:|#|=)?\s*(?P<v>\d(?:[ -]?\d){11,18})(?![\d-])", re.IGNORECASE), 0.8, "v",
         luhn_valid),
]


# ---------------------------------------------------------------------------------------------------- people
# An @-mention is a person's (or an account's) online identifier: personal data even when the name is invented.
_HANDLE_RULES = [
    Rule("at-mention", _rx(r"(?<![\w.@])@[ \t]?(?P<v>[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]{1,29})(?![\w@.-]*\.[a-z]{2,})"),
         0.6, "v"),
]
