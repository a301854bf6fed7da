"""The estimator MLServer serves in the HTTP benchmark answers as our model does.

MLServer itself is not needed: the inputs are built as MLServer 1.7's NumpyCodec decodes a V2
BYTES tensor (JSON strings: a numpy `str` array of the request's shape; raw bytes: `bytes`).
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from app.screening.store import load_model
from bench.mlserver import requirements, v2_body
from bench.mlserver_model import ScreeningEstimator

TITLES = [
    "Kemeja Batik Pria Lengan Panjang",
    "keripik tempe khas malang 250gr",
    "Earphone Bluetooth IMPORT made in china",
    "1mp0rt k o r e a snack pedasss",
    "kéripik ✓ ｉｍｐｏｒｔ",
    "",
]


@pytest.fixture(scope="module")
def expected(tiny_model_dir: Path) -> np.ndarray:
    preds = load_model(tiny_model_dir).model.predict([{"title": t} for t in TITLES])
    return np.column_stack([preds.cluster_proba, preds.import_proba])


@pytest.fixture(scope="module")
def estimator(tiny_model_dir: Path) -> ScreeningEstimator:
    return ScreeningEstimator.from_model_dir(tiny_model_dir)


@pytest.mark.parametrize(
    "decoded",
    [
        pytest.param(np.array(TITLES, dtype=str), id="str-array"),
        pytest.param(np.array([t.encode() for t in TITLES], dtype=bytes), id="bytes-array"),
        pytest.param(np.array(TITLES, dtype=str).reshape(-1, 1), id="column"),
        pytest.param([t.encode() for t in TITLES], id="bytes-list"),
        pytest.param(list(TITLES), id="str-list"),
    ],
)
def test_predict_proba_equals_our_model(
    estimator: ScreeningEstimator, expected: np.ndarray, decoded: object
) -> None:
    got = estimator.predict_proba(decoded)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_columns_are_our_cluster_labels_then_import(
    estimator: ScreeningEstimator, tiny_model_dir: Path
) -> None:
    assert estimator.columns == [*load_model(tiny_model_dir).model.cluster_labels, "import"]


def test_survives_joblib_as_mlserver_loads_it(
    estimator: ScreeningEstimator, expected: np.ndarray, tmp_path: Path
) -> None:
    joblib.dump(estimator, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    assert type(loaded).__module__ == "bench.mlserver_model"
    titles = np.array(TITLES, dtype=str)
    np.testing.assert_allclose(loaded.predict_proba(titles), expected, rtol=0, atol=1e-6)
    labels = np.array(estimator.cluster_labels)[expected[:, :-1].argmax(axis=1)]
    assert loaded.predict(titles).tolist() == labels.tolist()


def test_v2_body_is_one_json_line_with_the_title() -> None:
    title = 'kemeja "batik"\nbaru ✓'
    body = v2_body(title)
    assert "\n" not in body
    assert json.loads(body) == {
        "inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": [title]}]
    }


def test_mlserver_venv_pins_our_scikit_learn() -> None:
    reqs = requirements()
    assert f"scikit-learn=={sklearn.__version__}" in reqs
    assert "uvloop==0.21.0" in reqs
    assert "mlserver==1.7.*" in reqs and "mlserver-sklearn==1.7.*" in reqs
