"""Reads /metrics the way Prometheus does: `scrape(client)("name", label=...)` is a value."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


class Scraped:
    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def __call__(self, name: str, **labels: str) -> float | None:
        """The sample's value; None when it is absent."""
        return self.samples.get((name, frozenset(labels.items())))

    def names(self, prefix: str) -> set[str]:
        return {name for name, _ in self.samples if name.startswith(prefix)}


@pytest.fixture
def scrape() -> Callable[[TestClient], Scraped]:
    def scrape(client: TestClient) -> Scraped:
        r = client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/plain; version=1.0.0; charset=utf-8"
        return Scraped(r.text)

    return scrape
