"""Faker-made support tickets and internal documents of a requested size, fast.

Faker is slow per call (tens of µs), so it fills pools of values once and records are assembled from the pools
with a seeded RNG: a 100 MB corpus takes seconds, and the same size and seed give the same bytes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from faker import Faker

_POOL = 4000


def _pools(seed: int) -> dict[str, list[str]]:
    fake = Faker("en_US")
    Faker.seed(seed)
    n = _POOL
    return {
        "name": [fake.name() for _ in range(n)],
        "first": [fake.first_name() for _ in range(n)],
        "email": [fake.email() for _ in range(n)],
        "phone": [fake.phone_number() for _ in range(n)],
        "address": [fake.address().replace("\n", ", ") for _ in range(n)],
        "city": [fake.city() for _ in range(n)],
        "company": [fake.company() for _ in range(n)],
        "ssn": [fake.ssn() for _ in range(n // 4)],
        "card": [fake.credit_card_number() for _ in range(n // 4)],
        "iban": [fake.iban() for _ in range(n // 4)],
        "ip": [fake.ipv4() for _ in range(n // 4)],
        "date": [fake.date() for _ in range(n)],
        "url": [fake.url() for _ in range(n // 4)],
        "sentence": [fake.sentence(nb_words=14) for _ in range(n * 2)],
        "product": ["Northwind Analytics Pro", "the billing portal", "the mobile app", "the VPN client",
                    "the data export", "single sign-on", "the reporting API", "the admin console"],
    }


_TICKET_OPENERS = [
    "Hi, this is {name}. I cannot log in to {product} since yesterday.",
    "Hello support, {name} here from {company}. {product} keeps timing out.",
    "Dear team, my colleague {first} asked me to report a problem with {product}.",
    "Good morning, I'm {name} and I was charged twice for {product} on {date}.",
]
_TICKET_DETAILS = [
    "You can reach me at {email} or {phone}.",
    "Please call me back on {phone} after 3pm.",
    "My billing address is {address}.",
    "The card on file is {card}, please refund it.",
    "For verification my SSN is {ssn}.",
    "Our office moved to {city} last month.",
    "The request came from IP {ip} according to our logs.",
    "Please wire the refund to {iban}.",
    "See {url} for the screenshot.",
    "Send the invoice to {email}, attention {name}.",
]
_AGENT = [
    "Thanks {first}, I've opened a case and will follow up by email at {email}.",
    "Hi {first}, I reset the session for your account; please try again.",
    "Hello {first}, our engineer {name} will call you at {phone} tomorrow.",
]


def _fill(template: str, pools: dict[str, list[str]], rng: random.Random) -> str:
    keys = [k for k in pools if "{" + k + "}" in template]
    return template.format(**{k: rng.choice(pools[k]) for k in keys})


def ticket(pools: dict[str, list[str]], rng: random.Random) -> str:
    parts = [_fill(rng.choice(_TICKET_OPENERS), pools, rng)]
    for _ in range(rng.randint(1, 4)):
        parts.append(rng.choice(pools["sentence"]))
        if rng.random() < 0.7:
            parts.append(_fill(rng.choice(_TICKET_DETAILS), pools, rng))
    parts.append(_fill(rng.choice(_AGENT), pools, rng))
    return " ".join(parts)


def document(pools: dict[str, list[str]], rng: random.Random) -> str:
    paras = []
    for _ in range(rng.randint(4, 12)):
        sents = [rng.choice(pools["sentence"]) for _ in range(rng.randint(3, 8))]
        if rng.random() < 0.6:
            sents.insert(rng.randrange(len(sents)),
                         _fill(rng.choice(_TICKET_DETAILS + ["Contact {name} ({email}) for approval.",
                                                            "Owner: {name}, {company}."]), pools, rng))
        paras.append(" ".join(sents))
    title = f"Runbook: {rng.choice(pools['product'])} ({rng.choice(pools['company'])})"
    return title + "\n\n" + "\n\n".join(paras)


def generate(out_dir: Path, size_bytes: int, seed: int = 7) -> dict[str, Any]:
    """Write tickets.jsonl (80% of the bytes) and documents.jsonl (20%); return counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = out_dir / ".complete"
    if done.exists():
        return json.loads(done.read_text())
    pools = _pools(seed)
    rng = random.Random(seed)
    stats: dict[str, Any] = {"bytes": 0, "records": 0, "chars": 0}
    for name, share, make in (("tickets", 0.8, ticket), ("documents", 0.2, document)):
        target = int(size_bytes * share)
        written = 0
        i = 0
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            while written < target:
                i += 1
                text = make(pools, rng)
                line = json.dumps({"id": f"{name}-{i:07d}", "text": text}, ensure_ascii=False) + "\n"
                fh.write(line)
                written += len(line.encode("utf-8"))
                stats["records"] += 1
                stats["chars"] += len(text)
        stats["bytes"] += written
    done.write_text(json.dumps(stats))
    return stats


def eval_corpus(out_dir: Path, shared_eval: Path) -> dict[str, Any]:
    """The texts of shared/eval/*.jsonl as one prepkit-readable JSONL (labels dropped)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {"bytes": 0, "records": 0, "chars": 0}
    with (out_dir / "eval_texts.jsonl").open("w", encoding="utf-8") as out:
        for src in sorted(shared_eval.glob("*.jsonl")):
            with src.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    obj = json.loads(line)
                    row = json.dumps({"id": obj["id"], "text": obj["text"]}, ensure_ascii=False) + "\n"
                    out.write(row)
                    stats["bytes"] += len(row.encode("utf-8"))
                    stats["records"] += 1
                    stats["chars"] += len(obj["text"])
    return stats
