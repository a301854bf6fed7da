"""Schema fuzzing with schemathesis: valid and invalid requests generated from our OpenAPI.

Checks: no 5xx for any input, every response matches the documented schema, and input the
schema forbids is rejected (4xx). The tiny model keeps it fast; the lifespan has run.
(Driven through hypothesis directly: schemathesis' pytest plugin does not run on pytest 9.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from app.config import Settings
from app.main import create_app
from tests.support import fuzz_examples

CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]
# The operations, read from the schema (which needs no model) at collection time.
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, methods in create_app(Settings(require_model=False)).openapi()["paths"].items()
    for method in methods
    if not path.startswith("/v1/admin")  # reload is tested in test_admin.py
)


@pytest.fixture(scope="module")
def api_schema(tiny_model_dir: Path) -> Iterator[schemathesis.BaseSchema]:
    # A body limit far above what the generator builds: a 413 is a correct refusal, but not one
    # the negative-data check lists; the limit itself is tested in tests/routes/test_screen.py.
    app: FastAPI = create_app(Settings(model_dir=tiny_model_dir, max_body_bytes=256 * 2**20))
    with TestClient(app):  # runs the lifespan: model and policy loaded
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


# Negative data only exists where there is input: the POST bodies.
CASES = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in OPERATIONS if op.startswith("POST")
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_api_conforms_to_its_schema(
    api_schema: schemathesis.BaseSchema, operation: str, mode: GenerationMode
) -> None:
    op = api_schema.find_operation_by_label(operation)
    assert op is not None
    strategy = op.as_strategy(generation_mode=mode)

    @given(data=st.data())
    @settings(
        max_examples=fuzz_examples(30),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        case.call_and_validate(checks=CHECKS)

    run()
