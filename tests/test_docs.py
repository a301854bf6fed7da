"""The README and docs/: short, generated where they can be, and true to what the service says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import (
    REFERENCE_BEGIN,
    REFERENCE_END,
    Settings,
    settings_reference,
)
from tests.docs_blocks import COMMAND_PAGES, SERVICE_PAGES, matches

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_the_readme_is_for_the_first_five_minutes() -> None:
    assert len(README.read_bytes()) <= 8 * 1024


def test_every_setting_is_described_and_the_reference_is_current() -> None:
    undescribed = [name for name, f in Settings.model_fields.items() if not f.description]
    assert undescribed == []
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    block = text.split(REFERENCE_BEGIN, 1)[1].split(REFERENCE_END, 1)[0].strip()
    assert block == settings_reference(), "docs/operations.md is out of date: run `make docs`"
    for name in Settings.model_fields:
        assert f"AKAR_{name.upper()}" in block or name == "prometheus_multiproc_dir"


def test_every_page_has_its_code_blocks_run_by_one_test_module() -> None:
    """tests/test_docs_examples.py runs the service's pages, tests/test_docs_commands.py the
    others; a new page must be given to one of them."""
    pages = [p.relative_to(REPO).as_posix() for p in [README, *DOCS]]
    assert sorted(SERVICE_PAGES + COMMAND_PAGES) == sorted(pages)


def test_links_between_the_docs_lead_somewhere() -> None:
    for page in [README, *DOCS]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "#")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve()
            assert resolved.exists(), f"{page.name}: {target}"
            if anchor:
                headings = re.findall(r"^#+ (.*)$", resolved.read_text(encoding="utf-8"), re.M)
                assert anchor in {_slug(h) for h in headings}, f"{page.name}: {target}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: punctuation dropped, lower case, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-")


def test_the_readmes_call_gets_the_answer_it_shows(default_client: TestClient) -> None:
    text = README.read_text(encoding="utf-8")
    [command] = [b for b in _blocks(text, "sh") if "curl" in b]
    [shown] = _blocks(text, "json")
    path = re.search(r"localhost:8000(/\S+)", command)
    body = re.search(r"-d '(.*?)'", command, re.DOTALL)
    assert path is not None and body is not None
    r = default_client.post(path.group(1), json=json.loads(body.group(1)))
    assert r.status_code == 200
    assert matches(json.loads(shown), r.json()), r.json()
