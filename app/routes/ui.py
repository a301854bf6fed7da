"""The page for policy staff: `/` links to it, `/ui` serves it, `/ui/static` its script and
styles, `/ui/model/{name}` the serving model's evaluation files. The page itself holds no
data: it calls the JSON API, with the user's key when keys are configured."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.deps import ScreenerDep, StateDep, require_api_key
from app.schemas import MAX_BATCH
from app.ui import LANGUAGES, STATIC_DIR, TEMPLATES_DIR, asset_version, messages
from app.ui.files import MODEL_FILES, available, model_file

# Everything from this origin, nothing inline that runs: listing text shown on the page can
# never become script. Images may be blob: URLs (fetched with the key when keys are set).
PAGE_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The evaluation report is a static document: its own styles and embedded images, no script.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
static_files = StaticFiles(directory=STATIC_DIR)


def _language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else LANGUAGES[0]


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, lang: str | None = None) -> HTMLResponse:
    """Links to the page, the API documentation and readiness."""
    code = _language(lang)
    context = {"lang": code, "m": messages()[code]}
    return templates.TemplateResponse(request, "index.html", context, headers=PAGE_HEADERS)


@router.get("/ui", response_class=HTMLResponse)
async def ui(request: Request, state: StateDep, lang: str | None = None) -> HTMLResponse:
    """The page: try listings, see why, see the policy and the model."""
    code = _language(lang)
    screener = state.screener
    files = available(screener.loaded.path, screener.model_version) if screener else []
    config: dict[str, Any] = {
        "authRequired": state.keys.enabled,
        "modelFiles": files,
        "maxBatch": MAX_BATCH,
        "lang": code,
    }
    context = {
        "lang": code,
        "m": messages()[code],
        "messages": messages(),
        "config": config,
        "asset_version": asset_version(),
    }
    headers = PAGE_HEADERS | {"Cache-Control": "no-store"}
    return templates.TemplateResponse(request, "ui.html", context, headers=headers)


@router.get("/ui/model/{name}", dependencies=[Depends(require_api_key)])
async def model_files(name: str, screener: ScreenerDep) -> FileResponse:
    """One of the serving model's known evaluation files (MODEL_FILES), if it has it."""
    path = model_file(screener.loaded.path, screener.model_version, name)
    if path is None:
        raise HTTPException(status_code=404, detail=f"no {name!r} for the serving model")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = REPORT_CSP
    return FileResponse(path, media_type=MODEL_FILES[name], headers=headers)
