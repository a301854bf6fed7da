"""Real `python -m app` processes with gRPC on, for tritonclient.grpc and raw channels.

The tests speak to the server through tritonclient's own generated messages (the protocol's
wire format): importing the app's would clash with them in protobuf's descriptor pool.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port, stop, wait_ready

REPO = Path(__file__).resolve().parents[2]
API_KEY = "grpc-s3cret"


@dataclass
class GrpcServer:
    http_port: int
    grpc_port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log_lines(self) -> list[dict[str, object]]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def start_server(tmp: Path, *, ready: bool = True, workers: int = 1, **settings: str) -> GrpcServer:
    http_port, grpc_port = free_port(), free_port()
    env = os.environ | {f"AKAR_{k.upper()}": v for k, v in settings.items()}
    env["AKAR_GRPC_PORT"] = str(grpc_port)
    log = tmp / f"server-{http_port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(http_port), "--workers", str(workers)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = GrpcServer(http_port, grpc_port, proc, log)
    if ready:
        try:
            wait_ready(server.url, proc)
        except BaseException:
            stop_server(server)
            raise
    return server


def stop_server(server: GrpcServer) -> None:
    stop(server.proc)


@pytest.fixture(scope="module")
def grpc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServer]:
    """The default model, no API keys."""
    server = start_server(tmp_path_factory.mktemp("grpc"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrpcServer]:
    """The default model behind an API key."""
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    server = start_server(tmp_path_factory.mktemp("grpc"), api_key_sha256=json.dumps([digest]))
    yield server
    stop_server(server)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., GrpcServer]]:
    servers: list[GrpcServer] = []

    def make(**kwargs: Any) -> GrpcServer:
        server = start_server(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        stop_server(server)
