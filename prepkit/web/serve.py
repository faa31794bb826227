"""`prepkit serve`: a local HTTP query service over a run's encrypted RAG store.

The service holds the master key; an LLM application holds only a bearer token, and the token decides the role
(a role is never taken from the request). The store itself filters chunks by the role's grants, and every query,
as well as every refused one, is written to the run's audit log before an answer leaves. A query whose audit
entry cannot be written gets no answer (fail closed).
"""

# No `from __future__ import annotations`: FastAPI reads the endpoint annotations at runtime, and they name
# dependencies local to create_app().

import contextlib
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from prepkit import __version__
from prepkit.keys import KeyRing
from prepkit.web.tokens import role_for

MAX_QUESTION_CHARS = 4000


class QueryIn(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The text to retrieve for.")
    k: int = Field(5, ge=1, le=100, description="How many chunks to return at most.")


class HitOut(BaseModel):
    chunk_id: str
    record_id: str
    source: str
    segment: str
    start: int
    end: int
    labels: list[str]
    entity_types: list[str]
    score: float
    text: str = Field(description="The chunk's anonymised text.")


class QueryOut(BaseModel):
    role: str = Field(description="The role of the presented token.")
    labels: list[str] = Field(description="The labels this role may read.")
    hits: list[HitOut]


class WhoAmI(BaseModel):
    role: str
    labels: list[str]


class ServeConfig:
    def __init__(self, out_dir: Path, keyring: KeyRing, tokens: dict[str, str], *,
                 policy_identity: dict[str, str] | None = None, store_query_text: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.keyring = keyring
        self.tokens = tokens
        self.policy_identity = policy_identity or {}
        self.store_query_text = store_query_text
        self.audit_path = self.out_dir / "audit.jsonl"


def create_app(cfg: ServeConfig) -> FastAPI:
    from prepkit.audit import AuditError
    from prepkit.embed import EmbedderError
    from prepkit.rag import StoreError, open_store, run_query
    from prepkit.rag.query import audit_event

    app = FastAPI(title="prepkit serve", version=__version__, docs_url=None, redoc_url=None,
                  description="Role-scoped retrieval from a prepkit run's encrypted RAG store. Send "
                              "`Authorization: Bearer TOKEN`; the token decides the role.")
    scheme = HTTPBearer(auto_error=False, description="One token per role, from the server's token file.")
    lock = threading.Lock()  # one writer on the audit log and the store at a time

    def audit(event: str, **fields: Any) -> None:
        audit_event(cfg.audit_path, cfg.keyring, event, cfg.policy_identity, **fields)

    def caller(request: Request,
               creds: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)]) -> str:
        role = role_for(cfg.tokens, creds.credentials if creds else None)
        if role is None:
            with lock, contextlib.suppress(AuditError, OSError):  # refused either way
                audit("serve_denied", reason="missing bearer token" if creds is None else "unknown token",
                      command=request.scope["route"].path)
            raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        return role

    def grants() -> dict[str, list[str]]:
        store = open_store(cfg.out_dir, cfg.keyring)
        try:
            return store.grants()
        finally:
            store.close()

    @app.get("/v1/health", summary="Liveness; holds no data and needs no token")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/whoami", response_model=WhoAmI, summary="The role of the presented token and what it may read")
    def whoami(role: Annotated[str, Depends(caller)]) -> WhoAmI:
        try:
            with lock:
                labels = sorted(grants().get(role, []))
        except StoreError as e:
            raise HTTPException(503, str(e)) from None
        return WhoAmI(role=role, labels=labels)

    @app.post("/v1/query", response_model=QueryOut,
              summary="The K chunks nearest to the question that the token's role may read (audited)")
    def query(body: QueryIn, role: Annotated[str, Depends(caller)]) -> QueryOut:
        try:
            with lock:
                res = run_query(cfg.out_dir, body.question, role, cfg.keyring, k=body.k, audit_path=cfg.audit_path,
                                policy_identity=cfg.policy_identity, store_query_text=cfg.store_query_text)
        except (StoreError, EmbedderError, AuditError, OSError) as e:
            # Messages name files and never content; an unaudited query gets no answer.
            raise HTTPException(503, str(e)) from None
        return QueryOut(role=res.role, labels=res.labels,
                        hits=[HitOut(**{**h.chunk.public(), "score": round(h.score, 4), "text": h.chunk.text})
                              for h in res.hits])

    app.state.audit = audit
    return app
