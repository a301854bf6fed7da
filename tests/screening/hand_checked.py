"""The hand-checked listings (validation and development sets) as screening test cases.

Each listing is sent with and without its category (the cluster model reads it, the origin
model does not), and once more with a listing id and one structured field or marketplace
marker in turn, so every branch of the answer (text evidence, structured evidence, markers,
each policy outcome) is taken by real titles.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.schemas import Listing
from training.data import (
    DEV_LABELS,
    SHARED_DATA,
    load_hand_labels,
    load_sources,
    split_off_validation_and_dev,
)

# Fields added in turn to the third copy of each listing; {} keeps it as it is.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"ship_from": {"country": "CN", "city": "Guangzhou"}},
    {"seller": {"cross_border": True}},
    {"seller": {"country": "ID", "city": "Luar Negeri", "cross_border": False}},
    {"origin_country": "ID", "ship_from": {"country": "ID"}},
    {"origin_country": "KR"},
    {"title_suffix": " -Intl"},
    {"title_suffix": " dikirim dari luar negeri"},
]


def hand_checked_listings() -> list[Listing]:
    """About 4,900 listings; skips the test when ../shared/data or the label files are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here")
    validation, dev = load_hand_labels(), load_hand_labels(DEV_LABELS)
    if not validation or not dev:
        pytest.skip("no hand-checked labels")
    _, checked, development = split_off_validation_and_dev(load_sources(), validation, dev)
    examples = checked + development
    assert len(examples) == len(validation) + len(dev)
    raw: list[dict[str, Any]] = [e.listing() for e in examples]
    raw += [e.listing(with_category=False) for e in examples]
    for i, e in enumerate(examples):
        variant = dict(VARIANTS[i % len(VARIANTS)])
        suffix = variant.pop("title_suffix", "")
        raw.append(e.listing() | variant | {"listing_id": f"{e.source}:{e.row_id}"})
        if suffix:  # the title stays within its 500 characters
            raw[-1]["title"] = raw[-1]["title"][:450] + suffix
    return [Listing.model_validate(x) for x in raw]
