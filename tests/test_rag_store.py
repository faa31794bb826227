"""The RAG store against both backends: the embedded encrypted SQLite file and a real PostgreSQL + pgvector
started by prepkit.rag.pgserver (the code behind scripts/pg). Same tests, same assertions."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from prepkit.keys import KeyRing
from prepkit.policy import load_policy
from prepkit.rag import RagWriter, StoreError, forget, open_store, run_query
from prepkit.rag.store import STORE_FILE
from prepkit.records import Applied, Decision, Record, Result, Route, Segment, Transformed, Verification
from prepkit.transform.subjects import subject_hash
from tests.conftest import TEST_KEY

KEY = KeyRing.from_bytes(bytes.fromhex(TEST_KEY), "test")

POLICY = """\
version: 1
name: rag-test
detection: {entities: [PERSON, EMAIL_ADDRESS]}
actions: {DEFAULT: {operator: redact}}
routing: {default: {route: rag, reason: test}}
outputs:
  rag: {chunk_size: 200, chunk_overlap: 40, default_labels: [internal]}
access:
  roles:
    support: [internal]
    hr: [internal, hr]
    nobody: []
"""

VPN = ("To reset a VPN token, open the self-service portal and choose Reset token. The new token arrives by "
       "text message within five minutes. If it does not arrive, call the IT help desk.")
PAYROLL = ("Salary review for <PERSON> is scheduled for March. The proposed raise is four percent and the bonus "
           "is paid with the April payroll run. Contact <EMAIL_ADDRESS> with questions.")
BOTH = "Parental leave lasts sixteen weeks. Managers approve leave requests in the HR portal within two days."

_db_counter = itertools.count()


def result(rid: str, text: str, labels: tuple[str, ...] = (), route: Route = Route.RAG,
           subjects: tuple[str, ...] = ()) -> Result:
    applied = [Applied(0, i, i + len(tok), tok.strip("<>"), "redact")
               for tok in ("<PERSON>", "<EMAIL_ADDRESS>") if (i := text.find(tok)) >= 0]
    return Result(
        record=Record(rid, f"docs/{rid}.txt", "text", [Segment("text", text)], input_sha256="0" * 64),
        findings=[], transformed=Transformed([text], applied, [subject_hash(KEY, s, "EMAIL_ADDRESS") for s in subjects]),
        verification=Verification(), decision=Decision(route, "test", None, labels))


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory):
    p = tmp_path_factory.mktemp("policy") / "policy.yaml"
    p.write_text(POLICY)
    return load_policy(p, run_checks=False)


@pytest.fixture(scope="module")
def pg():
    from prepkit.rag import pgserver

    server = pgserver.start_temp()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path):
    """(out_dir, url or None): where a RagWriter writes, and what a query opens."""
    if request.param == "sqlite":
        return tmp_path, None
    url = request.getfixturevalue("pg").create_database(f"rag_{next(_db_counter)}")
    return tmp_path, url


def location(backend: tuple[Path, str | None]) -> str | Path:
    out, url = backend
    return url or out


def write(backend, policy, results, *, sync: bool = False, others=()):
    out, url = backend
    w = RagWriter(out, policy, KEY, url=url)
    for r in results:
        w.add(r)
        w.index_subjects(r)
    for r in others:
        w.index_subjects(r)
    return w.close(sync=sync)


def ask(backend, question: str, role: str, k: int = 10):
    out, _ = backend
    return run_query(location(backend), question, role, KEY, k=k, audit_path=out / "audit.jsonl")


def test_roles_see_only_their_labels(backend, policy):
    stats = write(backend, policy, [result("vpn", VPN), result("pay", PAYROLL, ("hr",)),
                                    result("leave", BOTH, ("hr", "internal"))])
    assert stats["records_written"] == 3 and stats["chunks_total"] >= 3
    support = ask(backend, "how do I reset my VPN token", "support")
    assert {h.chunk.record_id for h in support.hits} == {"vpn"}
    assert support.hits[0].chunk.labels == ("internal",)
    hr = ask(backend, "when is the salary raise paid", "hr")
    assert {h.chunk.record_id for h in hr.hits} == {"vpn", "pay", "leave"}
    assert hr.hits[0].chunk.record_id == "pay"  # the real embedder ranks the payroll text first
    assert "PERSON" in hr.hits[0].chunk.entity_types and "<PERSON>" in hr.hits[0].chunk.text
    assert ask(backend, "salary", "nobody").hits == []
    with pytest.raises(StoreError, match="role not granted by this store"):  # a typo is an error, not "no hits"
        ask(backend, "salary", "not-a-role")
    # k bounds the answer, and asks for the nearest readable chunks (not nearest overall, then filtered)
    assert len(ask(backend, "salary raise", "hr", k=1).hits) == 1
    assert [h.chunk.record_id for h in ask(backend, "salary raise bonus payroll", "support", k=1).hits] == ["vpn"]


def test_upsert_skips_unchanged_replaces_changed_and_sync_deletes(backend, policy):
    first = write(backend, policy, [result("vpn", VPN), result("pay", PAYROLL, ("hr",)), result("leave", BOTH)])
    assert first["records_written"] == 3
    again = write(backend, policy, [result("vpn", VPN), result("pay", PAYROLL, ("hr",)), result("leave", BOTH)])
    assert (again["records_written"], again["records_skipped"]) == (0, 3)
    assert again["chunks_skipped"] == first["chunks_total"] and again["chunks_total"] == first["chunks_total"]

    changed = VPN.replace("five minutes", "ten minutes")
    third = write(backend, policy, [result("vpn", changed), result("pay", PAYROLL, ("hr",))])  # leave not seen
    assert (third["records_written"], third["records_skipped"], third["records_deleted"]) == (1, 1, 0)
    texts = [h.chunk.text for h in ask(backend, "VPN token arrives", "hr").hits]
    assert any("ten minutes" in t for t in texts) and not any("five minutes" in t for t in texts)
    assert "leave" in {h.chunk.record_id for h in ask(backend, "parental leave", "hr").hits}  # no sync: kept

    synced = write(backend, policy, [result("vpn", changed)], sync=True)
    assert synced["records_deleted"] == 2 and synced["records_total"] == 1
    assert {h.chunk.record_id for h in ask(backend, "anything", "hr").hits} == {"vpn"}


def test_record_that_leaves_the_rag_route_loses_its_chunks(backend, policy):
    write(backend, policy, [result("vpn", VPN), result("pay", PAYROLL, ("hr",))])
    quarantined = result("pay", PAYROLL, ("hr",), route=Route.QUARANTINE)
    stats = write(backend, policy, [result("vpn", VPN)], others=[quarantined])
    assert stats["records_deleted"] == 1
    assert {h.chunk.record_id for h in ask(backend, "salary", "hr").hits} == {"vpn"}


def test_forget_erases_the_subject_and_keeps_it_out(backend, policy):
    out, url = backend
    email = "jane.roe@example.com"
    write(backend, policy, [result("pay", PAYROLL, ("hr",), subjects=(email,)), result("vpn", VPN)],
          others=[result("chat-9", "hello", route=Route.FINETUNE, subjects=(email.upper(),))])
    rep = forget(out, KEY, email, "EMAIL_ADDRESS", rag_url=url)
    assert rep.record_ids == ["chat-9", "pay"] and rep.routes == {"finetune": 1, "rag": 1}
    assert rep.chunks_deleted >= 1
    assert {h.chunk.record_id for h in ask(backend, "salary raise", "hr").hits} == {"vpn"}
    audit = (out / "audit.jsonl").read_text()
    assert email not in audit.lower()
    erasure = [json.loads(line) for line in audit.splitlines() if '"erasure"' in line]
    assert erasure and erasure[-1]["record_ids"] == ["chat-9", "pay"]
    # A later run over the same sources must not bring the subject's record back.
    w = RagWriter(out, policy, KEY, url=url)
    assert w.erased_subject(result("x", "x", subjects=(email,))) and not w.erased_subject(result("vpn", VPN))
    w.close()
    stats = write(backend, policy, [result("pay", PAYROLL, ("hr",), subjects=(email,)), result("vpn", VPN)])
    assert stats["records_blocked_erased"] == 1
    assert {h.chunk.record_id for h in ask(backend, "salary raise", "hr").hits} == {"vpn"}
    assert forget(out, KEY, "someone.else@example.com", "EMAIL_ADDRESS", rag_url=url).record_ids == []


def test_query_is_audited_without_the_question(backend, policy):
    out, _ = backend
    write(backend, policy, [result("vpn", VPN), result("pay", PAYROLL, ("hr",))])
    res = ask(backend, "secret question about bonuses", "support", k=3)
    entries = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    q = [e for e in entries if e["event"] == "rag_query"][-1]
    assert q["role"] == "support" and q["labels"] == ["internal"]
    assert q["chunk_ids"] == [h.chunk.chunk_id for h in res.hits] and q["record_ids"] == ["vpn"]
    assert "bonuses" not in (out / "audit.jsonl").read_text()


def test_policy_grant_changes_apply_to_an_existing_store(backend, policy, tmp_path: Path):
    write(backend, policy, [result("pay", PAYROLL, ("hr",))])
    store = open_store(location(backend), KEY)
    try:
        store.set_grants({"support": ["internal", "hr"]})
    finally:
        store.close()
    assert {h.chunk.record_id for h in ask(backend, "salary", "support").hits} == {"pay"}
    with pytest.raises(StoreError, match="role not granted"):  # hr is gone from the grants: no access at all
        ask(backend, "salary", "hr")


# --- embedded store only: encryption at rest -------------------------------------------------------------

def test_sqlite_file_holds_no_plaintext(tmp_path: Path, policy):
    # needles of 6+ bytes: a 3-byte one turns up by chance in a few hundred KB of random ciphertext
    write((tmp_path, None), policy, [result("vpn-guide-2024", VPN),
                                     result("pay", PAYROLL, ("hr",), subjects=("a@b.example",))])
    files = [tmp_path / "rag" / STORE_FILE, tmp_path / "rag" / "subjects.db"]
    assert sorted(p.name for p in (tmp_path / "rag").iterdir()) == ["store.db", "subjects.db"]  # no journal left
    for f in files:
        raw = f.read_bytes()
        assert len(raw) > 4096
        assert not raw.startswith(b"SQLite format 3")
        for needle in ["self-service portal", "Salary review", "parental", "vpn-guide-2024", "docs/pay.txt", "internal",
                       "CREATE TABLE", "chunks", "embedder"]:
            assert needle.encode() not in raw, f"{needle!r} readable in {f.name}"


def test_wrong_key_is_refused_with_the_file_named(tmp_path: Path, policy):
    write((tmp_path, None), policy, [result("vpn", VPN)])
    other = KeyRing.from_bytes(bytes.fromhex("01" * 32), "other")
    with pytest.raises(StoreError) as e:
        open_store(tmp_path, other)
    assert str(tmp_path / "rag" / STORE_FILE) in str(e.value) and "wrong key" in str(e.value)
    with pytest.raises(StoreError, match="wrong key"):
        RagWriter(tmp_path, policy, other)
    with pytest.raises(StoreError, match="subjects.db"):
        forget(tmp_path, other, "x@y.example", "EMAIL_ADDRESS")


def test_store_refuses_a_different_embedder(tmp_path: Path, policy, tmp_path_factory):
    write((tmp_path, None), policy, [result("vpn", VPN)])
    p = tmp_path_factory.mktemp("p2") / "policy.yaml"
    p.write_text(POLICY.replace("rag: {", "rag: {embedder: hashing, "))
    with pytest.raises(StoreError, match="built with embedder builtin:minilm-m2v"):
        RagWriter(tmp_path, load_policy(p, run_checks=False), KEY)


@pytest.mark.postgres
def test_postgres_row_level_security_filters_without_any_where_clause(pg, policy, tmp_path: Path):
    import psycopg

    url = pg.create_database(f"rag_{next(_db_counter)}")
    write((tmp_path, url), policy, [result("vpn", VPN), result("pay", PAYROLL, ("hr",)),
                                    result("leave", BOTH, ("hr", "internal"))])
    from prepkit.rag.pg_store import pg_role

    with psycopg.connect(url, autocommit=True) as c:
        def visible(role: str) -> set[str]:
            with c.transaction():
                c.execute(f'SET LOCAL ROLE "{pg_role(role)}"')
                return {r for (r,) in c.execute("SELECT record_id FROM prepkit.chunks").fetchall()}

        assert visible("support") == {"vpn"}
        assert visible("hr") == {"vpn", "pay", "leave"}
        assert visible("nobody") == set()
        with pytest.raises(psycopg.errors.InsufficientPrivilege), c.transaction():
            c.execute(f'SET LOCAL ROLE "{pg_role("hr")}"')
            c.execute("DELETE FROM prepkit.chunks")  # readers cannot write
    assert pg_role("HR Team") != pg_role("hr_team") and pg_role("hr") == "prepkit_hr"


def test_chat_turns_are_packed_and_long_turns_chunked_alone():
    from prepkit.rag.writer import make_chunks

    turns = [("user", "My parcel has not arrived."), ("assistant", "Sorry about that, I will open a trace."),
             ("user", "Thanks."), ("assistant", " ".join(["The carrier replied that it is delayed."] * 12))]
    segs = [Segment(f"messages[{i}].content", t, role) for i, (role, t) in enumerate(turns)]
    res = Result(Record("c1", "chats.jsonl", "chat", segs), [], Transformed([t for _, t in turns]),
                 Verification(), Decision(Route.RAG, "t", None, ("internal",)))
    chunks = make_chunks(res, ("internal",), 200, 40, "h")
    assert chunks[0].segment == "messages[0].content..messages[2].content"
    assert chunks[0].text == "user: My parcel has not arrived.\nassistant: Sorry about that, I will open a trace.\nuser: Thanks."
    rest = chunks[1:]
    assert len(rest) >= 3 and all(c.segment == "messages[3].content" and c.role == "assistant" for c in rest)
    assert all(c.text == turns[3][1][c.start : c.end] and len(c.text) <= 200 for c in rest)
    assert len({c.chunk_id for c in chunks}) == len(chunks)
