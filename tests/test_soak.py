"""The soak benchmark's 20-second version: two workers under steady load (bench/soak.py)."""

from __future__ import annotations

import csv

from bench.soak import soak
from training import data


def _titles() -> list[str]:
    if (data.SHARED_DATA / data.UMKM).is_file():
        return [e.title for e in data.load_source(data.UMKM)][:5000]
    with data.AUTHORED.open(encoding="utf-8", newline="") as f:
        return [r["title"] for r in csv.DictReader(f)]


def test_two_workers_under_steady_load_answer_everything_and_do_not_grow() -> None:
    result = soak(_titles(), seconds=20, workers=2, concurrency=8)
    assert result.requests > 0
    assert (result.errors, result.invalid) == (0, 0)
    assert len(result.rss_start_mb) == len(result.rss_end_mb) == 2
    # Caches fill during the warm-up; after it, memory stays flat (5% allows for noise).
    assert result.rss_growth_mb < 0.05 * min(result.rss_start_mb)
