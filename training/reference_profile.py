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
from app.screening.drift import FEATURES, PROFILE_FILE, Vocabulary, profile
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
    cluster, origin = results.cluster, results.origin
    if cluster is None or origin is None:  # a model error: the service does not profile it
        rows: dict[str, list[Any]] = {name: [] for name in FEATURES}
    else:
        rows = {
            "cluster": cluster.labels.tolist(),
            "decision": results.enforce_decisions().tolist(),
            "cluster_confidence": cluster.confidence.tolist(),
            "import_probability": origin.import_probability.tolist(),
            # A scikit-learn fallback model has no vocabulary: that histogram stays empty.
            "unknown_word_share": [vocabulary.unknown_share(t) for t in titles]
            if vocabulary is not None
            else [],
        }
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
