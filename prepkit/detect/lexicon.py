"""Word lists the proper-noun pass weighs its evidence with: common English words and known given/family names.

A capital alone says little: form labels ("Patient", "Provider"), headings, sentence openers and legal words
("Section", "Petitioner", "Article") are capitalized common words. A run of capitalized words is a name only
with evidence beyond its capitals; one piece of it is whether any of its words is a known name, another whether
all of them are common words.

Common words: wordfreq's most frequent English words (its data ships inside the wheel, nothing downloads), minus
the known names, since "John", "Smith" or "Rose" are frequent words too. Known names: the given and family names
of Faker's person providers for the Latin-script locales below (Faker is already a dependency, for surrogates;
importing all of its locales costs seconds, these few a fraction of one).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

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
def common_words() -> frozenset[str]:
    from wordfreq import top_n_list

    names = known_names()
    return frozenset(w for w in top_n_list("en", COMMON_WORDS) if w not in names)
