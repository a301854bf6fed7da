from __future__ import annotations

import sklearn
from fastapi.testclient import TestClient


def test_model_endpoint_describes_the_serving_model(client: TestClient) -> None:
    body = client.get("/v1/model").json()
    assert body["version"] == "tiny-1"
    assert body["sklearn_version"] == sklearn.__version__
    assert body["cluster_labels"] == ["culinary", "handicraft", "other", "textile_fashion"]
    assert body["metrics"] == {"note": "tiny test model"}
    assert len(body["artifact_sha256"]) == 64


def test_policy_endpoint_shows_the_active_policy(client: TestClient) -> None:
    assert client.get("/v1/policy").json() == {
        "version": "akar-2021.1",
        "mode": "enforce",
        "protected_clusters": ["culinary", "handicraft", "textile_fashion"],
        "thresholds": {"block": 0.8, "allow": 0.2},
    }


def test_the_docs_pages_load_nothing_from_the_internet(client: TestClient) -> None:
    import re

    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", html)
        assets += re.findall(r"""(?:url)\s*:\s*['"]([^'"]+)['"]""", html)
        assert assets, page
        for asset in assets:
            assert not asset.startswith(("http:", "https:", "//")), (page, asset)
            assert client.get(asset).status_code == 200, (page, asset)
