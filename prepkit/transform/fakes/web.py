"""E-mail addresses (local parts read as name parts where they are), web addresses, domains and IP addresses."""

from __future__ import annotations

import ipaddress
import re
import string

from prepkit.transform.context import DocContext
from prepkit.transform.fakes.common import MAX_ATTEMPTS, SurrogateError, case_like, fake_generic
from prepkit.transform.fakes.names import doc_names, name_lists
from prepkit.transform.subjects import normalize

_FREE_MAIL = {
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com", "icloud.com",
    "me.com", "msn.com", "gmx.com", "gmx.de", "web.de", "proton.me", "protonmail.com", "yandex.ru", "mail.ru",
    "hotmail.co.uk", "yahoo.co.uk", "orange.fr", "free.fr", "qq.com", "163.com",
}


def fake_domain(domain: str, ctx: DocContext) -> str:
    d = domain.lower()
    if d in _FREE_MAIL:
        return domain  # a mail provider identifies nobody
    for attempt in range(MAX_ATTEMPTS):
        fake = ctx.shared.seeded("DOMAIN", d, attempt).domain_name()
        if fake != d and not ctx.is_real(fake):
            return case_like(domain, fake)
    raise SurrogateError("domain: no surrogate")


def fake_email(value: str, ctx: DocContext, keep_domain: bool, attempt: int, last_resort: bool = False) -> str:
    """`last_resort`: the draws after the usual ones all met a real value of the record. They vary what those keep
    the same in every attempt: a one-letter part gets a letter drawn per attempt instead of the initial of the
    mapped name (a lone "K." detected as a person is in every "x.k.y@" draw otherwise), and a kept free-mail
    domain becomes another free-mail domain (a record where "yahoo" or "hotmail.com" was detected on its own
    holds it in every draw otherwise)."""
    local, at, domain = value.rpartition("@")
    if not at:
        return fake_generic(value, ctx.shared.rng("EMAIL", normalize(value), attempt))
    names = doc_names(ctx)
    letters = ctx.shared.rng("EMAIL/initials", normalize(value), attempt) if last_resort else None
    female, male, last = name_lists(ctx.shared.locale)
    out = []
    for chunk in re.split(r"([._+-]|\d+)", local):
        if not chunk or chunk in "._+-":
            out.append(chunk)
        elif chunk.isdigit():
            rng = ctx.shared.rng("EMAIL/digits", normalize(value), attempt)
            out.append("".join(str(rng.randrange(10)) for _ in chunk))
        elif len(chunk) == 1:
            if letters is not None:
                letter = letters.choice(string.ascii_lowercase)
                out.append(letter.upper() if chunk.isupper() else letter)
            else:
                out.append(names.initial(chunk, normalize(value)).lower() if chunk.islower() else names.initial(chunk, normalize(value)))
        else:
            low = chunk.lower()
            if low in names.family_parts or (low in last and low not in female | male | names.given_parts):
                out.append(case_like(chunk, names.part(chunk, "family", []).lower()))
            elif low in names.given_parts or low in female or low in male:
                out.append(case_like(chunk, names.part(chunk, "given", []).lower()))
            else:
                f = ctx.shared.seeded("EMAIL/word", low, attempt)
                word = re.sub(r"[^a-z]", "", f.user_name().lower()) or "user"
                out.append(case_like(chunk, word))
    if keep_domain:
        new_domain = domain
    elif last_resort and domain.lower() in _FREE_MAIL:
        others = sorted(_FREE_MAIL - {domain.lower()})
        new_domain = case_like(domain, ctx.shared.rng("EMAIL/provider", domain.lower(), attempt).choice(others))
    else:
        new_domain = fake_domain(domain, ctx)
    return "".join(out) + "@" + new_domain


def fake_url(value: str, ctx: DocContext, attempt: int) -> str:
    m = re.match(r"(?i)^((?:[a-z][a-z0-9+.-]*:)?//)?(www\d?\.)?([^/?#:\s]+)(:\d+)?([^?#]*)(.*)$", value)
    if not m:
        return fake_generic(value, ctx.shared.rng("URL", normalize(value), attempt))
    scheme, www, host, port, path, rest = (g or "" for g in m.groups())
    f = ctx.shared.seeded("URL/path", normalize(value), attempt)
    new_path = "/" + f.uri_path(deep=max(1, path.strip("/").count("/") + 1)) if path.strip("/") else path
    new_rest = ("?" + f.uri_page() + "=" + str(f.random_int(1, 999))) if rest else ""
    return f"{scheme}{www}{fake_domain(host, ctx)}{port}{new_path}{new_rest}"


def fake_ip(value: str, ctx: DocContext, attempt: int) -> str:
    addr, slash, plen = value.partition("/")
    f = ctx.shared.seeded("IP", normalize(value), attempt)
    try:
        ip = ipaddress.ip_address(addr.strip("[]"))
    except ValueError:
        return fake_generic(value, ctx.shared.rng("IP", normalize(value), attempt))
    new = f.ipv6() if ip.version == 6 else f.ipv4_private() if ip.is_private else f.ipv4_public()
    return new + slash + plen
