"""Generate samples/: a small, realistic, entirely fake corpus (Faker, fixed seed) covering every route.

- tickets.jsonl: support-ticket chats (chat transcripts with roles), some with cards, some with SSNs, some auto-replies
- hr_export.csv: an HR export (every column is scanned: names, emails, phones, addresses, notes)
- docs/*.md: internal policy documents and runbooks (knowledge for the RAG store)

Run: python scripts/make_samples.py [OUT_DIR]  (default: samples/). Output is deterministic.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

from faker import Faker

SEED = 20261125


def main(out: Path) -> None:
    fake = Faker("en_US")
    Faker.seed(SEED)
    rnd = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    (out / "docs").mkdir(exist_ok=True)
    customers = [(fake.name(), fake.email(), fake.phone_number(), fake.street_address(), fake.city())
                 for _ in range(12)]
    agents = [fake.first_name() for _ in range(4)]
    products = ["Northwind Analytics Pro", "the dashboard", "the mobile app", "the export API", "SSO login"]
    issues = ["cannot log in after the password reset", "sees an empty dashboard since Monday",
              "was charged twice this month", "wants to export reports as CSV", "gets a timeout on large queries",
              "needs to change the billing address", "asks how to add a team member"]

    tickets = []
    for i in range(40):
        name, email, phone, street, city = customers[i % len(customers)]
        agent = agents[i % len(agents)]
        issue = issues[i % len(issues)]
        product = products[i % len(products)]
        first = name.split()[0]
        msgs = [
            {"role": "system", "content": "You are a helpful Northwind Support agent."},
            {"role": "user", "content": f"Hi, this is {name}. I {issue.replace('sees', 'see').replace('was', 'was').replace('wants', 'want').replace('gets', 'get').replace('needs', 'need').replace('asks', 'ask')} with {product}. You can reach me at {email} or {phone}."},
            {"role": "assistant", "content": f"Thanks {first}, I'm {agent} from Northwind Support. I've opened a case for {product} and will follow up by email at {email}."},
        ]
        doc_type = "chat"
        if i % 10 == 3:  # payment problem with a card number typed into the chat
            card = fake.credit_card_number(card_type="visa16")
            msgs.append({"role": "user", "content": f"The card I used is {card}, expiry {fake.credit_card_expire()}."})
            msgs.append({"role": "assistant", "content": "Please never share full card numbers here; I've masked it and refunded the duplicate charge."})
        elif i % 10 == 7:  # identity verification with an SSN: must go to quarantine
            msgs.append({"role": "user", "content": f"For verification my SSN is {fake.ssn()} and I live at {street}, {city}."})
            msgs.append({"role": "assistant", "content": "Thank you, I've verified your identity."})
        elif i % 10 == 9:  # automated out-of-office reply: dropped
            msgs = [{"role": "assistant", "content": f"Auto-reply: {agent} is out of office until Monday."}]
            doc_type = "auto_reply"
        elif i % 10 == 5:  # clean how-to question, no personal data
            msgs = [
                {"role": "user", "content": f"How do I {rnd.choice(['schedule a report', 'rotate an API token', 'invite a colleague'])} in {product}?"},
                {"role": "assistant", "content": "Open Settings, choose the relevant tab and follow the wizard; changes apply immediately."},
            ]
        tickets.append({"id": f"ticket-{i + 1:03d}", "doc_type": doc_type,
                        "updated": f"2026-{(i % 9) + 1:02d}-{(i % 27) + 1:02d}", "messages": msgs})
    with (out / "tickets.jsonl").open("w", encoding="utf-8") as f:
        for t in tickets:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")

    with (out / "hr_export.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["employee_id", "name", "email", "phone", "department", "office_address", "notes"])
        for j in range(15):
            name = fake.name()
            note = rnd.choice([
                f"Reports to {fake.name()}.", "Completed onboarding.", f"Badge EMP-{rnd.randint(0, 999999):06d} reissued.",
                "Works on project Kestrel.", "Prefers remote work on Fridays."])
            w.writerow([f"EMP-{100000 + j:06d}", name, fake.company_email(), fake.phone_number(),
                        rnd.choice(["Finance", "Engineering", "Support", "Sales"]),
                        f"{fake.street_address()}, {fake.city()}", note])

    docs = {
        "expense-policy.md": ("policy", f"# Expense policy\n\nOwner: {fake.name()} ({fake.company_email()})\n\n"
                              "Employees may claim travel, meals during travel and approved training. Receipts are "
                              "required for every claim above 25 EUR. Claims are approved by the line manager and "
                              "paid with the next payroll run.\n\nQuestions go to the finance team."),
        "incident-runbook.md": ("runbook", "# Incident runbook\n\n1. Acknowledge the page within 5 minutes.\n"
                                "2. Open an incident channel and name an incident lead.\n"
                                f"3. Escalate to the on-call manager, currently {fake.name()} at {fake.phone_number()}.\n"
                                "4. Post updates every 30 minutes until resolved.\n5. Write the post-mortem within "
                                "two working days.\n\nProject Nightjar incidents also notify the security team."),
        "security-faq.md": ("policy", "# Security FAQ\n\nPasswords must be at least 14 characters. Multi-factor "
                            "authentication is mandatory for all accounts. Report phishing to the security team "
                            "using the report button. Laptops are encrypted and must be locked when unattended."),
        "tone-guide.md": ("style", "# Support tone guide\n\nGreet the customer by name, restate the problem in one "
                          "sentence, say what you will do next and when. Avoid jargon. Close by asking whether "
                          "anything else is needed. Never ask for full card numbers or passwords."),
    }
    for fname, (doc_type, body) in docs.items():
        front = f"---\ndoc_type: {doc_type}\nupdated: 2026-{len(fname) % 9 + 1:02d}-15\n---\n"
        (out / "docs" / fname).write_text(front + body + "\n", encoding="utf-8")
    print(f"wrote {len(tickets)} tickets, 15 HR rows and {len(docs)} documents to {out}/")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "samples"))
