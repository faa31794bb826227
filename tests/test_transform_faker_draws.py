"""The kept-sums weighted draw gives what Faker's own draw gives, seed for seed (surrogates must not change)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from faker import Faker

from prepkit.transform import faker_draws

# Methods whose lists are weighted (names, places, companies) and some that are not, as the generators call them.
METHODS = ("first_name", "first_name_female", "first_name_male", "last_name", "name", "prefix", "company", "city",
           "street_address", "state", "postcode", "country", "job", "domain_name", "user_name", "email", "ipv4")


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "en_GB"])
def test_same_values_as_fakers_own_draws(locale: str) -> None:
    plain, fast = Faker(locale), faker_draws.install(Faker(locale))
    methods = [m for m in METHODS if hasattr(plain, m)]  # en_GB has no states
    assert len(methods) >= len(METHODS) - 1
    for seed in range(150):
        for method in methods:
            plain.seed_instance(seed)
            fast.seed_instance(seed)
            assert getattr(fast, method)() == getattr(plain, method)(), (seed, method)


def test_the_kept_sums_are_used_and_other_draws_go_to_faker() -> None:
    fast = faker_draws.install(Faker("en_US"))
    person = next(p for p in fast.providers if hasattr(p, "first_names_female"))
    assert isinstance(person.first_names_female, OrderedDict)  # a weighted list: the fast path is taken for it
    assert "random_elements" in vars(person)  # installed on the instance, Faker's class is untouched
    assert "random_elements" not in vars(next(p for p in Faker("en_US").providers if hasattr(p, "first_names")))
    plain = Faker("en_US")
    weights = OrderedDict([("a", 0.5), ("b", 0.25), ("c", 0.25)])
    for seed in range(50):  # several elements, unique or unweighted: Faker's own code, same answers
        plain.seed_instance(seed)
        fast.seed_instance(seed)
        assert fast.random_elements(weights, length=4) == plain.random_elements(weights, length=4)
        assert fast.random_elements(weights, length=2, unique=True) == plain.random_elements(weights, length=2,
                                                                                              unique=True)
        assert fast.random_element(("x", "y", "z")) == plain.random_element(("x", "y", "z"))
    with pytest.raises(ValueError):  # zero weights: Faker's own error, not an index error
        fast.random_element(OrderedDict([("a", 0.0)]))


def test_hmac_with_kept_pads_is_the_hmac_modules() -> None:
    """Surrogate seeds and subject hashes come from `keyed.hmac_sha256`: byte for byte the standard HMAC."""
    import hmac

    from prepkit.transform.keyed import hmac_sha256

    for key in (b"", b"k" * 32, bytes(range(64)), bytes(range(200))):  # short, block-sized and hashed keys
        for msg in (b"", b"PERSON/given\x00maria\x000", "é, 北京".encode() * 40):
            assert hmac_sha256(key, msg) == hmac.digest(key, msg, "sha256")
    assert hmac_sha256(b"a" * 32, b"m") != hmac_sha256(b"b" * 32, b"m")  # the pads are kept per key
