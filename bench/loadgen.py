"""The load generator of bench/grpc.py: Python clients of the Open Inference Protocol, in
their own processes, that report what they cost.

Each process runs on uvloop and drives its share of the clients, each client on its own
connection with one request in flight: gRPC clients call ModelInfer through a grpc.aio channel
with a local subchannel pool (so one TCP connection each, as wrk's connections, and the kernel
spreads them over the server's workers); REST clients send HTTP/1.1 requests on one keep-alive
asyncio connection (`bench.attacks.Connection`). Requests are encoded beforehand and answers
are not parsed while measuring (grpc.aio with no serializers: bytes in, bytes out), as wrk
sends a prepared body. A request that fails counts as an error by its gRPC status name, its
HTTP status or its exception, and not in the latencies. Each process reports its own CPU time
over a run (getrusage, user + system, every thread: grpc's C-core threads too).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

import grpc
import numpy as np

from bench.attacks import HOST, Connection, run_async

INFER_METHOD = "/inference.GRPCInferenceService/ModelInfer"
TIMEOUT = 5.0  # seconds per request, as bench.http gives wrk


@dataclass(frozen=True)
class Load:
    """What one generator process sends: pre-encoded requests, and where each client starts."""

    protocol: str  # "grpc" or "rest"
    port: int
    requests: list[bytes]  # gRPC: ModelInferRequest bytes; REST: the whole HTTP request
    starts: tuple[int, ...] = ()  # where each client starts in `requests`


@dataclass(frozen=True)
class RunResult:
    latencies_ns: bytes  # array("q") of the answered requests
    errors: dict[str, int]  # gRPC status name, HTTP status or exception name: count
    elapsed: float
    cpu: float  # seconds, user + system, all threads of the process


class GrpcClient:
    def __init__(self, port: int) -> None:
        # A local subchannel pool: one TCP connection per client, as wrk's connections, so the
        # kernel spreads them over the workers (SO_REUSEPORT).
        options = [("grpc.use_local_subchannel_pool", 1)]
        self.channel = grpc.aio.insecure_channel(f"{HOST}:{port}", options=options)
        self.call = self.channel.unary_unary(INFER_METHOD)  # bytes in, bytes out

    async def connect(self) -> None:
        await asyncio.wait_for(self.channel.channel_ready(), 10)

    async def send(self, request: bytes) -> str | None:
        try:
            await self.call(request, timeout=TIMEOUT)
        except grpc.aio.AioRpcError as exc:
            return str(exc.code().name)
        return None

    async def close(self) -> None:
        await self.channel.close()


class RestClient:
    def __init__(self, port: int) -> None:
        self.connection = Connection(port)

    async def connect(self) -> None:
        reader, writer = await asyncio.open_connection(HOST, self.connection.port)
        self.connection.reader, self.connection.writer = reader, writer

    async def send(self, request: bytes) -> str | None:
        try:
            answer = await self.connection.exchange(request, TIMEOUT)
        except (OSError, EOFError, TimeoutError, asyncio.LimitOverrunError) as exc:
            return type(exc).__name__
        return None if answer.status == 200 else str(answer.status)

    async def close(self) -> None:
        self.connection.close()


async def drive(
    client: GrpcClient | RestClient,
    requests: list[bytes],
    at: int,
    deadline: float,
    latencies: array[int],
    errors: Counter[str],
) -> int:
    """One request in flight until the deadline; returns where to go on from."""
    while time.perf_counter() < deadline:
        started = time.perf_counter_ns()
        error = await client.send(requests[at])
        if error is None:
            latencies.append(time.perf_counter_ns() - started)
        else:
            errors[error] += 1
        at = at + 1 if at + 1 < len(requests) else 0
    return at


async def generate(load: Load, pipe: Pipe) -> None:
    kind = GrpcClient if load.protocol == "grpc" else RestClient
    clients = [kind(load.port) for _ in load.starts]
    await asyncio.gather(*(c.connect() for c in clients))
    at = list(load.starts)
    pipe.send("ready")
    while (seconds := pipe.recv()) is not None:
        latencies: array[int] = array("q")
        errors: Counter[str] = Counter()
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        at = await asyncio.gather(
            *(
                drive(c, load.requests, a, started + seconds, latencies, errors)
                for c, a in zip(clients, at, strict=True)
            )
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        pipe.send(RunResult(latencies.tobytes(), dict(errors), elapsed, cpu))
    for c in clients:
        await c.close()


def generator_main(load: Load, pipe: Pipe) -> None:
    run_async(generate(load, pipe))


class Generators:
    """`clients` clients over at most `processes` generator processes, connected and waiting."""

    def __init__(self, load: Load, clients: int, processes: int) -> None:
        n = min(clients, processes)
        # Client k starts at its own offset in the titles, as each wrk thread in rotate.lua.
        starts = [k * len(load.requests) // clients for k in range(clients)]
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Pipe] = []
        self.procs: list[Any] = []
        for p in range(n):
            mine, theirs = context.Pipe()
            part = Load(load.protocol, load.port, load.requests, tuple(starts[p::n]))
            proc = context.Process(target=generator_main, args=(part, theirs), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)
        for pipe in self.pipes:
            try:
                ready = pipe.poll(60) and pipe.recv() == "ready"
            except EOFError:
                ready = False
            if not ready:
                self.close()
                raise RuntimeError("a load generator did not connect in 60 s (see above)")

    def run(self, seconds: float) -> list[RunResult]:
        for pipe in self.pipes:
            pipe.send(seconds)
        try:
            return [pipe.recv() for pipe in self.pipes]
        except EOFError as exc:
            raise RuntimeError("a load generator died (its traceback is above)") from exc

    def close(self) -> None:
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            with contextlib.suppress(OSError):
                pipe.send(None)
            proc.join(10)
            if proc.is_alive():
                proc.terminate()


@dataclass
class Measured:
    """One run over all generator processes."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: Counter[str]
    cpu: float  # the generators' seconds
    elapsed: float

    @classmethod
    def of(cls, run: list[RunResult]) -> Measured:
        latencies = np.concatenate([np.frombuffer(r.latencies_ns, dtype="<i8") for r in run])
        errors: Counter[str] = Counter()
        rps = 0.0
        for r in run:
            errors.update(r.errors)
            rps += (len(r.latencies_ns) // 8 + sum(r.errors.values())) / r.elapsed
        p50, p99 = np.percentile(latencies, [50, 99]) / 1e6 if len(latencies) else (np.nan,) * 2
        return cls(
            rps=rps,
            p50_ms=float(p50),
            p99_ms=float(p99),
            requests=len(latencies) + sum(errors.values()),
            errors=errors,
            cpu=sum(r.cpu for r in run),
            elapsed=max(r.elapsed for r in run),
        )
