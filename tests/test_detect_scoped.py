"""Word-scoped pattern recognizers (prepkit/detect/scoped.py) must find exactly what Presidio's whole-text scan
finds: same entity, offsets and score, on real texts and on adversarial ones built from the characters these
patterns care about (dots, @, colons, quotes, slashes, every kind of whitespace)."""

from __future__ import annotations

import json

from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer, UrlRecognizer

from prepkit.detect.scoped import scope
from tests.conftest import SAMPLES

CLASSES = (UrlRecognizer, EmailRecognizer)
PAIRS = []
for cls in CLASSES:
    scoped = cls()
    assert scope(scoped)
    PAIRS.append((cls(), scoped))


def _found(rec, text: str) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, r.score) for r in rec.analyze(text, rec.supported_entities))


def _assert_same(text: str) -> int:
    hits = 0
    for whole, scoped in PAIRS:
        want = _found(whole, text)
        assert _found(scoped, text) == want, (type(whole).__name__, text[:200])
        hits += len(want)
    return hits


def _faker_texts(n: int = 300) -> list[str]:
    fake = Faker("en_US")
    Faker.seed(11)
    shapes = [
        lambda: f"See {fake.url()} or write to {fake.email()}.",
        lambda: f"Server {fake.ipv4()} ({fake.ipv6()}) mac {fake.mac_address()}, id {fake.uuid4()}; ok?",
        lambda: f'link:"{fake.url()}path/x?q=1" <{fake.email()}>, www.{fake.domain_word()}.co.uk/a.b',
        lambda: f"{fake.sentence()} e.g. v1.2.3 at 10:30, {fake.domain_name()}:8080/x-y {fake.ipv4()}/24.",
        lambda: f"{fake.first_name()}.{fake.last_name()}@{fake.free_email_domain()}\t{fake.hostname()}\n::1 ::",
    ]
    texts = [shapes[i % len(shapes)]() for i in range(n)]
    return texts + [t.upper() for t in texts[::7]]  # the URL patterns ignore case: so must the scoping


def test_scoped_equals_whole_text_on_samples_and_faker_texts() -> None:
    texts = _faker_texts()
    for line in (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        texts += [m["content"] for m in json.loads(line)["messages"]]
    hits = sum(_assert_same(t) for t in texts)
    assert hits > 500  # the comparison really covered matches of every kind


def test_each_recognizer_is_scoped_only_for_its_own_class() -> None:
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, PhoneRecognizer

    assert not any(scope(r) for r in (PhoneRecognizer(), CreditCardRecognizer(), IpRecognizer()))


_ALPHABET = st.sampled_from(list("abcxyzABZ019.@:-_/'\"()<>?=#%+~") +
                            [" ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "com", "www.", "http://", "https://",
                             ".com", ".COM", "WWW.", ".co.uk", ".org/", "192.168.", "::", "ffff:", "fe80:", "0a:1b:", "a@b.c",
                             "-4a5b-", "é", "ß", "٣"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_scoped_equals_whole_text_on_adversarial_text(text: str) -> None:
    _assert_same(text)
