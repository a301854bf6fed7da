"""The service's live drift view against the serving model's reference profile."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from app.screening import drift
from app.screening.store import load_model

CLUSTERS = ["culinary", "handicraft", "other", "textile_fashion"]


def test_the_service_exports_drift_against_the_reference_profile(
    tiny_model_dir: Path, tmp_path: Path, make_client: Any, scrape: Any
) -> None:
    from app.observability.metrics import DRIFT_EVERY

    model = Path(shutil.copytree(tiny_model_dir, tmp_path / "tiny"))
    shirts = [{"title": "kemeja batik pria lengan panjang"}] * DRIFT_EVERY
    vocabulary = drift.Vocabulary.of(load_model(model).model.predictor)
    assert vocabulary is not None
    # The reference: what the service answers to a run of batik shirts.
    client = make_client(model_dir=model)
    results = client.post("/v1/screen/batch", json={"listings": shirts}).json()["results"]
    rows = {
        "cluster": [r["cluster"]["label"] for r in results],
        "decision": [r["decision"] for r in results],
        "cluster_confidence": [r["cluster"]["confidence"] for r in results],
        "import_probability": [r["origin"]["import_probability"] for r in results],
        "unknown_word_share": [vocabulary.unknown_share(x["title"]) for x in shirts],
    }
    (model / drift.PROFILE_FILE).write_text(json.dumps(drift.profile(rows, clusters=CLUSTERS)))

    same = make_client(model_dir=model)
    same.post("/v1/screen/batch", json={"listings": shirts})
    m = scrape(same)
    assert m("akar_cluster_confidence_count") == DRIFT_EVERY
    assert m("akar_drift_psi", feature="cluster") == 0
    assert m("akar_drift_psi", feature="unknown_word_share") == 0

    other = make_client(model_dir=model)
    chips = [{"title": "keripik tempe khas malang qwertyuiop"}] * DRIFT_EVERY
    other.post("/v1/screen/batch", json={"listings": chips})
    m = scrape(other)
    assert m("akar_drift_psi", feature="cluster") > drift.PSI_LARGE
    assert m("akar_drift_psi", feature="unknown_word_share") > drift.PSI_LARGE
