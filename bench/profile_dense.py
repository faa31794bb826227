"""A PII-dense corpus for profiling (issue 16): short records of ~430 characters, ~15 entities each (SSNs, IBANs,
cards, IPs, dates, phones, names, addresses). Run `python -m bench.profile_dense OUT.jsonl [N] [SEED]`; Faker,
seeded, so the same N and seed give the same file."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def records(n: int, seed: int = 16) -> list[dict[str, str]]:
    from faker import Faker

    fake = Faker(["en_US", "en_GB", "de_DE"])
    Faker.seed(seed)
    out = []
    for i in range(n):
        f = fake["en_US"] if i % 3 else fake
        text = (
            f"Customer {f.name()} (SSN {fake['en_US'].ssn()}, born {f.date_of_birth().isoformat()}) called from "
            f"{f.phone_number()} on {f.date_this_year().strftime('%d/%m/%Y')} about card {f.credit_card_number()}. "
            f"Refund to IBAN {fake['de_DE'].iban()} was approved by {f.name()}. Last login from {f.ipv4()} and "
            f"{f.ipv6()[:19]}; ship to {f.address().replace(chr(10), ', ')}. Alternate contact {f.phone_number()}, "
            f"email {f.email()}. Ref {f.bothify('??-#####-##')}, order total ${f.random_int(10, 9999)}.{f.random_int(10, 99)}, "
            f"invoice {f.random_number(digits=10)} of {f.date_between('-2y').isoformat()}."
        )
        out.append({"id": f"d{i}", "text": text})
    return out


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    n = int(argv[1]) if len(argv) > 1 else 1500
    seed = int(argv[2]) if len(argv) > 2 else 16
    with out.open("w", encoding="utf-8") as fh:
        for r in records(n, seed):
            fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
