"""What the browser tests do on the page and read back from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

KEY = "policy-team-key"
LAPTOP = (1366, 768)
PHONE = (390, 844)
# Generous: two busy cores, and a browser that starts cold.
TIMEOUT = 60


@dataclass
class Server:
    """A running `python -m app` and the file its log goes to."""

    url: str
    log: Path


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, TIMEOUT)


def attribute(element: WebElement, name: str) -> str:
    """An attribute the page must set (selenium answers None for a missing one)."""
    value = element.get_attribute(name)
    assert value is not None, f"no {name} on <{element.tag_name}>"
    return value


def open_page(driver: WebDriver, url: str) -> None:
    """/ui, loaded, its policy and model shown (or the key prompt up)."""
    driver.get(f"{url}/ui")
    wait(driver).until(
        lambda d: d.execute_script(
            "return document.querySelector('#serving').textContent !== ''"
            " || document.querySelector('#key-dialog').open"
        )
    )


def screen_one(driver: WebDriver, fields: dict[str, str], cross_border: bool = False) -> None:
    """Fills the one-listing form as a person would and waits for this listing's answer."""
    form = driver.find_element(By.ID, "single-form")
    for name in ("title", "category", "description", "seller_country", "ship_from_country"):
        box = form.find_element(By.NAME, name)
        box.clear()
        if fields.get(name):
            box.send_keys(fields[name])
    checkbox = form.find_element(By.NAME, "cross_border")
    if checkbox.is_selected() != cross_border:
        checkbox.click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    title = fields["title"].strip()
    wait(driver).until(
        lambda d: d.execute_script(
            "const t = document.querySelector('#single-result .title-ev');"
            "return t !== null && t.textContent === arguments[0]",
            title,
        )
    )


def p_block(result: dict[str, Any], policy: dict[str, Any]) -> float:
    scores = result["cluster"]["scores"]
    protected = sum(scores[c] for c in policy["protected_clusters"])
    return float(protected * result["origin"]["import_probability"])


def expected_marks(result: dict[str, Any], title: str) -> set[tuple[str, str]]:
    """(kind, term) of every evidence term that occurs in the title as a whole word."""
    terms = [("cluster", t) for t in result["cluster"]["evidence"]]
    for e in result["origin"]["evidence"]:
        quoted = re.fullmatch(r"title: '(.*)'", e)
        if quoted:
            terms.append(("origin", quoted.group(1)))
        elif e.startswith("title_marker: "):
            terms.append(("origin", e.removeprefix("title_marker: ")))
    found = set()
    for kind, term in terms:
        body = r"\s+".join(re.escape(w) for w in term.split())
        before = r"(?<![^\W_])" if term[:1].isalnum() else ""
        after = r"(?![^\W_])" if term[-1:].isalnum() else ""
        if re.search(before + body + after, title, re.IGNORECASE):
            found.add((kind, term))
    return found


GEOMETRY = """
const out = {};
for (const g of arguments[0].querySelectorAll('.gauge')) {
  const track = g.querySelector('.track').getBoundingClientRect();
  const at = (el) => {
    const r = el.getBoundingClientRect();
    return (r.left + r.width / 2 - track.left) / track.width;
  };
  const marker = g.querySelector('.marker');
  out[g.dataset.gauge] = {
    value: marker ? Number(marker.dataset.value) : null,
    marker: marker ? at(marker) : null,
    allow: at(g.querySelector('.line-allow')),
    block: at(g.querySelector('.line-block')),
    width: track.width,
  };
}
return out;
"""


def gauges(driver: WebDriver, root: Any) -> dict[str, dict[str, float | None]]:
    """Each gauge's marker and threshold lines as a fraction of its track, measured on screen."""
    found: dict[str, dict[str, float | None]] = driver.execute_script(GEOMETRY, root)
    return found
