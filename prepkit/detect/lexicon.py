"""Word lists the proper-noun pass weighs its evidence with: common English words and known given/family names.

A capital alone says little: form labels ("Patient", "Provider"), headings, sentence openers and legal words
("Section", "Petitioner", "Article") are capitalized common words. A run of capitalized words is a name only
with evidence beyond its capitals; one piece of it is whether any of its words is a known name, another whether
all of them are common words.

Common words: wordfreq's most frequent English words (its data ships inside the wheel, nothing downloads), minus
the known names, since "John", "Smith" or "Rose" are frequent words too, and minus the frequent words that are
mostly written capitalized ("Trump", "Google", "Scotland"): wordfreq folds case, so without the second cut a
famous name counted as a common word and a person named by it lost its evidence. Which words those are comes from
a case-sensitive frequency table (proper_words.json, built by bench/proper_words.py). Known names: the given and
family names of Faker's person providers for the Latin-script locales below (Faker is already a dependency, for
surrogates; importing all of its locales costs seconds, these few a fraction of one).
"""

from __future__ import annotations

import importlib
import json
import re
from functools import lru_cache
from importlib import resources

# How many of the most frequent English words count as common. At 20k the list holds "petitioner", "battery",
# "patient" but not rare surnames ("chaddock"); measured on the seven dev sets (bench/CALIBRATION.md).
COMMON_WORDS = 20_000
_LOCALES = ("en", "en_US", "en_GB", "en_IE", "en_IN", "en_NZ", "en_PK", "es", "es_ES", "es_MX", "fr_FR", "de_DE",
            "it_IT", "pl_PL", "pt_BR", "pt_PT", "nl_NL", "sv_SE", "da_DK", "cs_CZ", "tr_TR", "id_ID", "ro_RO", "hu_HU",
            "fi_FI", "no_NO")
_NAME_ATTRS = ("first_names", "last_names", "first_names_male", "first_names_female", "first_names_nonbinary")


@lru_cache(maxsize=1)
def known_names() -> frozenset[str]:
    out: set[str] = set()
    for locale in _LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in _NAME_ATTRS:
            names = getattr(provider, attr, None)
            if not isinstance(names, (list, tuple, dict)):
                continue  # some locales compute theirs (a property), others have none
            out.update(n.casefold() for n in names if n.isascii() and n.isalpha() and len(n) > 1)
    return frozenset(out)


@lru_cache(maxsize=1)
def frequent_words() -> tuple[str, ...]:
    """wordfreq's COMMON_WORDS most frequent English words, case-folded, most frequent first."""
    from wordfreq import top_n_list

    return tuple(top_n_list("en", COMMON_WORDS))


@lru_cache(maxsize=1)
def proper_words() -> frozenset[str]:
    """Frequent words that are mostly written capitalized: names of people, places, firms ("putin", "google")."""
    data = json.loads(resources.files("prepkit.detect").joinpath("proper_words.json").read_text(encoding="utf-8"))
    return frozenset(data["words"])


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Frequent English words in their ordinary, lower-case use: no known given or family name, no word that is
    mostly written capitalized. Case-folded."""
    drop = known_names() | proper_words()
    return frozenset(w for w in frequent_words() if w not in drop)


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Countries, US states and cities of 15,000 people or more (GeoNames; place_names.json, built by
    bench/place_names.py), case-folded, words joined by one space."""
    data = json.loads(resources.files("prepkit.detect").joinpath("place_names.json").read_text(encoding="utf-8"))
    return frozenset(data["names"])


_LETTERS = re.compile(r"[^\W\d_]+")


def is_place(value: str) -> bool:
    """Is `value` a known place's name and nothing else: not a known given or family name ("Houston", "Jackson"),
    not made of common words only ("Mobile", "Reading")?"""
    words = [w.casefold() for w in _LETTERS.findall(value)]
    if not words or " ".join(words) not in place_names():
        return False
    names, common = known_names(), common_words()
    return not any(w in names for w in words) and not all(w in common for w in words)
