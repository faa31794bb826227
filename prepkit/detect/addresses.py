"""Street addresses: street-line rules in English and the common international formats, each match grown over
the rest of its address block (unit, city, region, postcode, country)."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from prepkit.detect.rules import RegexRecognizer, Rule, _dedupe, _rx

# Street types in English and the languages of common international address formats. Suffix forms are glued to
# the street name in Germanic/Nordic languages ("Hauptstrasse 5", "Storgatan 7"), prefix forms precede it.
_ST_EN = (r"Street|St|Road|Rd|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Boulevard|Blvd|Terrace|Ter|"
          r"Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|Close|Row|Alley|Plaza|Loop|"
          r"Pike|Grove|Gardens|Gdns|Hill|Hills|Point|Ridge|View|Walk|Mews|Green|Parade|Esplanade|Quay|"
          r"Wharf|Rise|Vale|Heights|Expressway|Freeway|Turnpike|Junction|Crossing|Landing|Manor|Meadow|"
          r"Meadows|Orchard|Path|Pass|Passage|Port|Ramp|Route|Spur|Station|Summit|Track|Trace|Tunnel|"
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
# A word of a street name before its type: capitalized, an ordinal or a lone letter ("12 b Baker St", "5th").
# A lower-case word makes it prose, not an address: "2004 the Warsaw Regional Court", "1 before the High Court".
_STREET_WORD = r"(?:[^\W\d_a-z][\w'’.-]*|\d{1,3}(?:st|nd|rd|th)|[a-z])"
_NOT_LOWER = r"(?-i:(?![a-zß-ÿ]))"  # inside an IGNORECASE rule: the next word is not lower-case ("measuring 2")
_NUM = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"

_STREET_RULES = [
    # "1600 Pennsylvania Avenue", "12 b Baker St", "3178 254 Damvergi Street"
    Rule("number street type", _rx(
        rf"(?<![\w-]){_NUM}(?:\s+{_NUM})?,?\s+(?:{_STREET_WORD}\s+){{1,4}}(?:{_ST_EN})\.?(?![\w-])"), 0.7),
    # "Via dei Fiorentini 17", "Rue de Virton 38", "ul. Słowicza 10", optionally with a house number first
    Rule("street prefix number", _rx(
        rf"(?<![\w-])(?:{_NUM}\s+)?(?:{_NOT_LOWER}|(?=(?:ul|al|os|pl)\.))(?:{_ST_PREFIX})\s+(?:{_NAME}\s+){{0,4}}{_NUM}"
        rf"(?![\w-])", re.IGNORECASE), 0.7),
    # "Hauptstrasse 5", "Storgatan 7", "Trenerys gate 232", "Koskikatu 25", with an optional number first
    Rule("street suffix number", _rx(
        rf"(?<![\w-])(?:{_NUM}\s+)?(?:{_NAME}\s+){{0,2}}{_NOT_LOWER}[^\W\d_][\w-]*?(?:{_ST_SUFFIX})\s+{_NUM}(?![\w-])",
        re.IGNORECASE), 0.65),
    # "Hafnar tér 19", "Trenerys gate 232": the street type as a word of its own after the name
    Rule("street type word number", _rx(
        rf"(?<![\w-])(?:{_NUM}\s+)?{_NOT_LOWER}(?:{_NAME}\s+){{1,2}}(?:{_ST_SUFFIX})\.?\s+{_NUM}(?![\w-])", re.IGNORECASE), 0.65),
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
    Rule("unit", _rx(r"(?<![\w-])(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|Room|Rm|Bldg|Building)\.?[ \t]*#?[ \t]*"
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
