"""/ui in headless chromium: what a person does on the page, checked against what the API
answers for the same input. Screenshots of each view go to the artifacts folder."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.ui.page import (
    KEY,
    LAPTOP,
    PHONE,
    Server,
    attribute,
    expected_marks,
    gauges,
    open_page,
    p_block,
    screen_one,
    wait,
)

TEXT_ONLY = {"title": "Kemeja Batik Pria Lengan Panjang Import Murah"}
STRUCTURED = {"title": "Tas Rajut Handmade Wanita", "ship_from_country": "cn"}
# Base titles for the batch: protected and not, domestic and import, a marker, a comma.
TITLES = [
    "Kemeja Batik Pria Lengan Panjang",
    "Keripik Tempe Khas Malang",
    "Coklat Import Turki",
    "Kaos Polos Cotton Combed -Intl",
    "Patung Ukiran Kayu Jepara",
    'Sambal Bawang "Pedas", Botol',
    "Charger Fast Charging 33W",
    "Dress Wanita Import Korea",
    "Keranjang Anyaman Rotan",
    "Earphone Bluetooth Import",
]


def _api(server: Server, path: str, body: Any = None) -> Any:
    if body is None:
        return httpx.get(server.url + path, timeout=30).json()
    return httpx.post(server.url + path, json=body, timeout=60).json()


def _batch_csv(n: int) -> tuple[str, list[dict[str, Any]]]:
    """A CSV of n rows as a marketplace exports it, and the listings it stands for."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["listing_id", "title", "category", "ship_from_country", "seller_cross_border"])
    listings = []
    for i in range(n):
        title = f"{TITLES[i % len(TITLES)]} {i // len(TITLES) + 1}"
        ship_from = "CN" if i % 7 == 3 else ""
        cross = "true" if i % 11 == 5 else ""
        writer.writerow([f"SKU-{i}", title, "", ship_from, cross])
        listing: dict[str, Any] = {"listing_id": f"SKU-{i}", "title": title}
        if ship_from:
            listing["ship_from"] = {"country": ship_from}
        if cross:
            listing["seller"] = {"cross_border": True}
        listings.append(listing)
    return out.getvalue(), listings


def _detail(driver: WebDriver, root: str = "#single-result") -> Any:
    return driver.find_element(By.CSS_SELECTOR, f"{root} .detail")


def _check_detail(driver: WebDriver, root: str, result: dict[str, Any], policy: Any) -> None:
    """The shown decision, highlighted terms, bars and threshold drawing are the API's."""
    detail = _detail(driver, root)
    verdict = detail.find_element(By.CSS_SELECTOR, "[data-f=verdict]")
    assert verdict.get_attribute("data-decision") == result["decision"]
    reasons = detail.find_elements(By.CSS_SELECTOR, "[data-f=reasons] li")
    assert [r.get_attribute("data-reason") for r in reasons] == result["reasons"]

    title = detail.find_element(By.CSS_SELECTOR, ".title-ev").text
    marks = [
        (
            m.get_attribute("class").removeprefix("ev-"),
            m.text.lower(),
            m.get_attribute("data-terms"),
        )
        for m in detail.find_elements(By.CSS_SELECTOR, ".title-ev mark")
    ]
    expected = expected_marks(result, title)
    assert expected, "the example must have evidence in its title"
    for kind, term in expected:
        assert any(k == kind and term.lower() in text for k, text, _ in marks), (kind, term)
    evidence = {"cluster": set(result["cluster"]["evidence"])}
    evidence["origin"] = {t for k, t in expected if k == "origin"}
    for kind, _, terms in marks:
        assert set(terms.split("|")) <= evidence[kind]

    bars = detail.find_elements(By.CSS_SELECTOR, "[data-f=bars] li")
    shown = {b.get_attribute("data-cluster"): float(b.get_attribute("data-value")) for b in bars}
    assert shown == pytest.approx(result["cluster"]["scores"], abs=1e-9)

    drawn = gauges(driver, detail)
    th = policy["thresholds"]
    expected_values = {
        "p_import": result["origin"]["import_probability"],
        "p_block": p_block(result, policy),
    }
    for name, value in expected_values.items():
        g = drawn[name]
        assert g["value"] == pytest.approx(value, abs=1e-9), name
        # Drawn where it belongs: within a pixel of value x track width.
        tolerance = 1.5 / float(g["width"] or 1)
        assert g["marker"] == pytest.approx(value, abs=tolerance), name
        assert g["allow"] == pytest.approx(th["allow"], abs=tolerance), name
        assert g["block"] == pytest.approx(th["block"], abs=tolerance), name


def _on_one_screen(driver: WebDriver, root: str) -> dict[str, float]:
    """Bottom of each part of the explanation, and the viewport's height and scroll."""
    script = """
    const d = document.querySelector(arguments[0] + ' .detail');
    const out = {innerHeight: innerHeight, scrollY: scrollY,
                 scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth};
    for (const f of ['verdict', 'title', 'bars', 'gauges', 'fields', 'terms'])
      out[f] = d.querySelector('[data-f=' + f + ']').getBoundingClientRect().bottom;
    return out;
    """
    found: dict[str, float] = driver.execute_script(script, root)
    return found


def test_one_listing_is_explained_as_the_api_answers_on_one_laptop_screen(
    server: Server, driver: WebDriver, artifacts: Path
) -> None:
    policy = _api(server, "/v1/policy")
    open_page(driver, server.url)
    screen_one(driver, TEXT_ONLY)
    result = _api(server, "/v1/screen", TEXT_ONLY)
    _check_detail(driver, "#single-result", result, policy)
    fields = driver.find_elements(By.CSS_SELECTOR, "#single-result [data-f=fields] li[data-field]")
    assert fields == []  # origin judged from the text

    screen_one(driver, STRUCTURED, cross_border=True)
    listing = {
        "title": STRUCTURED["title"],
        "ship_from": {"country": "CN"},
        "seller": {"cross_border": True},
    }
    result = _api(server, "/v1/screen", listing)
    _check_detail(driver, "#single-result", result, policy)
    fields = driver.find_elements(By.CSS_SELECTOR, "#single-result [data-f=fields] li[data-field]")
    assert [f.get_attribute("data-field") for f in fields] == result["origin"]["evidence"]

    layout = _on_one_screen(driver, "#single-result")
    assert layout["scrollY"] == 0
    for part in ("verdict", "title", "bars", "gauges", "fields", "terms"):
        assert layout[part] <= layout["innerHeight"], (part, layout)
    driver.save_screenshot(str(artifacts / "single.png"))
    # Listing text stays out of the server's log (AKAR_LOG_LISTING_TEXT is off).
    log = server.log.read_text(encoding="utf-8")
    assert "/v1/screen" in log
    assert "Lengan Panjang" not in log and "Rajut" not in log


def test_a_200_row_csv_is_screened_filtered_sorted_and_downloaded(
    server: Server, driver: WebDriver, artifacts: Path, downloads: Path, tmp_path: Path
) -> None:
    text, listings = _batch_csv(200)
    path = tmp_path / "listings.csv"
    path.write_text(text, encoding="utf-8")
    answer = _api(server, "/v1/screen/batch", {"listings": listings})["results"]
    policy = _api(server, "/v1/policy")

    open_page(driver, server.url)
    driver.find_element(By.ID, "tab-batch").click()
    driver.find_element(By.ID, "batch-file").send_keys(str(path))
    wait(driver).until(lambda d: "200" in d.find_element(By.ID, "batch-status").text)
    driver.find_element(By.CSS_SELECTOR, "#batch-form button[type=submit]").click()
    wait(driver).until(
        lambda d: d.find_element(By.ID, "batch-status").get_attribute("data-seconds")
    )
    rows = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert len(rows) == 200
    shown = driver.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')].map(tr => "
        "[tr.children[1].textContent, tr.children[2].textContent, tr.dataset.decision, "
        "tr.children[4].dataset.cluster])"
    )
    assert shown == [
        [a["listing_id"], listing["title"], a["decision"], a["cluster"]["label"]]
        for a, listing in zip(answer, listings, strict=True)
    ]
    driver.save_screenshot(str(artifacts / "batch.png"))

    Select(driver.find_element(By.ID, "f-decision")).select_by_value("block")
    blocked = [a for a in answer if a["decision"] == "block"]
    assert 0 < len(blocked) < 200
    rows = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
    assert len(rows) == len(blocked)
    assert {r.get_attribute("data-decision") for r in rows} == {"block"}

    # p_block, highest first
    driver.find_element(By.CSS_SELECTOR, "button[data-sort=p_block]").click()
    values = driver.execute_script(
        "return [...document.querySelectorAll('#results tbody tr')].map(tr => "
        "Number(tr.children[6].textContent))"
    )
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(max(p_block(a, policy) for a in blocked), abs=1e-4)

    driver.find_element(By.ID, "download").click()
    target = downloads / "akar-decisions.csv"
    wait(driver).until(lambda _: target.is_file() and target.stat().st_size > 0)
    with target.open(encoding="utf-8", newline="") as f:
        downloaded = list(csv.DictReader(f))
    assert sorted(r["listing_id"] for r in downloaded) == sorted(a["listing_id"] for a in blocked)
    by_id = {a["listing_id"]: a for a in answer}
    for row in downloaded:
        a = by_id[row["listing_id"]]
        assert (row["decision"], row["cluster"], row["reasons"]) == (
            a["decision"],
            a["cluster"]["label"],
            ";".join(a["reasons"]),
        )
    target.unlink()

    # One row's explanation, in a dialog.
    first = driver.find_element(By.CSS_SELECTOR, "#results tbody tr button[data-n]")
    n = int(attribute(first, "data-n"))
    first.click()
    wait(driver).until(lambda d: d.find_element(By.ID, "detail-dialog").is_displayed())
    _check_detail(driver, "#detail-body", answer[n - 1], policy)
    driver.save_screenshot(str(artifacts / "batch-detail.png"))
    driver.find_element(By.CSS_SELECTOR, "#detail-dialog .close").click()


def test_1000_pasted_lines_are_screened_and_the_time_recorded(
    server: Server, driver: WebDriver, record: Callable[[str, float], None]
) -> None:
    lines = "\n".join(f"{TITLES[i % len(TITLES)]} no {i}" for i in range(1000))
    open_page(driver, server.url)
    driver.find_element(By.ID, "tab-batch").click()
    box = driver.find_element(By.ID, "batch-text")
    # What a paste does: the text lands in the box at once.
    driver.execute_script("arguments[0].value = arguments[1]", box, lines)
    driver.find_element(By.CSS_SELECTOR, "#batch-form button[type=submit]").click()
    status = driver.find_element(By.ID, "batch-status")
    wait(driver).until(lambda _: status.get_attribute("data-seconds"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 1000
    record("batch_1000_rows_ms", 1000 * float(attribute(status, "data-seconds")))

    driver.execute_script("arguments[0].value = arguments[1]", box, lines + "\none more")
    driver.find_element(By.CSS_SELECTOR, "#batch-form button[type=submit]").click()
    error = driver.find_element(By.ID, "batch-error")
    wait(driver).until(lambda _: error.is_displayed())
    assert "1001" in error.text


def test_the_language_switches_between_indonesian_and_english(
    server: Server, driver: WebDriver, artifacts: Path
) -> None:
    open_page(driver, server.url)
    html = driver.find_element(By.TAG_NAME, "html")
    tab = driver.find_element(By.ID, "tab-single")
    assert (html.get_attribute("lang"), tab.text) == ("id", "Satu listing")
    screen_one(driver, TEXT_ONLY)
    decision = driver.find_element(By.CSS_SELECTOR, "#single-result [data-f=decision]")
    assert decision.text == "BLOKIR"

    driver.find_element(By.ID, "lang-button").click()
    assert (html.get_attribute("lang"), tab.text) == ("en", "One listing")
    decision = driver.find_element(By.CSS_SELECTOR, "#single-result [data-f=decision]")
    assert decision.text == "BLOCK"
    driver.save_screenshot(str(artifacts / "single-en.png"))

    driver.refresh()  # the choice is kept in this browser
    open_page(driver, server.url)
    html = driver.find_element(By.TAG_NAME, "html")
    assert driver.find_element(By.ID, "tab-single").text == "One listing"
    driver.find_element(By.ID, "lang-button").click()
    assert html.get_attribute("lang") == "id"
    assert driver.find_element(By.ID, "tab-single").text == "Satu listing"


def test_the_policy_and_model_view_shows_what_serves(
    server: Server, driver: WebDriver, artifacts: Path
) -> None:
    policy, model = _api(server, "/v1/policy"), _api(server, "/v1/model")
    open_page(driver, server.url)
    driver.find_element(By.ID, "tab-about").click()
    facts = driver.find_element(By.ID, "policy").text
    assert policy["version"] in facts
    assert str(policy["thresholds"]["block"]) in facts
    assert str(policy["thresholds"]["allow"]) in facts
    assert model["version"] in driver.find_element(By.ID, "model").text
    drawn = gauges(driver, driver.find_element(By.ID, "policy-gauge"))["p_block"]
    tolerance = 1.5 / float(drawn["width"] or 1)
    assert drawn["block"] == pytest.approx(policy["thresholds"]["block"], abs=tolerance)
    assert drawn["allow"] == pytest.approx(policy["thresholds"]["allow"], abs=tolerance)
    cells = driver.execute_script(
        "return [...document.querySelectorAll('#confusion tbody tr')].map(tr => "
        "[...tr.querySelectorAll('td')].map(td => Number(td.textContent)))"
    )
    assert cells == model["metrics"]["hand_checked"]["confusion"]
    sources = driver.find_element(By.ID, "sources").text
    assert all(s["name"] in sources for s in model["data_sources"])
    accuracy = model["metrics"]["hand_checked"]["cluster"]["accuracy"]
    assert f"{accuracy:.3f}" in driver.find_element(By.ID, "figures").text
    driver.save_screenshot(str(artifacts / "policy-model.png"))
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(LAPTOP[0], max(LAPTOP[1], int(full)))
    driver.save_screenshot(str(artifacts / "policy-model-full.png"))


def test_with_keys_the_page_asks_for_one_and_keeps_it_in_the_tab_only(
    locked_server: Server, driver: WebDriver, artifacts: Path
) -> None:
    open_page(driver, locked_server.url)
    dialog = driver.find_element(By.ID, "key-dialog")
    assert dialog.is_displayed()
    driver.save_screenshot(str(artifacts / "key-prompt.png"))
    box = driver.find_element(By.ID, "key-input")
    box.send_keys("not-the-key", Keys.ENTER)
    error = driver.find_element(By.ID, "key-error")
    wait(driver).until(lambda _: error.is_displayed())
    assert error.text == "Kunci tidak dikenal."
    assert dialog.is_displayed()

    box.clear()
    box.send_keys(KEY, Keys.ENTER)
    wait(driver).until(lambda _: not dialog.is_displayed())
    assert "akar-1." in driver.find_element(By.ID, "serving").text
    screen_one(driver, TEXT_ONLY)
    assert driver.execute_script("return sessionStorage.getItem('akar-gate-key')") == KEY
    stored = driver.execute_script("return JSON.stringify(localStorage)")
    assert KEY not in stored
    assert KEY not in driver.get_cookies().__repr__()
    assert KEY not in locked_server.log.read_text(encoding="utf-8")


def test_the_page_is_usable_with_the_keyboard(server: Server, driver: WebDriver) -> None:
    open_page(driver, server.url)
    title = driver.find_element(By.NAME, "title")
    title.send_keys(TEXT_ONLY["title"], Keys.ENTER)  # Enter submits the form
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#single-result .detail"))

    driver.find_element(By.ID, "tab-single").send_keys(Keys.ARROW_RIGHT)
    assert driver.switch_to.active_element.get_attribute("id") == "tab-batch"
    assert driver.find_element(By.ID, "view-batch").is_displayed()
    box = driver.find_element(By.ID, "batch-text")
    box.send_keys("Kopi Gayo Arabika\nCoklat Import Turki")
    box.send_keys(Keys.TAB, Keys.TAB, Keys.ENTER)  # past the file input to the button
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 2)
    link = driver.find_element(By.CSS_SELECTOR, "#results tbody tr button[data-n]")
    link.send_keys(Keys.ENTER)
    dialog = driver.find_element(By.ID, "detail-dialog")
    wait(driver).until(lambda _: dialog.is_displayed())
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver).until(lambda _: not dialog.is_displayed())


def test_first_paint_is_recorded_and_the_page_fits_a_phone(
    server: Server, driver: WebDriver, artifacts: Path, record: Callable[[str, float], None]
) -> None:
    open_page(driver, server.url)
    # The paint entry is queued after the paint itself: wait until the browser has it.
    paint = wait(driver).until(
        lambda d: d.execute_script(
            "const p = performance.getEntriesByName('first-contentful-paint')[0];"
            "return p ? p.startTime : null"
        )
    )
    record("first_contentful_paint_ms", float(paint))
    nav = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return n.domContentLoadedEventEnd - n.startTime"
    )
    record("dom_content_loaded_ms", float(nav))

    driver.set_window_size(*PHONE)
    screen_one(driver, TEXT_ONLY)
    width = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1]  # nothing wider than the phone
    driver.execute_script("document.querySelector('#single-result').scrollIntoView()")
    driver.save_screenshot(str(artifacts / "phone.png"))


def test_the_root_page_links_to_the_page(server: Server, driver: WebDriver) -> None:
    driver.get(server.url + "/")
    driver.find_element(By.LINK_TEXT, "Halaman untuk tim kebijakan").click()
    wait(driver).until(lambda d: urlsplit(d.current_url).path == "/ui")
    assert (
        json.loads(attribute(driver.find_element(By.ID, "config"), "textContent"))["authRequired"]
        is False
    )
