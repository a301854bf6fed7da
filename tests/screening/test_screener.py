from __future__ import annotations

from pathlib import Path

import pytest

from app.schemas import Listing
from app.screening.policy import Policy
from app.screening.screener import Screener, structured_origin_evidence
from app.screening.store import load_model


def listing(**kw: object) -> Listing:
    return Listing.model_validate({"title": "kemeja batik pria"} | kw)


@pytest.mark.parametrize(
    ("fields", "evidence"),
    [
        ({"seller": {"cross_border": True}}, ["seller.cross_border=true"]),
        ({"ship_from": {"country": "cn"}}, ["ship_from.country=CN"]),
        ({"seller": {"country": "KR"}}, ["seller.country=KR"]),
        ({"origin_country": "TH"}, ["origin_country=TH"]),
        (
            {
                "ship_from": {"country": "ID"},
                "seller": {"country": "ID", "cross_border": False},
                "origin_country": "ID",
            },
            [],
        ),
        ({}, []),
    ],
)
def test_structured_origin_evidence(fields: dict[str, object], evidence: list[str]) -> None:
    assert structured_origin_evidence(listing(**fields)) == evidence


@pytest.fixture
def screener(tiny_model_dir: Path) -> Screener:
    return Screener(load_model(tiny_model_dir), Policy(version="p1"))


def test_structured_evidence_decides_origin_over_the_text(screener: Screener) -> None:
    result = screener.screen([listing(ship_from={"country": "CN"})])[0]
    assert result.origin is not None
    assert result.origin.label == "import"
    assert result.origin.import_probability == 1.0
    assert result.origin.evidence == ["ship_from.country=CN"]
    assert result.decision == "block"
    assert result.reasons == ["PROTECTED_CLUSTER_IMPORT", "STRUCTURED_ORIGIN_EVIDENCE"]


def test_title_evidence_names_the_terms(screener: Screener) -> None:
    result = screener.screen([listing(title="celana jeans pria import")])[0]
    assert result.origin is not None
    assert result.origin.label == "import"
    assert "title: 'import'" in result.origin.evidence


def test_unprotected_import_is_allowed(screener: Screener) -> None:
    result = screener.screen(
        [listing(title="charger fast charging", seller={"cross_border": True})]
    )[0]
    assert result.cluster is not None
    assert result.cluster.label == "other"
    assert (result.decision, result.reasons) == ("allow", ["UNPROTECTED_CLUSTER"])


def test_shadow_mode_allows_and_reports_the_would_be_block(tiny_model_dir: Path) -> None:
    shadow = Screener(load_model(tiny_model_dir), Policy(version="p1", mode="shadow"))
    result = shadow.screen([listing(ship_from={"country": "CN"})])[0]
    assert result.decision == "allow"
    assert result.shadow_decision == "block"
    assert result.reasons[:2] == ["SHADOW_MODE", "PROTECTED_CLUSTER_IMPORT"]


def test_a_batch_gives_the_same_answers_as_single_calls(screener: Screener) -> None:
    items = [listing(title=t) for t in ("kopi gayo", "patung kayu", "dress import", "mouse")]
    assert screener.screen(items) == [screener.screen([i])[0] for i in items]


def test_scores_are_probabilities_over_all_four_clusters(screener: Screener) -> None:
    result = screener.screen([listing()])[0]
    assert result.cluster is not None
    assert set(result.cluster.scores) == {"textile_fashion", "culinary", "handicraft", "other"}
    assert sum(result.cluster.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert result.cluster.confidence == max(result.cluster.scores.values())


def test_a_model_error_fails_safe_to_review(
    screener: Screener, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(listings: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(screener.loaded.model, "predict", broken)
    results = screener.screen([listing(listing_id="a"), listing(listing_id="b")])
    assert [(r.listing_id, r.decision, r.reasons) for r in results] == [
        ("a", "review", ["MODEL_ERROR"]),
        ("b", "review", ["MODEL_ERROR"]),
    ]
    assert results[0].cluster is None and results[0].origin is None
    assert "model error on 2 listing(s)" in caplog.text


def test_a_model_error_in_shadow_mode_allows_and_reports_review(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shadow = Screener(load_model(tiny_model_dir), Policy(version="p1", mode="shadow"))

    def broken(listings: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(shadow.loaded.model, "predict", broken)
    result = shadow.screen([listing()])[0]
    assert (result.decision, result.shadow_decision) == ("allow", "review")
    assert result.reasons == ["SHADOW_MODE", "MODEL_ERROR"]


@pytest.mark.parametrize(
    "title", ["kemeja batik pria-Intl", "kemeja batik pria dikirim dari luar negeri"]
)
def test_a_marketplace_marker_decides_origin_like_a_structured_field(
    screener: Screener, title: str
) -> None:
    result = screener.screen([listing(title=title)])[0]
    assert result.origin is not None and result.origin.import_probability == 1.0
    assert result.origin.evidence and result.origin.evidence[0].startswith("title_marker: ")
    assert result.decision == "block"
    assert result.reasons == ["PROTECTED_CLUSTER_IMPORT", "MARKETPLACE_MARKER"]


def test_a_shop_located_abroad_is_structured_evidence() -> None:
    assert structured_origin_evidence(listing(seller={"city": "Luar Negeri"})) == [
        "seller.city=Luar Negeri"
    ]
    assert structured_origin_evidence(listing(ship_from={"city": " luar  negeri"})) == [
        "ship_from.city=luar  negeri"
    ]
    assert structured_origin_evidence(listing(seller={"city": "Bandung"})) == []
