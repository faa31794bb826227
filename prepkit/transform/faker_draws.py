"""Faker's weighted draws with the cumulative weights computed once per list, not once per draw.

Faker draws a name, a street suffix or a city from an OrderedDict of weights by copying the weights and handing
them to `random.choices`, which adds them up again: for a list of thousands of names that is most of the cost of
a surrogate, and a long record draws tens of thousands. `random.choices(population, weights, k=1)` is
`population[bisect(cum_weights, random() * total, 0, n - 1)]` with `cum_weights = list(accumulate(weights))` and
`total = cum_weights[-1] + 0.0`; the draws here do exactly that with the sums kept, so they consume the same random
number and return the same element (tests/test_transform_faker_draws.py compares them with Faker's own over many
seeds). Only the single weighted draw is replaced; every other call goes to Faker as before.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import OrderedDict
from typing import Any

from faker import Faker

_Sums = tuple[Any, tuple[Any, ...], list[float], float]  # (the weights' dict, its keys, running sums, total)


def install(faker: Faker) -> Faker:
    """Give every provider of this (private) Faker instance the kept-sums weighted draw."""
    sums: dict[int, _Sums] = {}  # id(weights dict) -> sums; Faker's lists are module constants, never rebuilt
    for provider in faker.providers:
        _install_on(provider, sums)
    return faker


def _install_on(provider: Any, sums: dict[int, _Sums]) -> None:
    faker_draws = provider.random_elements

    def random_elements(elements: Any = ("a", "b", "c"), length: int | None = None, unique: bool = False,
                        use_weighting: bool | None = None) -> Any:
        weighted = provider.__use_weighting__ if use_weighting is None else use_weighting
        if length != 1 or unique or not weighted or type(elements) is not OrderedDict:
            return faker_draws(elements, length, unique, use_weighting)
        hit = sums.get(id(elements))
        if hit is None or hit[0] is not elements:
            cum = list(itertools.accumulate(elements.values()))
            total = cum[-1] + 0.0 if cum else 0.0
            if not cum or total <= 0.0 or not math.isfinite(total):
                return faker_draws(elements, length, unique, use_weighting)  # Faker's own error
            hit = sums[id(elements)] = (elements, tuple(elements.keys()), cum, total)
        _, keys, cum, total = hit
        return [keys[bisect.bisect(cum, provider.generator.random.random() * total, 0, len(cum) - 1)]]

    provider.random_elements = random_elements
