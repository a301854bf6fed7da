"""The code blocks of README.md, docs/api.md and docs/operations.md, run against a real server
process (`python -m app`: the default model and policy, gRPC on, no keys), and every answer
shown in them compared with the one it gives (tests/docs_blocks.py: markers and helpers)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.screening.policy import load_policy
from tests.docs_blocks import (
    DOC_HOST,
    REPO,
    SERVICE_PAGES,
    Curl,
    Examples,
    curl_commands,
    matches,
    printed_as_shown,
    python_snippet,
)
from tests.support import free_port, wait_ready

EXAMPLES = Examples(SERVICE_PAGES)
# What differs from run to run in the access log line: compared by type only.
LOG_VOLATILE = frozenset({"ts", "latency_ms"})


@dataclass(frozen=True)
class Server:
    url: str
    grpc_target: str
    log: Path

    def send(self, curl: Curl, **headers: str) -> httpx.Response:
        return httpx.request(
            curl.method,
            self.url + curl.path,
            headers=curl.headers | headers,
            content=curl.body,
            timeout=30,
        )

    def access_line(self, request_id: str) -> dict[str, Any]:
        """The access log line of one request (written once its answer is out)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in self.log.read_text(encoding="utf-8").splitlines():
                found: dict[str, Any] = json.loads(line) if line.startswith("{") else {}
                if found.get("request_id") == request_id:
                    return found
            time.sleep(0.05)
        raise AssertionError(f"no access line for {request_id}")


def _environment(**settings: str) -> dict[str, str]:
    """This process's environment without settings of its own, so the docs' defaults apply."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AKAR_", "PROMETHEUS_"))}
    return keep | settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port, grpc_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("docs-server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(port)],
            cwd=REPO,
            env=_environment(AKAR_GRPC_PORT=str(grpc_port)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        yield Server(f"http://127.0.0.1:{port}", f"127.0.0.1:{grpc_port}", log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_every_block_is_run_or_marked_not_run() -> None:
    assert EXAMPLES.problems() == []


@EXAMPLES.covers("make-run")
def test_make_run_serves_the_default_model_and_make_test_runs_the_checks() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # This venv stands for the one `make` would create: its stamp is taken as made (-o).
    venv = ["-o", f"{sys.prefix}/.installed", f"VENV={sys.prefix}"]
    text = EXAMPLES.block("make-run").text
    assert [line.split("#")[0].strip() for line in text.splitlines()] == ["make run", "make test"]

    port = free_port()
    make = subprocess.Popen(
        ["make", "-s", *venv, "run"],
        cwd=REPO,
        env=_environment(PORT=str(port)),  # as the README's `PORT=9000 make run`
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # make's child, the server, is stopped with it
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", make)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        default = (REPO / "models" / "DEFAULT").read_text(encoding="utf-8").strip()
        assert ready["model_version"] == default
    finally:
        os.killpg(make.pid, signal.SIGKILL)
        make.wait()

    # `make test` is the whole suite, this test included: its recipe is checked, not run.
    dry = subprocess.run(
        ["make", "-n", *venv, "test"], cwd=REPO, capture_output=True, text=True, check=True
    )
    venv_bin = f"{sys.prefix}/bin"
    checks = (
        "ruff check app training tests bench",
        "ruff format --check app training tests bench",
        "mypy app training tests bench",
        "coverage run -m pytest",
        "coverage report",  # fails under the gate ([tool.coverage.report] fail_under)
    )
    for command in checks:
        assert f"{venv_bin}/{command}" in dry.stdout, dry.stdout


@EXAMPLES.covers("readme-screen", "readme-screen-answer", "api-screen", "api-screen-answer")
@pytest.mark.parametrize("call", ["readme-screen", "api-screen"])
def test_the_one_call_gets_the_answer_shown(server: Server, call: str) -> None:
    [curl] = curl_commands(EXAMPLES.block(call).text)
    r = server.send(curl)
    assert r.status_code == 200
    assert matches(json.loads(EXAMPLES.block(f"{call}-answer").text), r.json()), r.text


@EXAMPLES.covers("readme-screen")
@pytest.mark.skipif(
    shutil.which("curl") is None,
    reason="curl is not installed: the calls run through their httpx translation only",
)
def test_curl_itself_answers_as_its_httpx_translation(server: Server) -> None:
    text = EXAMPLES.block("readme-screen").text
    done = subprocess.run(
        ["sh", "-c", text.replace(DOC_HOST, server.url)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    [curl] = curl_commands(text)
    assert json.loads(done.stdout) == server.send(curl).json()


@EXAMPLES.covers("api-calls")
def test_the_batch_and_metadata_calls_answer_as_their_comments_say(server: Server) -> None:
    batch, readyz, model, policy = curl_commands(EXAMPLES.block("api-calls").text)
    assert [c.path for c in (batch, readyz, model, policy)] == [
        "/v1/screen/batch",
        "/readyz",
        "/v1/model",
        "/v1/policy",
    ]
    r = server.send(batch)
    assert r.status_code == 200
    titles = [listing["title"] for listing in json.loads(batch.body or "")["listings"]]
    assert len(r.json()["results"]) == len(titles)

    r = server.send(readyz)  # 200 once model + policy are loaded and self-checked
    assert r.status_code == 200
    default = (REPO / "models" / "DEFAULT").read_text(encoding="utf-8").strip()
    assert r.json()["model_version"] == default

    r = server.send(model)  # version, training data (sha256), sklearn version, metrics
    assert r.status_code == 200
    answer = r.json()
    assert answer["version"] == default and answer["sklearn_version"] and answer["metrics"]
    assert all(len(source["sha256"]) == 64 for source in answer["data_sources"])

    r = server.send(policy)  # the active policy
    assert r.status_code == 200
    assert r.json() == load_policy().model_dump(mode="json")


@EXAMPLES.covers("v2-infer", "v2-infer-answer")
def test_the_open_inference_call_gets_the_answer_shown(server: Server) -> None:
    [curl] = curl_commands(EXAMPLES.block("v2-infer").text)
    r = server.send(curl)
    assert r.status_code == 200
    assert matches(json.loads(EXAMPLES.block("v2-infer-answer").text), r.json()), r.text


def _run_snippet(id: str, address: str, replacement: str) -> None:
    """Runs a Python block in a fresh interpreter, the doc's address replaced by the test
    server's, and compares what it prints with the comments that show it."""
    text = EXAMPLES.block(id).text
    assert address in text
    snippet = python_snippet(text.replace(address, replacement))
    done = subprocess.run(
        [sys.executable, "-c", snippet.code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert len(printed) == len(snippet.shown), printed  # each print runs once
    for shown, line in zip(snippet.shown, printed, strict=True):
        assert shown is None or printed_as_shown(shown, line), (shown, line)


@EXAMPLES.covers("triton-http")
def test_the_tritonclient_http_snippet_prints_what_its_comment_shows(server: Server) -> None:
    _run_snippet("triton-http", "127.0.0.1:8000", server.url.removeprefix("http://"))


@EXAMPLES.covers("triton-grpc")
def test_the_tritonclient_grpc_snippet_prints_what_its_comment_shows(server: Server) -> None:
    _run_snippet("triton-grpc", "127.0.0.1:8001", server.grpc_target)


@EXAMPLES.covers("python-client")
def test_the_python_client_snippet_prints_what_its_comments_show(server: Server) -> None:
    _run_snippet("python-client", "http://127.0.0.1:8000", server.url)


@EXAMPLES.covers("access-log")
def test_the_access_log_line_is_the_one_a_batch_call_writes(server: Server) -> None:
    """The batch call of docs/api.md, sent with the example's request id."""
    batch = curl_commands(EXAMPLES.block("api-calls").text)[0]
    assert server.send(batch, **{"x-request-id": "req-42"}).status_code == 200
    shown = json.loads(EXAMPLES.block("access-log").text)
    real = server.access_line("req-42")
    assert matches(shown, real, LOG_VOLATILE), json.dumps(real)
    datetime.fromisoformat(real["ts"])
