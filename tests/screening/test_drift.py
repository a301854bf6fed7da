"""Drift: profiles, PSI, and the service's live view against a model's reference profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.screening import drift
from app.screening.store import load_model

CLUSTERS = ["culinary", "handicraft", "other", "textile_fashion"]


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_shift() -> None:
    even = [0.1] * 10
    assert drift.psi(even, even) == 0
    slight = [0.12, 0.08] + [0.1] * 8
    skewed = [0.55, 0.05] + [0.05] * 8
    assert (
        0 < drift.psi(even, slight) < drift.PSI_MODERATE < drift.PSI_LARGE < drift.psi(even, skewed)
    )


def test_histograms_put_every_value_in_one_of_ten_bins() -> None:
    shares = drift.histogram([0.0, 0.05, 0.1, 0.95, 1.0])
    assert shares[0] == pytest.approx(2 / 5) and shares[1] == pytest.approx(1 / 5)
    assert shares[9] == pytest.approx(2 / 5) and sum(shares) == pytest.approx(1)
    assert drift.histogram([]) == [0.0] * 10


def test_the_unknown_word_share_counts_words_the_model_never_saw(tiny_model_dir: Path) -> None:
    vocabulary = drift.Vocabulary.of(load_model(tiny_model_dir).model.predictor)
    assert vocabulary is not None
    assert vocabulary.unknown_share("kemeja batik") == 0
    assert vocabulary.unknown_share("kemeja qwertyuiop") == 0.5
    assert vocabulary.unknown_share("!!") == 0


def _rows(n: int, cluster: str, decision: str, confidence: float) -> dict[str, list[Any]]:
    return {
        "cluster": [cluster] * n,
        "decision": [decision] * n,
        "cluster_confidence": [confidence] * n,
        "import_probability": [0.05] * n,
        "unknown_word_share": [0.0] * n,
    }


def test_a_profile_compared_with_itself_shows_no_drift() -> None:
    reference = drift.profile(_rows(10, "other", "allow", 0.9), clusters=CLUSTERS)
    assert set(drift.compare(reference, reference).values()) == {0.0}
    shifted = drift.profile(_rows(10, "culinary", "block", 0.4), clusters=CLUSTERS)
    psi = drift.compare(reference, shifted)
    assert psi["cluster"] > drift.PSI_LARGE and psi["decision"] > drift.PSI_LARGE
    assert psi["cluster_confidence"] > drift.PSI_LARGE
    assert psi["import_probability"] == 0
