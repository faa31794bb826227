"""The secure RAG store: chunking, embedding, an encrypted embedded store or PostgreSQL with row-level security,
role-filtered queries with audit, and erasure of data subjects."""

from prepkit.rag.forget import ForgetReport, forget
from prepkit.rag.query import QueryResult, run_query
from prepkit.rag.store import Chunk, Hit, Store, StoreError, open_store
from prepkit.rag.writer import RagWriter

__all__ = ["Chunk", "ForgetReport", "Hit", "QueryResult", "RagWriter", "Store", "StoreError", "forget",
           "open_store", "run_query"]
