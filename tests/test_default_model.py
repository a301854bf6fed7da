"""End to end with the committed default model, as `make run` serves it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_the_default_model_is_ready(default_client: TestClient) -> None:
    r = default_client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["model_version"] == default_client.get("/v1/model").json()["version"]


def test_the_default_model_reports_its_validation_metrics(default_client: TestClient) -> None:
    metrics = default_client.get("/v1/model").json()["metrics"]
    assert metrics["hand_checked"]["n"] >= 600
    assert metrics["hand_checked"]["cluster"]["macro_f1"] > 0.8


@pytest.mark.parametrize(
    ("title", "cluster"),
    [
        ("Kemeja Batik Pria Lengan Panjang", "textile_fashion"),
        ("Kain Tenun Ikat Sumba 2m", "textile_fashion"),
        ("Keripik Tempe Khas Malang 250gr", "culinary"),
        ("Kopi Gayo Arabika 500g", "culinary"),
        ("Keranjang Anyaman Rotan Handmade", "handicraft"),
        ("Patung Ukiran Kayu Jati Jepara", "handicraft"),
        ("Charger Fast Charging 33W", "other"),
        ("Panci Presto 24cm", "other"),
    ],
)
def test_taxonomy_examples_get_their_cluster(
    default_client: TestClient, title: str, cluster: str
) -> None:
    body = default_client.post("/v1/screen", json={"title": title}).json()
    assert body["cluster"]["label"] == cluster
    assert body["decision"] == "allow"


@pytest.mark.parametrize(
    "title",
    [
        "Sepatu Sneakers Wanita Import",
        "Coklat Import Turki 200gr",
        "Kemeja Pria Made in China",
        "Dress Wanita Barang 1mp0rt",
        "Hijab Instan i m p o r t",
    ],
)
def test_explicit_import_in_a_protected_cluster_is_blocked(
    default_client: TestClient, title: str
) -> None:
    body = default_client.post("/v1/screen", json={"title": title}).json()
    assert body["origin"]["label"] == "import"
    assert body["decision"] == "block"
    assert body["origin"]["evidence"]


@pytest.mark.parametrize(
    "title",
    [
        "Sepatu Wanita Korean Style",
        "Bibit Jambu Bangkok",
        "Tas Kulit Kualitas Import",
        "Kain Katun Jepang Motif Bunga",
    ],
)
def test_style_variety_and_quality_words_do_not_block(
    default_client: TestClient, title: str
) -> None:
    assert default_client.post("/v1/screen", json={"title": title}).json()["decision"] != "block"
