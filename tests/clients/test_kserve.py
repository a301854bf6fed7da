"""The KServe SDK's InferenceRESTClient and InferenceGRPCClient against the real process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.grpc_api.conftest import GrpcServer, start_server, stop_server

SCRIPT = Path(__file__).resolve().parent / "kserve_client.py"
TITLES = ["Kemeja Batik Pria Lengan Panjang", "Coklat Import Turki 200gr", "Panci Presto 24cm"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServer]:
    server = start_server(tmp_path_factory.mktemp("kserve"))
    yield server
    stop_server(server)


def v1_columns(server: GrpcServer) -> dict[str, list[Any]]:
    listings = [{"title": t} for t in TITLES]
    rows = httpx.post(f"{server.url}/v1/screen/batch", json={"listings": listings}).json()
    return {
        "decision": [r["decision"] for r in rows["results"]],
        "cluster": [r["cluster"]["label"] for r in rows["results"]],
        "origin": [r["origin"]["label"] for r in rows["results"]],
        "cluster_confidence": [r["cluster"]["confidence"] for r in rows["results"]],
        "import_probability": [r["origin"]["import_probability"] for r in rows["results"]],
    }


@pytest.mark.parametrize("mode", ["rest", "grpc"])
def test_kserve_sdk_clients_answer_as_v1(server: GrpcServer, mode: str) -> None:
    target = server.url if mode == "rest" else server.target
    done = subprocess.run(
        [sys.executable, str(SCRIPT), mode, target, *TITLES],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["id"] == "k-1"
    assert answer["columns"] == v1_columns(server)
    assert answer["columns"]["decision"] == ["allow", "block", "allow"]
