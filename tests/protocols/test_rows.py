"""The /v1 answer built from screening columns is the declared response model, as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.protocols.rows import batch_json, result_json, result_rows
from app.schemas import BatchResult, Listing, ScreenResult
from app.screening.policy import Policy
from app.screening.screener import Screener
from app.screening.store import load_model

LISTINGS = [
    Listing(title="kemeja batik pria", listing_id="a"),
    Listing.model_validate({"title": "kemeja batik pria", "ship_from": {"country": "CN"}}),
    Listing(title="charger fast charging 33w"),
]


@pytest.fixture
def screener(tiny_model_dir: Path) -> Screener:
    return Screener(load_model(tiny_model_dir), Policy(version="p1"))


def test_a_batch_answer_is_a_batch_result_in_its_own_serialisation(screener: Screener) -> None:
    body = batch_json(screener.screen(LISTINGS))
    parsed = BatchResult.model_validate_json(body)
    assert parsed.model_dump_json().encode() == body
    assert [r.listing_id for r in parsed.results] == ["a", None, None]


def test_one_answer_is_the_first_row_as_a_screen_result(screener: Screener) -> None:
    columns = screener.screen(LISTINGS[1:2])
    body = result_json(columns)
    parsed = ScreenResult.model_validate_json(body)
    assert parsed.model_dump_json().encode() == body
    assert parsed.origin is not None and parsed.origin.evidence == ["ship_from.country=CN"]
    assert list(parsed.model_dump()) == list(result_rows(columns)[0])


def test_scores_are_keyed_by_the_model_s_cluster_labels_in_its_order(screener: Screener) -> None:
    row = result_rows(screener.screen(LISTINGS[:1]))[0]
    assert list(row["cluster"]["scores"]) == screener.loaded.model.cluster_labels


def test_a_failed_model_answers_null_cluster_and_origin(
    screener: Screener, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(listings: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(screener.loaded.model, "predict", broken)
    rows = result_rows(screener.screen(LISTINGS))
    assert [(r["decision"], r["cluster"], r["origin"], r["reasons"]) for r in rows] == [
        ("review", None, None, ("MODEL_ERROR",))
    ] * 3
    assert BatchResult.model_validate_json(batch_json(screener.screen(LISTINGS))).results
