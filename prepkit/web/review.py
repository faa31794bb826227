"""`prepkit review`: the local web app for compliance staff over one run's output.

Pages: the quarantine queue and each record (findings highlighted by type, the rule and reason, the verification
result) with its decisions; the run report; the policy in plain language with its sign-off; the compliance
records. Access: a random token in the printed URL, as notebook servers do. The first request with `?token=`
gets an HttpOnly, SameSite=Strict cookie and a redirect to the same page without the token; a request with
neither is refused (403). A form post from another origin is refused too.
"""

# No `from __future__ import annotations`: FastAPI reads endpoint annotations at runtime.

import hashlib
import hmac
import html
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from prepkit import __version__
from prepkit.keys import KeyRing
from prepkit.policy import LoadedPolicy
from prepkit.web.decisions import DecisionError, Reviewer

COOKIE = "prepkit_review"
TEMPLATES = Path(__file__).with_name("templates")


def palette(entity_type: str) -> str:
    """A stable, readable background colour per entity type."""
    hue = int(hashlib.sha256(entity_type.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue} 85% 82%)"


def highlight(text: str, spans: list[tuple[int, int, str, float]]) -> list[dict[str, Any]]:
    """Pieces of `text` for the template: plain, or a finding with its type and score (overlaps: first wins)."""
    pieces: list[dict[str, Any]] = []
    last = 0
    for start, end, etype, score in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < last or start >= len(text):
            continue
        if start > last:
            pieces.append({"text": text[last:start]})
        pieces.append({"text": text[start:end], "type": etype, "score": round(score, 2), "color": palette(etype)})
        last = end
    if last < len(text):
        pieces.append({"text": text[last:]})
    return pieces


class ReviewConfig:
    def __init__(self, out_dir: Path, keyring: KeyRing, loaded: LoadedPolicy, token: str, *,
                 approvals_file: Path | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.keyring = keyring
        self.loaded = loaded
        self.token = token
        self.approvals_file = approvals_file


def create_app(cfg: ReviewConfig) -> FastAPI:
    app = FastAPI(title="prepkit review", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(TEMPLATES))
    reviewer = Reviewer(cfg.out_dir, cfg.keyring, cfg.loaded)

    def valid(token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), cfg.token.encode())

    @app.middleware("http")
    async def require_token(request: Request, call_next: Any) -> Response:
        query_token = request.query_params.get("token")
        if valid(query_token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + urlencode(rest) if rest else "")
            resp: Response = RedirectResponse(target, status_code=303)
            resp.set_cookie(COOKIE, cfg.token, httponly=True, samesite="strict")
            return resp
        if not valid(request.cookies.get(COOKIE)):
            return HTMLResponse("<!doctype html><title>prepkit review: refused</title><h1>Refused</h1>"
                                "<p>Open the address with the token that <code>prepkit review</code> printed.</p>",
                                status_code=403)
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
                return HTMLResponse("<h1>Refused</h1><p>cross-origin form post</p>", status_code=403)
        return await call_next(request)

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"policy": cfg.loaded, "out": cfg.out_dir, **ctx},
                                          status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, done: str | None = None) -> HTMLResponse:
        kept = reviewer.kept()
        rows = []
        for e in reviewer.entries():
            d = e.data
            rows.append({"qid": e.qid, "id": d["id"], "source": d.get("source"), "rule": d.get("rule"),
                         "reason": d.get("reason"), "verified": (d.get("verification") or {}).get("passed"),
                         "types": sorted({f["entity_type"] for f in d.get("findings") or []}),
                         "error": d.get("error"), "kept": kept.get(e.qid)})
        pending = [r for r in rows if not r["kept"]]
        return page(request, "queue.html", pending=pending, kept=[r for r in rows if r["kept"]], done=done,
                    decisions=reviewer.decisions())

    def record_page(request: Request, qid: str, error: str | None = None, status: int = 200,
                    texts: list[str] | None = None) -> HTMLResponse:
        entry = reviewer.entry(qid)
        if entry is None:
            return page(request, "message.html", 404, title="Not in the queue",
                        message="This record is not in the quarantine (already decided, or a newer run replaced it).")
        d = entry.data
        record = entry.to_record()
        findings = d.get("findings") or []
        transformed = entry.transformed()
        segments = []
        for i, seg in enumerate(record.segments):
            spans = [(f["start"], f["end"], f["entity_type"], f["score"]) for f in findings if f["segment"] == i]
            segments.append({"key": seg.key, "role": seg.role, "pieces": highlight(seg.text, spans),
                             "anonymised": transformed.texts[i] if transformed else None,
                             "edit": (texts[i] if texts and i < len(texts)
                                      else transformed.texts[i] if transformed else "")})
        types = sorted({f["entity_type"] for f in findings})
        return page(request, "record.html", status, qid=qid, d=d, segments=segments, error=error,
                    legend=[(t, palette(t)) for t in types], labels=reviewer.labels(),
                    suggested=set(d.get("labels") or cfg.loaded.policy.outputs.rag.default_labels),
                    kept=reviewer.kept().get(qid), reviewer_name=request.cookies.get("prepkit_reviewer", ""))

    @app.get("/queue/{qid}", response_class=HTMLResponse)
    def record(request: Request, qid: str) -> HTMLResponse:
        return record_page(request, qid)

    @app.post("/queue/{qid}/decide", response_class=HTMLResponse)
    def decide(request: Request, qid: str, action: Annotated[str, Form()], reviewer_name: Annotated[str, Form()] = "",
               labels: Annotated[list[str] | None, Form()] = None,
               texts: Annotated[list[str] | None, Form()] = None) -> Response:
        try:
            applied = reviewer.decide(qid, action, reviewer_name, labels=labels or [], texts=texts)
        except DecisionError as e:
            return record_page(request, qid, error=str(e), status=422, texts=texts)
        resp = RedirectResponse("/queue?" + urlencode({"done": f"{applied.record_id}: {applied.detail}"}),
                                status_code=303)
        # Remembered for the next record's forms only; every decision still names its reviewer explicitly.
        resp.set_cookie("prepkit_reviewer", " ".join(reviewer_name.split()), httponly=True, samesite="strict")
        return resp

    @app.get("/report")
    def report() -> Response:
        path = cfg.out_dir / "report.html"
        return FileResponse(path) if path.is_file() else HTMLResponse("no report.html in this run", 404)

    @app.get("/compliance", response_class=HTMLResponse)
    def compliance(request: Request) -> HTMLResponse:
        folder = cfg.out_dir / "compliance"
        docs = sorted(p.name for p in folder.glob("*.html")) if folder.is_dir() else []
        return page(request, "compliance.html", docs=docs)

    @app.post("/compliance/generate")
    def compliance_generate() -> Response:
        from prepkit.compliance import write_compliance

        default_eval = Path("bench") / "EVAL.md"
        write_compliance(cfg.out_dir, cfg.loaded, eval_path=default_eval if default_eval.is_file() else None)
        return RedirectResponse("/compliance", status_code=303)

    @app.get("/compliance/{name}")
    def compliance_doc(name: str) -> Response:
        folder = cfg.out_dir / "compliance"
        allowed = {p.name: p for p in folder.glob("*.html")} if folder.is_dir() else {}
        return FileResponse(allowed[name]) if name in allowed else HTMLResponse("not found", 404)

    def policy_ctx() -> dict[str, Any]:
        from prepkit.approvals import ApprovalError, approved, default_path, read

        target = cfg.approvals_file or default_path(cfg.loaded.path)
        try:
            valid_now = approved(cfg.loaded, target)
            problem = None
        except ApprovalError as e:
            valid_now, problem = [], str(e)
        try:
            listed = [a for a in read(target) if a.policy_sha256 == cfg.loaded.sha256]
        except ApprovalError as e:
            listed, problem = [], str(e)
        return {"approvals": listed, "valid": valid_now, "problem": problem, "approvals_file": target}

    @app.get("/policy", response_class=HTMLResponse)
    def policy_page(request: Request, done: str | None = None) -> HTMLResponse:
        return page(request, "policy.html", done=done, **policy_ctx())

    @app.get("/policy/text", response_class=HTMLResponse)
    def policy_text() -> HTMLResponse:
        from prepkit.review.show import render

        return HTMLResponse(render(cfg.loaded, "html"))

    @app.post("/policy/approve", response_class=HTMLResponse)
    def policy_approve(request: Request, approver: Annotated[str, Form()] = "") -> Response:
        from prepkit.approvals import ApprovalError, approve, audit_approval
        from prepkit.audit import AuditError

        try:
            approval, target = approve(cfg.loaded, approver, cfg.approvals_file)
            audit_approval(cfg.out_dir / "audit.jsonl", approval, cfg.keyring, cfg.loaded.identity, target)
        except (ApprovalError, AuditError) as e:
            return page(request, "policy.html", 422, error=str(e), **policy_ctx())
        return RedirectResponse("/policy?" + urlencode({"done": f"approved by {approval.approved_by}"}),
                                status_code=303)

    app.state.escape = html.escape
    return app
