"""The page for policy staff (`/ui`): templates, static files, its labels in two languages, and
which of the serving model's evaluation files it may show. The page calls the JSON API; nothing
here screens, stores or logs a listing."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

UI_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"

Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")


@lru_cache
def messages() -> dict[str, dict[str, str]]:
    """The page's labels by language (Indonesian first, the default)."""
    data: dict[str, dict[str, str]] = json.loads(
        (UI_DIR / "messages.json").read_text(encoding="utf-8")
    )
    return data


@lru_cache
def asset_version() -> str:
    """A short hash of the static files: a new release's page never runs an old cached script."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
