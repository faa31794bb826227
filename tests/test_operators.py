"""Each operator on its own: formats, checksums, keys, parameters (real Faker, real keys)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prepkit.checksums import iban_valid, luhn_valid
from prepkit.keys import KeyRing
from prepkit.policy import load_policy
from prepkit.policy.load import PolicyError
from prepkit.records import Finding, Record, Segment
from prepkit.transform import Transformer
from prepkit.transform.builtin import HIPAA_RESTRICTED_ZIP3, generalize_age, generalize_zip
from prepkit.transform.crypto import TOKEN, DecryptError, decrypt_text, decrypt_token
from prepkit.transform.dates import DateRewriter, generalize_date, has_calendar_date

KEY = KeyRing.from_bytes(b"\x11" * 32, "test")
KEY2 = KeyRing.from_bytes(b"\x22" * 32, "test")

POLICY = """
version: 1
name: ops
detection: {{entities: [PERSON]}}
routing: {{default: {{route: quarantine, reason: r}}}}
actions:
{actions}
"""


def transformer(tmp_path: Path, actions: str, key: KeyRing = KEY) -> Transformer:
    p = tmp_path / "p.yaml"
    p.write_text(POLICY.format(actions=actions))
    return Transformer(load_policy(p), key)


def one(t: Transformer, value: str, etype: str, before: str = "x ", after: str = " y") -> str:
    text = before + value + after
    r = Record("r", "s", "text", [Segment("text", text)])
    out = t.transform(r, [Finding(0, len(before), len(before) + len(value), etype, 0.9)])
    a = out.applied[0]
    assert out.texts[0][: a.start] == before and out.texts[0][a.end :] == after
    return out.texts[0][a.start : a.end]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Transformer:
    return transformer(tmp_path_factory.mktemp("s"), "  DEFAULT: {operator: synthesize}")


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"])
def test_card_keeps_issuer_length_format_and_luhn(synth: Transformer, card: str) -> None:
    out = one(synth, card, "CREDIT_CARD")
    assert out != card and luhn_valid(out)
    assert re.sub(r"\d", "0", out) == re.sub(r"\d", "0", card)  # same separators at the same places
    assert out[0] == card[0] and (card[0] == "4" or out[:2] == card[:2])


@pytest.mark.parametrize("iban", ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "fr1420041010050500013m02606"])
def test_iban_keeps_country_length_and_checksum(synth: Transformer, iban: str) -> None:
    out = one(synth, iban, "IBAN_CODE")
    assert out != iban and iban_valid(out)
    assert out[:2] == iban[:2] and len(out) == len(iban)
    assert [i for i, c in enumerate(out) if c == " "] == [i for i, c in enumerate(iban) if c == " "]


@pytest.mark.parametrize("phone", ["+1 (415) 555-0132", "415.555.0132", "+44 20 7946 0958", "020 7946 0958"])
def test_phone_keeps_format_and_country(synth: Transformer, phone: str) -> None:
    out = one(synth, phone, "PHONE_NUMBER")
    assert out != phone and re.sub(r"\d", "0", out) == re.sub(r"\d", "0", phone)
    if phone.startswith("+"):
        assert out[:3] == phone[:3]


def test_ssn_is_valid_shape(synth: Transformer) -> None:
    out = one(synth, "123-45-6789", "US_SSN")
    area, group, serial = out.split("-")
    assert len(area) == 3 and area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def test_email_shape_and_keep_domain(tmp_path: Path, synth: Transformer) -> None:
    out = one(synth, "maria.lopez@acme-widgets.com", "EMAIL_ADDRESS")
    assert re.fullmatch(r"[a-z]+\.[a-z]+@[\w.-]+", out) and "acme-widgets" not in out
    assert one(synth, "jdoe77@gmail.com", "EMAIL_ADDRESS").endswith("@gmail.com")  # a provider names nobody
    keep = transformer(tmp_path, "  EMAIL_ADDRESS: {operator: synthesize, keep_domain: true}")
    out = one(keep, "maria.lopez@acme-widgets.com", "EMAIL_ADDRESS")
    assert out.endswith("@acme-widgets.com") and not out.startswith("maria.lopez")


def test_name_variants_map_coherently(synth: Transformer) -> None:
    text = "Maria Lopez called. Ms. Lopez was upset; Maria asked for M. Lopez's file. LOPEZ, MARIA signed."
    r = Record("r", "s", "text", [Segment("text", text)])
    fs = []
    for v in ["Maria Lopez", "Ms. Lopez", "Maria", "M. Lopez", "LOPEZ, MARIA"]:
        for m in re.finditer(re.escape(v), text):
            fs.append(Finding(0, m.start(), m.end(), "PERSON", 0.9 + len(v) / 100))
    out = synth.transform(r, fs).texts[0]
    m = re.match(r"(\w+) (\w+) called\. Ms\. (\w+) was upset; (\w+) asked for (\w)\. (\w+)'s file\. (\w+), (\w+) signed\.", out)
    assert m, out
    given, family = m[1], m[2]
    assert given != "Maria" and family != "Lopez"
    assert m[3] == family and m[4] == given and m[5] == given[0] and m[6] == family
    assert m[7] == family.upper() and m[8] == given.upper()


def test_dates_shift_by_one_offset_per_subject(synth: Transformer) -> None:
    text = "Anna Berg was admitted 2023-03-01 and discharged 2023-03-11."
    r = Record("r", "s", "text", [Segment("text", text)])
    fs = [Finding(0, 0, 9, "PERSON", 0.9), Finding(0, 23, 33, "DATE_TIME", 0.9), Finding(0, 49, 59, "DATE_TIME", 0.9)]
    out = synth.transform(r, fs).texts[0]
    d1, d2 = re.findall(r"\d{4}-\d{2}-\d{2}", out)
    import datetime as dt

    assert (dt.date.fromisoformat(d2) - dt.date.fromisoformat(d1)).days == 10
    assert d1 != "2023-03-01"
    assert one(synth, "yesterday", "DATE_TIME") == "yesterday"  # no calendar date: nothing to hide


def test_date_rewriter_keeps_formats() -> None:
    r = DateRewriter(40)
    assert r.rewrite("2023-03-15") == "2023-04-24"
    assert r.rewrite("03/15/2023") == "04/24/2023"
    assert r.rewrite("March 15, 2023") == "April 24, 2023"
    assert r.rewrite("Mar 3rd") == "Apr 12th"
    assert r.rewrite("15th of March 2023") == "24th of April 2023"
    assert not has_calendar_date("two weeks") and has_calendar_date("in 1977")
    assert generalize_date("born 03/15/1980", "year") == "1980"
    assert generalize_date("March 15, 2023 at noon", "month") == "March 2023"


def test_generalize_zip_age(tmp_path: Path) -> None:
    assert generalize_zip("02139-4307") == "021"
    for z3 in HIPAA_RESTRICTED_ZIP3:
        assert generalize_zip(z3 + "12") == "000"
    assert generalize_age("34 years old", 10) == "30-39 years old"
    assert generalize_age("aged 92", 10) == "aged 90+"
    t = transformer(tmp_path, "  AGE: {operator: generalize, band: 5}\n  ZIP_CODE: {operator: generalize}\n"
                    "  DATE_TIME: {operator: generalize, granularity: month}")
    assert one(t, "47", "AGE") == "45-49"
    assert one(t, "89", "AGE") == "85-89"
    assert one(t, "05901", "ZIP_CODE") == "000"
    assert one(t, "2021-07-04", "DATE_TIME") == "July 2021"


def test_mask_parameters(tmp_path: Path) -> None:
    t = transformer(tmp_path, "  CREDIT_CARD: {operator: mask, chars: '#', count: 12, keep: ' '}\n"
                    "  US_SSN: {operator: mask, count: 4, from_end: true}")
    assert one(t, "4111 1111 1111 1234", "CREDIT_CARD") == "#### #### #### 1234"
    assert one(t, "123-45-6789", "US_SSN") == "123-45-****"


def test_hash_is_keyed_and_stable(tmp_path: Path) -> None:
    a = transformer(tmp_path, "  DEFAULT: {operator: hash}")
    b = transformer(tmp_path, "  DEFAULT: {operator: hash}", KEY2)
    import hashlib

    h = one(a, "jane@example.com", "EMAIL_ADDRESS")
    assert h == one(a, "JANE@Example.com", "EMAIL_ADDRESS")  # normalized: case does not make a new subject
    assert h == one(a, "jane@example.com", "EMAIL_ADDRESS") and re.fullmatch(r"[0-9a-f]{16}", h)
    assert h != one(b, "jane@example.com", "EMAIL_ADDRESS")
    assert h not in hashlib.sha256(b"jane@example.com").hexdigest()  # not a bare (dictionary-reversible) hash


def test_encrypt_roundtrip_wrong_key_and_tamper(tmp_path: Path) -> None:
    t = transformer(tmp_path, "  DEFAULT: {operator: encrypt}")
    tok = one(t, "Maria Lopez", "PERSON")
    m = TOKEN.fullmatch(tok)
    assert m and m[1] == KEY.key_id and m[2] == "PERSON" and "Maria" not in tok
    assert tok == one(t, "Maria Lopez", "PERSON")  # deterministic: the corpus stays coherent
    assert decrypt_token(KEY, tok) == "Maria Lopez"
    assert decrypt_text(KEY, f"a {tok} b {tok}") == ("a Maria Lopez b Maria Lopez", 2)
    with pytest.raises(DecryptError, match="key id"):
        decrypt_token(KEY2, tok)
    body = m[3]
    bad = tok.replace(body, body[:-2] + ("AA" if body[-2:] != "AA" else "BB"))
    with pytest.raises(DecryptError, match="authentication"):
        decrypt_token(KEY, bad)


@pytest.mark.parametrize(
    ("actions", "path", "fragment"),
    [
        ("  PERSON: {operator: redakt}", "actions.PERSON.operator", "did you mean 'redact'"),
        ("  PERSON: {operator: mask, chars: '**'}", "actions.PERSON.chars", "exactly one character"),
        ("  PERSON: {operator: mask, count: two}", "actions.PERSON.count", "must be int"),
        ("  PERSON: {operator: mask, from_end: 1}", "actions.PERSON.from_end", "must be bool"),
        ("  PERSON: {operator: replace, template: '<{kind}>'}", "actions.PERSON.template", "unknown field"),
        ("  PERSON: {operator: hash, lenght: 8}", "actions.PERSON.lenght", "did you mean 'length'"),
        ("  PERSON: {operator: generalize}", "actions.PERSON.operator", "generalize knows"),
        ("  AGE: {operator: generalize, band: 1}", "actions.AGE.band", "between 2 and 50"),
        ("  DATE_TIME: {operator: generalize, granularity: week}", "actions.DATE_TIME.granularity", "year or month"),
        ("  PERSON: {operator: synthesize, keep_domain: true}", "actions.PERSON.keep_domain", "EMAIL_ADDRESS"),
        ("  PERSON: {operator: synthesize, locale: xx_YY}", "actions.PERSON.locale", "unknown Faker locale"),
    ],
)
def test_bad_parameters_fail_at_load_with_field_path(tmp_path: Path, actions: str, path: str, fragment: str) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(POLICY.format(actions=actions))
    with pytest.raises(PolicyError) as e:
        load_policy(p)
    line = next(x for x in str(e.value).splitlines() if path in x)
    assert fragment in line and line.startswith(f"{p}:") and ":7:" in line  # file:line of the action


def test_policy_locale_is_checked_and_used(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(POLICY.format(actions="  DEFAULT: {operator: synthesize}").replace("name: ops", "name: ops\nlocale: en_XX"))
    with pytest.raises(PolicyError, match=r"locale: unknown Faker locale 'en_XX'"):
        load_policy(p)
    p.write_text(POLICY.format(actions="  DEFAULT: {operator: synthesize}").replace("name: ops", "name: ops\nlocale: de_DE"))
    t = Transformer(load_policy(p), KEY)
    # Every generator works in a locale without US states or secondary addresses.
    for value, etype in [("12 Oak Street Apt. 4, Springfield, IL 62704", "LOCATION"), ("Maria Lopez", "PERSON"),
                         ("maria@acme.com", "EMAIL_ADDRESS"), ("Acme Corp", "ORGANIZATION"), ("AB-123", "MRN")]:
        out = one(t, value, etype)
        assert out and out != value and "\n" not in out
