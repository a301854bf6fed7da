"""Seldon MLServer's sklearn runtime serving our artifact, for the HTTP benchmark's comparison.

    .venv/bin/python -m bench.mlserver [--workers 1]    # set up, start, check answers, stop

MLServer runs in its own virtual environment, `.bench-venvs/mlserver` (created on first use,
about 30 s from PyPI, and reused while its pinned requirements are unchanged): `mlserver` and
`mlserver-sklearn` 1.7, `uvloop==0.21.0`, and the exact scikit-learn, numpy, scipy and joblib
versions of our pyproject.toml, so our artifact unpickles as it was trained.

It serves `bench.mlserver_model.ScreeningEstimator`: the two fitted Pipelines of the default
model (`model.joblib`, loaded by our model store, `app.screening.store.load_pipelines`, which
checks its sha256 and scikit-learn version), dumped with joblib into a temporary model folder
with `model-settings.json` (`mlserver_sklearn.SKLearnModel`,
`extra.predict_fn = "predict_proba"`) and `settings.json` (ports, `parallel_workers`,
`debug: false` so there is no access-log line per request, as our server runs with
AKAR_LOG_LEVEL=warning). The repository root is on MLServer's PYTHONPATH so the wrapper and
`app.screening.text.ListingText` unpickle. Before any benchmark, real answers must equal our
own model's probabilities (`load_model(...).model.predict`, what our server serves) within
1e-6.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np

if __package__ in (None, ""):  # run as `python bench/mlserver.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, NotReady, wait_for_ok
from bench.mlserver_model import ScreeningEstimator

VENV = REPO / ".bench-venvs" / "mlserver"
REQUIREMENTS_FILE = "bench-requirements.txt"  # in the venv: what it was built from
MODEL_NAME = "akar"
INPUT_NAME = "title"
TOLERANCE = 1e-6
# MLServer's own pins; the rest come from our pyproject.toml.
MLSERVER_REQUIREMENTS = ["mlserver==1.7.*", "mlserver-sklearn==1.7.*", "uvloop==0.21.0"]
OUR_PINS = ("scikit-learn", "numpy", "scipy", "joblib")


class MLServerError(RuntimeError):
    """MLServer could not be installed, started, or did not answer as our model does."""


def requirements() -> list[str]:
    """MLServer's requirements plus our exact pins of the libraries the artifact needs."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    pins = {d.split("==")[0].strip().lower(): d.strip() for d in deps if "==" in d}
    missing = [name for name in OUR_PINS if name not in pins]
    if missing:
        raise MLServerError(f"pyproject.toml pins no exact version of {', '.join(missing)}")
    return MLSERVER_REQUIREMENTS + [pins[name] for name in OUR_PINS]


def ensure_venv(venv: Path = VENV) -> Path:
    """The venv's `mlserver` command; the venv is (re)built when missing or its pins changed."""
    wanted = "\n".join(requirements()) + "\n"
    stamp = venv / REQUIREMENTS_FILE
    mlserver = venv / "bin" / "mlserver"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted and mlserver.is_file():
        return mlserver
    if venv.exists():
        shutil.rmtree(venv)
    print(f"creating {venv} (MLServer, once; about 30 s)", file=sys.stderr)
    # From our venv's python: `venv` builds on the base interpreter (Python 3.11).
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    for cmd in ([*pip, "--upgrade", "pip"], [*pip, *requirements()]):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise MLServerError(
                f"`{' '.join(cmd)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
    stamp.write_text(wanted, encoding="utf-8")
    return mlserver


def installed_version(venv: Path = VENV, package: str = "mlserver") -> str:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            f"import importlib.metadata as m; print(m.version({package!r}))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_model_folder(
    folder: Path, estimator: ScreeningEstimator, *, http_port: int, workers: int
) -> None:
    """MLServer's folder: settings.json (server), and the model's own folder with
    model-settings.json and model.joblib."""
    model_dir = folder / MODEL_NAME
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, model_dir / "model.joblib")
    settings = {
        "debug": False,
        "host": "127.0.0.1",
        "http_port": http_port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "parallel_workers": workers,
        "metrics_dir": str(folder / ".metrics"),
        "environments_dir": str(folder / ".envs"),
    }
    model_settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "inputs": [{"name": INPUT_NAME, "datatype": "BYTES", "shape": [-1]}],
        "parameters": {
            "uri": "./model.joblib",
            "version": "v1",
            "extra": {"predict_fn": "predict_proba"},
        },
    }
    (folder / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    (model_dir / "model-settings.json").write_text(
        json.dumps(model_settings, indent=2), encoding="utf-8"
    )


def v2_body(title: str) -> str:
    """The V2 inference request for one title, as one line of JSON."""
    request = {"inputs": [{"name": INPUT_NAME, "shape": [1], "datatype": "BYTES", "data": [title]}]}
    return json.dumps(request, ensure_ascii=False)


def infer_path() -> str:
    return f"/v2/models/{MODEL_NAME}/infer"


def _tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(c) for c in task.read_text().split()]
        except OSError:
            continue
        for child in children:
            out += _tree(child)
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MLServer:
    """`mlserver start <folder>` in its own session, stopped through its process group."""

    def __init__(
        self, folder: Path, estimator: ScreeningEstimator, *, workers: int, log: Path
    ) -> None:
        self.port = free_port()
        self.workers = workers
        write_model_folder(folder, estimator, http_port=self.port, workers=workers)
        mlserver = ensure_venv()
        env = os.environ | {"PYTHONPATH": str(REPO)}
        env.pop("VIRTUAL_ENV", None)
        self._log_path = log
        self._log = log.open("w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(mlserver), "start", str(folder)],
            cwd=folder,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self._log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from start until the model's ready endpoint answers 200."""
        url = f"{self.url}/v2/models/{MODEL_NAME}/ready"
        try:
            return wait_for_ok(url, self.proc, self.started, timeout)
        except NotReady as exc:
            raise MLServerError(f"MLServer {exc}; its log ends:\n{self.log_tail()}") from exc

    def infer(self, title: str) -> np.ndarray:
        """predict_proba of one title, through HTTP: (clusters + 1,)."""
        request = urllib.request.Request(
            self.url + infer_path(),
            data=v2_body(title).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                answer: dict[str, Any] = json.loads(r.read())
        except urllib.error.HTTPError as exc:
            raise MLServerError(
                f"MLServer answered {exc.code} to {infer_path()}: "
                f"{exc.read().decode('utf-8', 'replace')}\nits log ends:\n{self.log_tail()}"
            ) from exc
        (output,) = answer["outputs"]
        proba: np.ndarray = np.asarray(output["data"], dtype=float).reshape(output["shape"])
        first: np.ndarray = proba[0]
        return first

    def check(self, model: Any, titles: Sequence[str]) -> float:
        """Each title's MLServer answer must equal our ScreeningModel's probabilities (cluster,
        then P(import)) within 1e-6; returns the largest difference."""
        worst = 0.0
        for title in titles:
            got = self.infer(title)
            ours = model.predict([{"title": title}])
            expected = np.concatenate([ours.cluster_proba[0], ours.import_proba[:1]])
            diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else np.inf
            if not diff <= TOLERANCE:
                raise MLServerError(
                    f"MLServer's answer for {title!r} is {got.tolist()}, our model's is "
                    f"{expected.tolist()} (largest difference {diff:.3g} > {TOLERANCE:g}): "
                    "not benchmarking a server that does not compute the same thing"
                )
            worst = max(worst, diff)
        return worst

    def rss_mb(self) -> tuple[float, list[float]]:
        """RSS of the main (HTTP) process and of each inference worker, largest first.

        The workers are the largest descendants (they hold the model); the rest are helpers
        (multiprocessing's resource tracker)."""
        children = sorted((_rss_mb(p) for p in _tree(self.proc.pid)[1:]), reverse=True)
        return _rss_mb(self.proc.pid), children[: self.workers]

    def stop(self) -> None:
        """SIGTERM to the main process (it stops its workers), then SIGKILL to whatever is
        left of its process group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="MLServer parallel_workers")
    return parser


def main() -> None:
    import tempfile

    from app.screening.store import load_model, resolve_model_dir

    args = build_parser().parse_args()
    ensure_venv()
    sklearn_runtime = installed_version(package="mlserver-sklearn")
    print(f"MLServer {installed_version()}, mlserver-sklearn {sklearn_runtime}")
    model_dir = resolve_model_dir(None, REPO / "models")
    estimator = ScreeningEstimator.from_model_dir(model_dir)
    loaded = load_model(model_dir)  # what our server predicts with
    tmp = Path(tempfile.mkdtemp(prefix="akar-mlserver-"))
    server = MLServer(tmp / "mlserver", estimator, workers=args.workers, log=tmp / "mlserver.log")
    try:
        ready = server.wait_ready()
        titles = ["Kemeja Batik Pria Lengan Panjang", "Coklat Import Turki 200gr", "kéripik ✓"]
        worst = server.check(loaded.model, titles)
        main_rss, workers_rss = server.rss_mb()
        print(
            f"ready in {ready:.2f} s on {server.url}; answers equal ours (largest difference "
            f"{worst:.2g}); RSS main {main_rss:.0f} MB, workers "
            + " / ".join(f"{r:.0f} MB" for r in workers_rss)
        )
    except MLServerError as exc:
        sys.exit(f"error: {exc}")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
