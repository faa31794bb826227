"""Local web services on FastAPI + uvicorn: `prepkit serve` (role-scoped RAG queries for an LLM application) and
`prepkit review` (the quarantine queue, policy sign-off and run paperwork for compliance staff).

Both bind to 127.0.0.1 by default and refuse every request without a token: a bearer token per role for
`serve`, one random session token for `review`. Templates ship in this package; there is no front-end build.
"""
