"""What serves now (app/state.py); reloads are tested through their endpoint in
tests/routes/test_admin.py and across workers in tests/test_worker_group.py."""

from __future__ import annotations

import gc
from typing import Any


def _watched_by_the_collector(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_a_loaded_model_is_out_of_the_garbage_collectors_sight(make_client: Any) -> None:
    client = make_client()
    screener = client.app.state.service.screener
    # Frozen: a full collection does not walk the model's objects on the request path.
    assert not _watched_by_the_collector(screener.loaded.model)
