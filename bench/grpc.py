"""gRPC beside REST: our server and Seldon MLServer, one Python load generator, in the same run.

    .venv/bin/python -m bench.grpc [--workers 2] [--clients 1 32] [--seconds 10] [--runs 3]
                                   [--protocols rest grpc] [--generators 2]
                                   [--mlserver-workers 2] [--no-mlserver]

`python -m app --workers N` with AKAR_GRPC_PORT set serves the Open Inference Protocol over
HTTP (/v2) and gRPC (`inference.GRPCInferenceService/ModelInfer`). Then, unless --no-mlserver,
MLServer 1.7's sklearn runtime serves the same artifact (`bench/mlserver.py`) on its own HTTP
and gRPC ports (both set in its settings.json; MLServer's default gRPC port is 8081). Every
request is one real title as a V2 BYTES input `title` of shape [1], the same titles in the same
order for every row: REST POSTs the JSON body to /v2/models/<name>/infer, gRPC sends the same
request as a ModelInferRequest (`bytes_contents`). Answers are checked first: our REST and
gRPC answers and MLServer's must equal our model's probabilities within 1e-6.

The load generator is `bench/loadgen.py`, named in the report: at most `--generators`
processes (one per client below that), each on uvloop, each client on its own connection
(gRPC: a grpc.aio channel; REST: an asyncio HTTP/1.1 keep-alive connection), one request in
flight per client, requests encoded beforehand and answers not parsed while measuring. It
shares the machine's cores with the server, so its CPU time is reported per request, beside
the server's (its process tree, from /proc). The rows run in the order of --protocols, on the
same server: the model's word cache warms across them (in-process, an empty cache costs about
14 us per listing, bench.inprocess).

Per server, protocol and clients: req/s, p50, p99 (medians over --runs runs of --seconds),
errors, generator and server CPU per request; then the targets (issue 13): gRPC at 32 clients
on 2 workers at least REST's req/s, gRPC p50 at 1 client at most 0.5 ms, gRPC at least 5x
MLServer's gRPC. Prints the tables and writes them, with the machine, to
bench/results/grpc.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/grpc.py`, the script's folder would come first on sys.path, and this
# file and bench/http.py would hide the `grpc` and `http` packages.
if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from importlib.metadata import version
from typing import Any

import grpc
import numpy as np

from bench import mlserver as mls
from bench.attacks import HOST, free_port, http_request, tree_seconds
from bench.common import (
    REPO,
    RESULTS,
    Server,
    load_average,
    machine,
    markdown_table,
    real_titles,
    save_report,
)
from bench.loadgen import INFER_METHOD, Generators, Load, Measured

OURS = "akar-gate"
WARM_SECONDS = 1.0  # per row, before its runs, not reported
P50_TARGET_MS = 0.5
RATIO_TARGET = 5.0
CHECK_EXTRA = ["Kemeja Batik Pria Lengan Panjang", "kéripik ✓ 1mp0rt"]
COLUMNS = [
    "server",
    "protocol",
    "workers",
    "clients",
    "req/s",
    "p50 ms",
    "p99 ms",
    "errors / requests",
    "generator CPU µs/req (cores)",
    "server CPU µs/req",
]
# (protocol, workers, clients): (median req/s, median p50 ms)
Results = dict[tuple[str, int, int], tuple[float, float]]


# -- the servers, what is sent to them, and the check of their answers ----------------------


class GrpcServer(Server):
    """bench.common.Server with gRPC served beside HTTP (AKAR_GRPC_PORT)."""

    def __init__(self, workers: int, port: int, grpc_port: int, log: Path) -> None:
        self.grpc_port = grpc_port
        env = os.environ | {"AKAR_LOG_LEVEL": "warning", "AKAR_GRPC_PORT": str(grpc_port)}
        super().__init__(workers, port, log, env)


def infer_message(model: str, title: str) -> Any:
    """ModelInferRequest of one title. To MLServer the input says `content_type: str`: its
    default codec (NumpyCodec) reads a gRPC BYTES element as a buffer of shape[-1] bytes,
    its StringCodec as one UTF-8 string (what its own `StringCodec.encode_input` sends)."""
    from app.grpc_api.proto import open_inference_pb2 as pb

    request = pb.ModelInferRequest(model_name=model)
    tensor = request.inputs.add(name=mls.INPUT_NAME, datatype="BYTES", shape=[1])
    tensor.contents.bytes_contents.append(title.encode("utf-8"))
    if model == mls.MODEL_NAME:
        tensor.parameters["content_type"].string_param = "str"
    return request


def requests_for(protocol: str, model: str, titles: Sequence[str]) -> list[bytes]:
    """Each title's request, encoded: gRPC the message, REST the whole HTTP/1.1 request."""
    if protocol == "grpc":
        return [infer_message(model, t).SerializeToString() for t in titles]
    path = f"/v2/models/{model}/infer"
    return [http_request("POST", path, mls.v2_body(t).encode("utf-8")) for t in titles]


def grpc_answer(port: int, model: str, title: str) -> dict[str, np.ndarray]:
    """The FP64 outputs of one ModelInfer call, by name."""
    from app.grpc_api.proto import open_inference_pb2 as pb

    with grpc.insecure_channel(f"{HOST}:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        call = channel.unary_unary(
            INFER_METHOD,
            request_serializer=pb.ModelInferRequest.SerializeToString,
            response_deserializer=pb.ModelInferResponse.FromString,
        )
        answer = call(infer_message(model, title), timeout=30)
    out = {}
    for k, tensor in enumerate(answer.outputs):
        if answer.raw_output_contents and tensor.datatype == "FP64":
            out[tensor.name] = np.frombuffer(answer.raw_output_contents[k], dtype="<f8")
        elif tensor.datatype == "FP64":
            out[tensor.name] = np.asarray(tensor.contents.fp64_contents, dtype=float)
    return out


def rest_answer(port: int, model: str, title: str) -> dict[str, np.ndarray]:
    request = urllib.request.Request(
        f"http://{HOST}:{port}/v2/models/{model}/infer",
        data=mls.v2_body(title).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        outputs = json.loads(r.read())["outputs"]
    return {
        o["name"]: np.asarray(o["data"], dtype=float) for o in outputs if o["datatype"] == "FP64"
    }


def check(
    answer: Callable[[str], np.ndarray],
    expected: Callable[[Any], np.ndarray],
    model: Any,
    titles: Sequence[str],
) -> float:
    """Each title's answer against our model's; the largest difference, or RuntimeError when
    one is over 1e-6 (a server that does not compute the same thing is not measured)."""
    worst = 0.0
    for title in titles:
        got, want = answer(title).ravel(), expected(model.predict([{"title": title}]))
        diff = float(np.max(np.abs(got - want))) if got.shape == want.shape else np.inf
        if not diff <= mls.TOLERANCE:
            raise RuntimeError(f"answer for {title!r}: {got.tolist()}, our model: {want.tolist()}")
        worst = max(worst, diff)
    return worst


def our_import_probability(port: int, title: str, *, grpc_api: bool) -> np.ndarray:
    """Our server's `import_probability` output, over gRPC or REST."""
    from app.protocols.inference import MODEL_NAME

    answer = grpc_answer if grpc_api else rest_answer
    return answer(port, MODEL_NAME, title)["import_probability"]


def mlserver_proba(port: int, title: str) -> np.ndarray:
    """MLServer's one output over gRPC: the cluster probabilities, then P(import)."""
    (output,) = grpc_answer(port, mls.MODEL_NAME, title).values()
    return output


def ours_expected(predicted: Any) -> np.ndarray:
    return np.asarray(predicted.import_proba[:1], dtype=float)


def mlserver_expected(predicted: Any) -> np.ndarray:
    return np.concatenate([predicted.cluster_proba[0], predicted.import_proba[:1]])


# -- measuring and reporting ----------------------------------------------------------------


def measure(
    label: str, workers: int, load: Load, server_pid: int, args: argparse.Namespace
) -> tuple[list[list[str]], dict[int, float], dict[int, float]]:
    """Rows for one server, worker count and protocol; median req/s and p50 by clients."""
    rows: list[list[str]] = []
    rps_by: dict[int, float] = {}
    p50_by: dict[int, float] = {}
    for clients in args.clients:
        generators = Generators(load, clients, args.generators)
        try:
            generators.run(WARM_SECONDS)
            runs, server_cpu = [], 0.0
            for _ in range(args.runs):
                before = tree_seconds(server_pid)
                runs.append(Measured.of(generators.run(args.seconds)))
                server_cpu += tree_seconds(server_pid) - before
        finally:
            generators.close()
        rps_by[clients] = statistics.median(m.rps for m in runs)
        p50_by[clients] = statistics.median(m.p50_ms for m in runs)
        p99 = statistics.median(m.p99_ms for m in runs)
        requests = sum(m.requests for m in runs)
        errors = sum((m.errors for m in runs), Counter[str]())
        cpu, elapsed = sum(m.cpu for m in runs), sum(m.elapsed for m in runs)
        kinds = ", ".join(f"{k} {n}" for k, n in errors.most_common())
        rows.append(
            [
                label,
                "gRPC" if load.protocol == "grpc" else "REST",
                str(workers),
                str(clients),
                f"{rps_by[clients]:,.0f}",
                f"{p50_by[clients]:.2f}",
                f"{p99:.2f}",
                f"{errors.total()} / {requests:,}" + (f" ({kinds})" if kinds else ""),
                f"{cpu / max(requests, 1) * 1e6:.0f} ({cpu / elapsed:.2f})",
                f"{server_cpu / max(requests, 1) * 1e6:.0f}",
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr)
    return rows, rps_by, p50_by


def measure_all(
    label: str,
    workers: int,
    ports: dict[str, int],
    model: str,
    titles: Sequence[str],
    pid: int,
    args: argparse.Namespace,
) -> tuple[list[list[str]], Results]:
    """Every protocol of --protocols, in that order (the word cache warms across rows)."""
    rows: list[list[str]] = []
    results: Results = {}
    for protocol in args.protocols:
        load = Load(protocol, ports[protocol], requests_for(protocol, model, titles))
        new_rows, rps, p50 = measure(label, workers, load, pid, args)
        rows += new_rows
        results |= {(protocol, workers, c): (rps[c], p50[c]) for c in rps}
    return rows, results


def run_ours(
    args: argparse.Namespace, titles: list[str], model: Any, tmp: Path
) -> tuple[list[list[str]], Results]:
    """Our server's rows and figures, per worker count."""
    from app.protocols.inference import MODEL_NAME

    rows: list[list[str]] = []
    results: Results = {}
    for workers in args.workers:
        port, grpc_port = free_port(), free_port()
        server = GrpcServer(workers, port, grpc_port, tmp / f"server-{workers}.log")
        try:
            server.wait_ready()
            time.sleep(0.5 * workers)  # let the other workers finish loading
            rest = partial(our_import_probability, port, grpc_api=False)
            over_grpc = partial(our_import_probability, grpc_port, grpc_api=True)
            worst = max(
                check(rest, ours_expected, model, titles[:20] + CHECK_EXTRA),
                check(over_grpc, ours_expected, model, titles[:20] + CHECK_EXTRA),
            )
            print(
                f"{OURS} ({workers} workers) answers as our model over REST and gRPC "
                f"(largest difference {worst:.2g})",
                file=sys.stderr,
            )
            ports = {"rest": port, "grpc": grpc_port}
            pid = server.proc.pid
            new_rows, new = measure_all(OURS, workers, ports, MODEL_NAME, titles, pid, args)
            rows += new_rows
            results |= new
        finally:
            server.stop()
    return rows, results


def run_mlserver(
    args: argparse.Namespace,
    titles: list[str],
    label: str,
    model: Any,
    estimator: Any,
    tmp: Path,
) -> tuple[list[list[str]], Results, str | None]:
    """MLServer's rows and figures, and why it was not measured (None: it was)."""
    rows: list[list[str]] = []
    results: Results = {}
    for workers in args.mlserver_workers:
        folder = tmp / f"mlserver-{workers}"
        server = mls.MLServer(folder, estimator, workers=workers, log=tmp / f"{folder.name}.log")
        # bench.mlserver sets grpc_port (a free port, not MLServer's default 8081) in
        # settings.json; MLServer serves ModelInfer there.
        settings = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
        ports = {"rest": server.port, "grpc": int(settings["grpc_port"])}
        try:
            server.wait_ready()
            answers = partial(mlserver_proba, ports["grpc"])
            worst = max(
                server.check(model, titles[:20] + CHECK_EXTRA),
                check(answers, mlserver_expected, model, titles[:20] + CHECK_EXTRA),
            )
            print(
                f"MLServer (parallel_workers {workers}) answers as our model over REST and gRPC "
                f"(largest difference {worst:.2g})",
                file=sys.stderr,
            )
            pid = server.proc.pid
            new_rows, new = measure_all(label, workers, ports, mls.MODEL_NAME, titles, pid, args)
            rows += new_rows
            results |= new
        except (mls.MLServerError, RuntimeError, grpc.RpcError, grpc.FutureTimeoutError) as exc:
            error = f"parallel_workers {workers}: {exc!r}\nits log ends:\n{server.log_tail()}"
            return rows, results, error
        finally:
            server.stop()
    return rows, results, None


def targets(ours: Results, theirs: Results) -> list[str]:
    """Issue 13's targets, met or missed, as Markdown bullets."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = []
    grpc32, rest32 = ours.get(("grpc", 2, 32)), ours.get(("rest", 2, 32))
    if grpc32 is not None and rest32 is not None:
        lines.append(
            f"- gRPC at 32 clients, 2 workers: {grpc32[0]:,.0f} req/s against REST's "
            f"{rest32[0]:,.0f} ({grpc32[0] / rest32[0]:.2f}x); target ≥ REST: "
            f"{verdict(grpc32[0] >= rest32[0])}."
        )
    grpc1 = ours.get(("grpc", 2, 1))
    if grpc1 is not None:
        lines.append(
            f"- gRPC p50 at 1 client, 2 workers: {grpc1[1]:.2f} ms; target ≤ "
            f"{P50_TARGET_MS} ms: {verdict(grpc1[1] <= P50_TARGET_MS)}."
        )
    best = max(
        ((v[0], w) for (p, w, c), v in theirs.items() if (p, c) == ("grpc", 32)), default=None
    )
    if grpc32 is not None and best is not None:
        ratio = grpc32[0] / best[0]
        lines.append(
            f"- gRPC at 32 clients, 2 workers: **{ratio:.2f}x** MLServer's best gRPC at 32 "
            f"clients ({best[0]:,.0f} req/s, parallel_workers {best[1]}); target ≥ "
            f"{RATIO_TARGET:g}x: {verdict(ratio >= RATIO_TARGET)}."
        )
    return lines or [
        "- No target computed: they need gRPC and REST at 2 workers, 1 and 32 clients."
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--seconds", type=float, default=10, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--protocols", nargs="+", choices=["rest", "grpc"], default=["rest", "grpc"]
    )
    parser.add_argument("--generators", type=int, default=2, help="generator processes at most")
    parser.add_argument(
        "--mlserver-workers",
        type=int,
        nargs="+",
        default=[2],
        help="MLServer parallel_workers values (its best in bench.http: 2)",
    )
    parser.add_argument("--no-mlserver", action="store_true", help="only our server")
    parser.add_argument("--out", type=Path, default=RESULTS / "grpc.md")
    return parser


def main() -> None:
    args = build_parser().parse_args()

    from app.screening.store import load_model, resolve_model_dir

    titles = real_titles()
    model_dir = resolve_model_dir(None, REPO / "models")
    model = load_model(model_dir).model  # what our server predicts with
    tmp = Path(tempfile.mkdtemp(prefix="akar-bench-grpc-"))

    # MLServer is set up first, so that a failed install shows before the long runs.
    mlserver_error: str | None = None
    if not args.no_mlserver:
        from bench.mlserver_model import ScreeningEstimator

        try:
            mls.ensure_venv()
            versions = (mls.installed_version(), mls.installed_version(package="mlserver-sklearn"))
            estimator = ScreeningEstimator.from_model_dir(model_dir)
        except mls.MLServerError as exc:
            mlserver_error = str(exc)

    load_before = load_average()
    rows, ours = run_ours(args, titles, model, tmp)
    theirs: Results = {}
    label = "MLServer"
    extra: dict[str, str] = {}
    if not args.no_mlserver and mlserver_error is None:
        label = f"MLServer {versions[0]} sklearn"
        extra["MLServer"] = f"mlserver {versions[0]}, mlserver-sklearn {versions[1]}"
        new_rows, theirs, mlserver_error = run_mlserver(args, titles, label, model, estimator, tmp)
        rows += new_rows
    extra["load generator"] = generator_description(args.generators)
    extra["load average (1, 5, 15 min) before / after"] = f"{load_before} / {load_average()}"

    table = markdown_table(COLUMNS, rows)
    summary = ["Targets (issue 13):", "", *targets(ours, theirs)]
    if args.no_mlserver:
        summary += ["", "MLServer not run (--no-mlserver)."]
    elif mlserver_error is not None:
        summary += ["", f"MLServer not measured: {mlserver_error}"]
    command = "python -m bench.grpc " + " ".join(sys.argv[1:])
    text = [
        "# gRPC beside REST",
        "",
        f"Command: `{command.strip()}` ({args.runs} runs of {args.seconds:g} s per row, "
        "medians; errors summed; every request one different real title, the same titles in "
        "the same order for every row). REST and gRPC are both measured with the same Python "
        "load generator (`bench/loadgen.py`, below), not with wrk: these REST figures are not "
        "bench/http.py's.",
        "",
        f"- {OURS}: `python -m app --workers N` with AKAR_GRPC_PORT; REST POST "
        "/v2/models/akar-gate/infer, gRPC ModelInfer; one title as a V2 BYTES input `title` "
        "of shape [1]; answers the full decision (model and policy).",
        f"- {label}: `mlserver start` with `parallel_workers` N, its sklearn runtime serving "
        "our artifact's two Pipelines (`bench/mlserver_model.py`); REST POST "
        "/v2/models/akar/infer (the body bench/http.py sends), gRPC ModelInfer on its own "
        "gRPC port (the input with `content_type: str`); answers the cluster probabilities "
        "and P(import), no policy.",
        "- Before measuring, each server's REST and gRPC answers equal our model's within 1e-6.",
        "- generator CPU: the load generator's processes (user + system, all threads), per "
        "request and in cores over the runs; server CPU: the server's process tree, per "
        "request. Both share the machine's cores.",
        "",
        *table,
        "",
        *summary,
        "",
        *machine(extra),
        "",
    ]
    print("\n".join(table + [""] + summary))
    shutil.rmtree(tmp)
    save_report(args.out, text)
    if mlserver_error is not None:
        sys.exit(f"error: MLServer: {mlserver_error}")


def generator_description(processes: int) -> str:
    return (
        f"`bench/loadgen.py`, Python {sys.version.split()[0]} on uvloop {version('uvloop')}: "
        f"grpcio {grpc.__version__} `grpc.aio` for gRPC (one channel and connection per "
        "client, bytes in and out, answers not parsed), asyncio streams for REST (one HTTP/1.1 "
        f"keep-alive connection per client); min(clients, {processes}) processes, one request "
        "in flight per client"
    )


if __name__ == "__main__":
    main()
