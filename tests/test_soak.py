"""The soak benchmark's short version: two workers under steady load answer everything.

Memory growth and latency are the soak benchmark's to measure (`python -m bench.soak`): on
a busy machine they are noise, and a test asserts behaviour only. The memory bounds that are
deterministic (the word cache's) are tested where they live, in tests/screening/test_linear.py.
"""

from __future__ import annotations

from bench.soak import soak
from training import data


def _titles() -> list[str]:
    if data.SHARED_DATA.is_dir():
        return [e.title for e in data.load_sources(limit=1000)]
    return [e.title for e in data.load_authored()]


def test_two_workers_under_steady_load_answer_every_request_validly() -> None:
    result = soak(_titles(), seconds=10, workers=2, concurrency=8)
    assert result.requests > 0
    assert (result.errors, result.invalid) == (0, 0)
    assert len(result.rss_start_mb) == len(result.rss_end_mb) == 2
