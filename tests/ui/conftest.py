"""Browser tests of /ui: the real server (`python -m app`, the committed default model) on a
free port, and headless Debian chromium driven by Selenium through chromium-driver.

`make test` installs chromium first (`make browser`); where it cannot be installed these tests
skip and say so. Screenshots and timings go to `AKAR_UI_ARTIFACTS` (a folder; `docs/ui` for
the README's pictures) or, without it, a temporary folder printed in the test report.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port, stop, wait_ready

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev extra")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

from tests.ui.page import KEY, LAPTOP, TIMEOUT, Server  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def _binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed and could not be: "
            "`make browser` installs them (apt-get, as root)"
        )
    return chromium, driver


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("AKAR_UI_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("ui-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def record(artifacts: Path) -> Callable[[str, float], None]:
    """Writes a measured figure to timings.json among the artifacts (never asserted)."""
    path = artifacts / "timings.json"

    def write(name: str, value: float) -> None:
        data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        data[name] = round(value, 1)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        print(f"{name}: {value:.1f}")

    return write


def _serve(tmp: Path, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(port)],
            cwd=REPO,
            env=os.environ | {"AKAR_LOG_LEVEL": "info"} | env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield Server(url, log)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The default model, no API keys."""
    _binaries()
    yield from _serve(tmp_path_factory.mktemp("server"), {})


@pytest.fixture(scope="session")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The default model behind an API key."""
    _binaries()
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    env = {"AKAR_API_KEY_SHA256": json.dumps([digest])}
    yield from _serve(tmp_path_factory.mktemp("locked"), env)


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(downloads: Path) -> Iterator[WebDriver]:
    chromium, chromedriver = _binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={LAPTOP[0]},{LAPTOP[1]}")
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(TIMEOUT)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def driver(browser: WebDriver) -> Iterator[WebDriver]:
    """The browser at laptop size with nothing kept from the test before (language, key)."""
    browser.set_window_size(*LAPTOP)
    yield browser
    if browser.current_url.startswith("http"):
        browser.execute_script("localStorage.clear(); sessionStorage.clear();")
    browser.get("about:blank")
