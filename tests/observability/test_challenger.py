"""A challenger model scores every listing beside the serving one; the answer stays ours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.screening.store import save_model
from tests.conftest import TINY_EXAMPLES
from training.pipeline import Params, build_pipelines

FLIP = {"domestic": "import", "import": "domestic"}


@pytest.fixture(scope="module")
def contrary_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model that reads origin the other way round: it disagrees on purpose."""
    pipelines = build_pipelines(
        Params(cluster_c=100.0, origin_c=100.0, word_max_features=500, char_max_features=2000)
    )
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["cluster"].fit(listings, [c for _, c, _ in TINY_EXAMPLES])
    pipelines["origin"].fit(listings, [FLIP[o] for _, _, o in TINY_EXAMPLES])
    out = tmp_path_factory.mktemp("models") / "contrary-1"
    save_model(
        pipelines,
        out,
        version="contrary-1",
        created_at="2026-12-05T00:00:00+00:00",
        data_sources=[],
        metrics={},
        check_listings=[{"title": "kemeja batik"}],
    )
    return out


def _access(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    return [x for x in lines if x["logger"] == "akar_gate.access"]


def test_the_challenger_is_counted_and_never_changes_the_answer(
    make_client: Any, contrary_model_dir: Path, scrape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = make_client()
    challenged = make_client(challenger_model_dir=contrary_model_dir)
    listings = [
        {"listing_id": "a", "title": "kemeja batik pria lengan panjang"},
        {"listing_id": "b", "title": "keripik tempe khas malang"},
        {"listing_id": "c", "title": "charger fast charging 33w"},
    ]
    expected = plain.post("/v1/screen/batch", json={"listings": listings}).json()
    capsys.readouterr()
    got = challenged.post("/v1/screen/batch", json={"listings": listings}).json()
    assert got == expected  # the serving model's answer, untouched
    assert [r["decision"] for r in got["results"]] == ["allow", "allow", "allow"]

    m = scrape(challenged)
    # The contrary model reads the batik shirt and the chips as imports: block.
    pairs = {
        ("allow", "block", "textile_fashion"): 1,
        ("allow", "block", "culinary"): 1,
        ("allow", "allow", "other"): 1,  # not protected: allowed either way
    }
    for (serving, challenger, cluster), n in pairs.items():
        labels = {"serving": serving, "challenger": challenger, "cluster": cluster}
        assert m("akar_challenger_decisions_total", **labels) == n
    # (each app of this test adds its handler: the same line may come twice)
    lines = [x for x in _access(capsys) if x["route"] == "/v1/screen/batch"]
    assert len({x["request_id"] for x in lines}) == 1
    line = lines[0]
    assert line["challenger_disagreements"] == ["a", "b"]  # ids, never titles
    assert "titles" not in line


def test_without_a_challenger_nothing_is_counted(make_client: Any, scrape: Any) -> None:
    c = make_client()
    c.post("/v1/screen", json={"title": "kopi gayo"})
    assert scrape(c).names("akar_challenger_decisions") == set()


def test_a_reload_swaps_in_a_challenger(
    make_client: Any, contrary_model_dir: Path, scrape: Any, tmp_path: Path
) -> None:
    # Settings from a file a reload re-reads: the challenger comes with the next reload.
    import hashlib

    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    values: dict[str, Any] = {
        "model_dir": None,
        "admin_key_sha256": [hashlib.sha256(b"k").hexdigest()],
    }

    def source() -> Settings:
        return Settings(**values)

    # The serving model is the contrary one, the challenger the same: they always agree.
    values["model_dir"] = contrary_model_dir
    with TestClient(create_app(settings_source=source)) as c:
        c.post("/v1/screen", json={"title": "kemeja batik"})
        assert scrape(c).names("akar_challenger_decisions") == set()
        values["challenger_model_dir"] = contrary_model_dir
        assert c.post("/v1/admin/reload", headers={"Authorization": "Bearer k"}).status_code == 200
        c.post("/v1/screen", json={"title": "kemeja batik"})
        agree = {"serving": "block", "challenger": "block", "cluster": "textile_fashion"}
        assert scrape(c)("akar_challenger_decisions_total", **agree) == 1
