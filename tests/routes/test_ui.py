"""The page for policy staff as HTTP sees it: what it serves, in which language, its security
headers, and which model files it lets through. Its behaviour in a browser: tests/ui/."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.ui import STATIC_DIR, TEMPLATES_DIR, messages

KEY = "s3cret"
PNG = b"\x89PNG\r\n\x1a\nnot really"


def _config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="config">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


@pytest.fixture
def model_with_files(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the tiny model in models/, a PNG beside it and a report in reports/<version>/."""
    model_dir = tmp_path / "models" / "tiny-1"
    shutil.copytree(tiny_model_dir, model_dir)
    (model_dir / "confusion.png").write_bytes(PNG)
    (model_dir / "secret.txt").write_text("not for the page")
    reports = tmp_path / "reports" / "tiny-1"
    reports.mkdir(parents=True)
    (reports / "report.html").write_text("<!doctype html><h1>Evaluation</h1>")
    return model_dir


def test_the_root_links_to_the_page(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<a href="ui">' in r.text


def test_the_page_is_indonesian_by_default_and_english_on_request(client: TestClient) -> None:
    r = client.get("/ui")
    assert r.status_code == 200
    assert '<html lang="id">' in r.text
    assert messages()["id"]["tab_single"] in r.text
    english = client.get("/ui", params={"lang": "en"}).text
    assert '<html lang="en">' in english
    assert messages()["en"]["tab_single"] in english
    assert _config(english)["lang"] == "en"


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script(
    client: TestClient,
) -> None:
    r = client.get("/ui")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["cache-control"] == "no-store"
    for url in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        assert not url.startswith(("http:", "https:", "//")), url
    # The only <script> elements with content are JSON data, which a browser does not run.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", r.text, re.S):
        assert 'type="application/json"' in attributes or body.strip() == ""


def test_the_page_assets_are_served(client: TestClient) -> None:
    html = client.get("/ui").text
    assets = re.findall(r'(?:src|href)="(ui/static/[^"?]+)\?v=[0-9a-f]{12}"', html)
    assert sorted(assets) == ["ui/static/csv.js", "ui/static/ui.css", "ui/static/ui.js"]
    for asset in assets:
        r = client.get("/" + asset)
        assert r.status_code == 200
        assert r.content == (STATIC_DIR / asset.rsplit("/", 1)[1]).read_bytes()


def test_every_label_the_page_uses_exists_in_both_languages() -> None:
    both = messages()
    assert set(both["id"]) == set(both["en"])
    template = (TEMPLATES_DIR / "ui.html").read_text(encoding="utf-8")
    script = (STATIC_DIR / "ui.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-placeholder|-label)?="([a-z_]+)"', template))
    used |= set(re.findall(r'\bt\("([a-z_]+)"[,)]', script))
    assert used, "no labels found: the patterns no longer match the page"
    assert used <= set(both["id"]), used - set(both["id"])


def test_the_page_says_when_a_key_is_needed_and_itself_needs_none(
    make_client: Callable[..., TestClient],
) -> None:
    open_client = make_client()
    assert _config(open_client.get("/ui").text)["authRequired"] is False
    locked = make_client(api_key_sha256=[hashlib.sha256(KEY.encode()).hexdigest()])
    r = locked.get("/ui")
    assert r.status_code == 200
    assert _config(r.text)["authRequired"] is True


def test_the_page_lists_the_model_files_present(
    make_client: Callable[..., TestClient], model_with_files: Path
) -> None:
    client = make_client(model_dir=model_with_files)
    assert _config(client.get("/ui").text)["modelFiles"] == ["report.html", "confusion.png"]
    assert _config(make_client().get("/ui").text)["modelFiles"] == []


def test_known_model_files_are_served_from_the_model_or_its_reports_folder(
    make_client: Callable[..., TestClient], model_with_files: Path
) -> None:
    client = make_client(model_dir=model_with_files)
    png = client.get("/ui/model/confusion.png")
    assert (png.status_code, png.headers["content-type"], png.content) == (200, "image/png", PNG)
    report = client.get("/ui/model/report.html")
    assert report.status_code == 200
    assert report.headers["content-type"] == "text/html; charset=utf-8"
    assert "sandbox" in report.headers["content-security-policy"]
    assert "<h1>Evaluation</h1>" in report.text


@pytest.mark.parametrize(
    "name",
    [
        "secret.txt",
        "manifest.json",
        "serving.npz",
        "..%2Fmodels%2Ftiny-1%2Fmanifest.json",
        "reliability.png",
    ],
)
def test_other_files_are_not_served(
    make_client: Callable[..., TestClient], model_with_files: Path, name: str
) -> None:
    r = make_client(model_dir=model_with_files).get(f"/ui/model/{name}")
    assert r.status_code == 404
    assert r.json()["code"] == "NOT_FOUND"


def test_model_files_need_the_key_when_keys_are_configured(
    make_client: Callable[..., TestClient], model_with_files: Path
) -> None:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    client = make_client(model_dir=model_with_files, api_key_sha256=[digest])
    assert client.get("/ui/model/confusion.png").status_code == 401
    headers = {"Authorization": f"Bearer {KEY}"}
    assert client.get("/ui/model/confusion.png", headers=headers).status_code == 200
