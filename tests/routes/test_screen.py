from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def test_screen_answers_the_documented_contract(client: TestClient) -> None:
    r = client.post(
        "/v1/screen",
        json={"listing_id": "L-1", "title": "Kemeja Batik Pria", "ship_from": {"country": "CN"}},
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "listing_id",
        "decision",
        "shadow_decision",
        "cluster",
        "origin",
        "reasons",
        "model_version",
        "policy_version",
    }
    assert body["listing_id"] == "L-1"
    assert body["decision"] == "block"
    assert body["cluster"]["label"] == "textile_fashion"
    assert body["origin"] == {
        "label": "import",
        "confidence": 1.0,
        "import_probability": 1.0,
        "evidence": ["ship_from.country=CN"],
    }
    assert body["model_version"] == "tiny-1"
    assert body["policy_version"] == "akar-2021.1"


def test_screen_ignores_unknown_fields(client: TestClient) -> None:
    r = client.post("/v1/screen", json={"title": "Kopi Gayo", "stock": 12, "seller": {"x": 1}})
    assert r.status_code == 200
    assert r.json()["listing_id"] is None


def _error_locs(r: Any) -> list[list[Any]]:
    return [e["loc"] for e in r.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "title"]),
        ({"title": ""}, ["body", "title"]),
        ({"title": "   "}, ["body", "title"]),
        ({"title": "\u200b\u200b\u200b"}, ["body", "title"]),  # only zero-width spaces
        ({"title": "\u200d \ufeff\u2060"}, ["body", "title"]),
        ({"title": "a" * 501}, ["body", "title"]),
        ({"title": 42}, ["body", "title"]),
        ({"title": "x", "description": "d" * 20_001}, ["body", "description"]),
        ({"title": "x", "price": {"amount": -1}}, ["body", "price", "amount"]),
        ({"title": "x", "price": {"amount": 10, "currency": "USD"}}, ["body", "price", "currency"]),
        ({"title": "x", "price": {"amount": "1e999"}}, ["body", "price", "amount"]),
        ({"title": "x", "price": {"amount": 1e300}}, ["body", "price", "amount"]),
        ({"title": "x", "seller": {"country": "XX"}}, ["body", "seller", "country"]),
        ({"title": "x", "seller": {"country": "IDN"}}, ["body", "seller", "country"]),
        ({"title": "x", "seller": {"cross_border": "yes"}}, ["body", "seller", "cross_border"]),
        ({"title": "x", "seller": {"cross_border": 1}}, ["body", "seller", "cross_border"]),
        ({"title": "x", "ship_from": {"country": "zz"}}, ["body", "ship_from", "country"]),
        ({"title": "x", "origin_country": 7}, ["body", "origin_country"]),
        ({"title": "x", "ship_from": "CN"}, ["body", "ship_from"]),
        # Strict types: the schema tells the truth.
        ({"title": "x", "price": {"amount": "10"}}, ["body", "price", "amount"]),
        ({"title": "x", "seller": {"cross_border": 0}}, ["body", "seller", "cross_border"]),
        ({"title": "x", "listing_id": 12}, ["body", "listing_id"]),
    ],
)
def test_screen_rejects_bad_input_naming_the_field(
    client: TestClient, body: dict[str, Any], loc: list[Any]
) -> None:
    r = client.post("/v1/screen", json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "VALIDATION_ERROR"
    assert _error_locs(r) == [loc]


def test_text_lengths_are_checked_as_sent_as_the_schema_says(client: TestClient) -> None:
    # The OpenAPI maxLength is what is enforced: whitespace counts, and is trimmed afterwards.
    assert client.post("/v1/screen", json={"title": "a" * 500}).status_code == 200
    assert client.post("/v1/screen", json={"title": "\r" + "a" * 500}).status_code == 422
    r = client.post("/v1/screen", json={"title": "x", "seller": {"country": " CN"}})
    assert r.status_code == 422


def test_surrounding_whitespace_is_trimmed(client: TestClient) -> None:
    r = client.post("/v1/screen", json={"title": "kemeja", "seller": {"city": " Luar Negeri "}})
    assert r.json()["origin"]["evidence"] == ["seller.city=Luar Negeri"]


def test_country_codes_are_accepted_in_any_case(client: TestClient) -> None:
    r = client.post("/v1/screen", json={"title": "kemeja", "seller": {"country": "cn"}})
    assert r.json()["origin"]["evidence"] == ["seller.country=CN"]


def test_malformed_json_is_a_422_not_a_500(client: TestClient) -> None:
    r = client.post(
        "/v1/screen", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


def test_a_body_over_one_megabyte_is_413(client: TestClient) -> None:
    big = b'{"title": "' + b"a" * 1_100_000 + b'"}'
    r = client.post("/v1/screen", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_a_chunked_body_over_the_limit_is_413(make_client: Any) -> None:
    small = make_client(max_body_bytes=100)

    def chunks() -> Any:
        for _ in range(10):
            yield b"a" * 50

    r = small.post("/v1/screen", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_batch_keeps_the_order_of_the_request(client: TestClient) -> None:
    titles = ["keripik tempe", "charger 33w", "patung ukiran kayu", "kemeja batik", "kopi gayo"]
    r = client.post(
        "/v1/screen/batch",
        json={"listings": [{"listing_id": str(i), "title": t} for i, t in enumerate(titles)]},
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["listing_id"] for x in results] == ["0", "1", "2", "3", "4"]
    assert [x["cluster"]["label"] for x in results] == [
        "culinary",
        "other",
        "handicraft",
        "textile_fashion",
        "culinary",
    ]


def test_batch_results_equal_single_results(client: TestClient) -> None:
    items = [{"title": "dress import"}, {"title": "vas gerabah", "origin_country": "CN"}]
    batch = client.post("/v1/screen/batch", json={"listings": items}).json()["results"]
    assert batch == [client.post("/v1/screen", json=i).json() for i in items]


@pytest.mark.parametrize("n", [0, 1001])
def test_batch_size_must_be_1_to_1000(client: TestClient, n: int) -> None:
    r = client.post("/v1/screen/batch", json={"listings": [{"title": "x"}] * n})
    assert r.status_code == 422
    assert _error_locs(r) == [["body", "listings"]]


def test_batch_accepts_exactly_1000(client: TestClient) -> None:
    r = client.post("/v1/screen/batch", json={"listings": [{"title": "kopi"}] * 1000})
    assert r.status_code == 200
    assert len(r.json()["results"]) == 1000


def test_a_bad_listing_in_a_batch_names_its_index(client: TestClient) -> None:
    r = client.post("/v1/screen/batch", json={"listings": [{"title": "ok"}, {"title": ""}]})
    assert r.status_code == 422
    assert _error_locs(r) == [["body", "listings", 1, "title"]]


def test_shadow_policy_allows_and_reports(make_client: Any, tmp_path: Any) -> None:
    policy = tmp_path / "shadow.yaml"
    policy.write_text("version: s1\nmode: shadow\n")
    c = make_client(policy_path=policy)
    body = c.post("/v1/screen", json={"title": "kemeja batik", "origin_country": "CN"}).json()
    assert (body["decision"], body["shadow_decision"]) == ("allow", "block")
    assert body["policy_version"] == "s1"


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404
    assert r.json()["code"] == "NOT_FOUND"


def test_openapi_carries_a_realistic_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    example = schema["components"]["schemas"]["Listing"]["examples"][0]
    assert example["title"] and example["ship_from"]["country"] == "CN"
    assert client.get("/docs").status_code == 200


def test_a_non_finite_price_in_raw_json_is_a_422(client: TestClient) -> None:
    body = b'{"title": "kopi", "price": {"amount": 1e999}}'
    r = client.post("/v1/screen", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert _error_locs(r) == [["body", "price", "amount"]]


@pytest.mark.parametrize(
    ("kwargs", "sent"),
    [
        ({"data": {"title": "kopi"}}, "Content-Type 'application/x-www-form-urlencoded'"),
        (
            {"content": b'{"title": "kopi"}', "headers": {"content-type": "text/plain"}},
            "Content-Type 'text/plain'",
        ),
        ({"content": b'{"title": "kopi"}'}, "no Content-Type"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/screen", "/v1/screen/batch"])
def test_a_body_not_sent_as_json_is_415_saying_so(
    client: TestClient, path: str, kwargs: dict[str, Any], sent: str
) -> None:
    r = client.post(path, **kwargs)
    assert r.status_code == 415
    assert r.json() == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "detail": f"the body was sent with {sent}: send JSON with 'Content-Type: application/json'",
    }


@pytest.mark.parametrize("path", ["/v1/screen", "/v1/screen/batch"])
def test_no_body_is_400_saying_so(client: TestClient, path: str) -> None:
    r = client.post(path)
    assert (r.status_code, r.json()) == (
        400,
        {
            "code": "BODY_MISSING",
            "detail": "the request has no body: send JSON with 'Content-Type: application/json'",
        },
    )
