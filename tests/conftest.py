"""Shared fixtures: a tiny model built in a temp folder, and apps around it or the default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.screening.store import save_model
from training.pipeline import Params, build_pipelines

REPO = Path(__file__).resolve().parent.parent

# (title, cluster, origin): enough for a tiny model that separates the obvious cases.
TINY_EXAMPLES = [
    ("kemeja batik pria lengan panjang", "textile_fashion", "domestic"),
    ("kemeja batik wanita modern", "textile_fashion", "domestic"),
    ("kaos polos cotton combed", "textile_fashion", "domestic"),
    ("sepatu sneakers wanita", "textile_fashion", "domestic"),
    ("jilbab bergo instan", "textile_fashion", "domestic"),
    ("tas selempang kulit wanita", "textile_fashion", "domestic"),
    ("celana jeans pria import", "textile_fashion", "import"),
    ("dress wanita import korea", "textile_fashion", "import"),
    ("kemeja pria made in china", "textile_fashion", "import"),
    ("keripik tempe khas malang", "culinary", "domestic"),
    ("sambal bawang pedas", "culinary", "domestic"),
    ("kopi arabika gayo bubuk", "culinary", "domestic"),
    ("kue nastar lebaran", "culinary", "domestic"),
    ("coklat import turki", "culinary", "import"),
    ("snack impor korea pedas", "culinary", "import"),
    ("keranjang anyaman rotan handmade", "handicraft", "domestic"),
    ("patung ukiran kayu jepara", "handicraft", "domestic"),
    ("vas gerabah kasongan", "handicraft", "domestic"),
    ("wayang kulit gantungan kunci", "handicraft", "domestic"),
    ("charger fast charging 33w", "other", "domestic"),
    ("serum wajah niacinamide", "other", "domestic"),
    ("panci presto 24cm", "other", "domestic"),
    ("mouse wireless gaming", "other", "domestic"),
    ("earphone bluetooth import", "other", "import"),
    ("kabel data type c made in china", "other", "import"),
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (tiny) artifact with manifest, written by the same code as training."""
    pipelines = build_pipelines(
        Params(cluster_c=100.0, origin_c=100.0, word_max_features=500, char_max_features=2000)
    )
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["cluster"].fit(listings, [c for _, c, _ in TINY_EXAMPLES])
    pipelines["origin"].fit(listings, [o for _, _, o in TINY_EXAMPLES])
    out = tmp_path_factory.mktemp("models") / "tiny-1"
    save_model(
        pipelines,
        out,
        version="tiny-1",
        created_at="2026-11-27T00:00:00+00:00",
        data_sources=[],
        metrics={"note": "tiny test model"},
        check_listings=[{"title": "kemeja batik"}, {"title": "keripik tempe"}],
    )
    return out


@pytest.fixture
def make_client(tiny_model_dir: Path) -> Iterator[Callable[..., TestClient]]:
    """Builds a TestClient (lifespan running) for the tiny model with settings overrides."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(**({"model_dir": tiny_model_dir} | overrides))
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture(scope="session")
def default_client() -> Iterator[TestClient]:
    """The committed default model, as `make run` serves it."""
    with TestClient(create_app(Settings(models_root=REPO / "models"))) as c:
        yield c
