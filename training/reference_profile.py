"""The reference profile beside a model: the validation set as the service would answer it.

`train` writes it; `python -m training profile models/<version>` writes it for an existing
folder. The service (`akar_drift_psi`) and `python -m training drift` compare live traffic
with it. It is not in the manifest's checksums: it describes traffic, it is never executed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.schemas import Listing
from app.screening.drift import PROFILE_FILE, Vocabulary, profile
from app.screening.policy import Policy, load_policy
from app.screening.screener import Screener
from app.screening.store import LoadedModel, load_model
from training import data
from training.sources import DEFAULT_CONFIG, load_config


def answered_profile(
    loaded: LoadedModel, titles: Sequence[str], policy: Policy, source: str = ""
) -> dict[str, Any]:
    """The profile of the service's answers to these titles (`Screener.screen`, the policy's
    would-be decision in shadow mode, as the service's live profile counts it)."""
    results = Screener(loaded, policy).screen([Listing(title=t) for t in titles])
    vocabulary = Vocabulary.of(loaded.model.predictor)
    rows: dict[str, list[Any]] = {
        "cluster": [],
        "decision": [],
        "cluster_confidence": [],
        "import_probability": [],
        "unknown_word_share": [],
    }
    for title, r in zip(titles, results, strict=True):
        if r.cluster is None or r.origin is None:
            continue  # a model error: the service does not profile it either
        rows["cluster"].append(r.cluster.label)
        rows["decision"].append(r.shadow_decision or r.decision)
        rows["cluster_confidence"].append(r.cluster.confidence)
        rows["import_probability"].append(r.origin.import_probability)
        # A scikit-learn fallback model has no vocabulary: that histogram stays empty.
        if vocabulary is not None:
            rows["unknown_word_share"].append(vocabulary.unknown_share(title))
    return profile(rows, clusters=loaded.model.cluster_labels, source=source)


def write_reference_profile(
    loaded: LoadedModel, examples: Sequence[data.Example], policy: Policy | None = None
) -> Path:
    """Writes `reference_profile.json` in the model's folder from these (validation) listings."""
    result = answered_profile(
        loaded,
        [e.title for e in examples],
        policy or load_policy(),
        source=f"validation set ({len(examples)} hand-checked listings, titles only)",
    )
    path = loaded.path / PROFILE_FILE
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def profile_model(
    model_dir: Path,
    *,
    sources: Path = DEFAULT_CONFIG,
    data_dir: Path | None = None,
    validation: Path = data.VALIDATION_LABELS,
    policy: Path | None = None,
) -> Path:
    """`python -m training profile`: the reference profile of an existing model folder."""
    loaded = load_model(model_dir)
    examples = data.load_sources(load_config(sources, data_dir))
    _, checked, _ = data.training_sets(examples, validation, None, None)
    return write_reference_profile(loaded, checked, load_policy(policy))
