"""Attack suite: hostile traffic against `python -m app --workers N`, and what it costs.

    .venv/bin/python -m bench.attacks [--workers 1 2] [--seconds 12] [--after 30]
                                      [--attacks depth headers ...]

A benchmark, not a test (pytest never collects it). For each worker count and each attack it
starts a fresh server on a free loopback port (`python -m app --workers N`, with
PROMETHEUS_MULTIPROC_DIR in a temporary folder when N > 1), waits for /readyz, warms it with
real titles, reads every worker's RSS, then runs the attack for --seconds and watches for
--after seconds more. Meanwhile a separate, well-behaved process polls GET /healthz every
50 ms (a new connection per probe, as a kubelet does; 2 s timeout) and samples every worker's
RSS (VmRSS of the workers: the server process itself with one worker, its `spawn_main`
children with more) every 100 ms; each worker's peak is its VmHWM, reset after the warm-up
(/proc/<pid>/clear_refs). Worker pids are tracked: a pid that disappears or appears is a
worker killed or restarted. The attack clients count every answer by status.

Attacks (issue "Hostile traffic"); each runs from raw asyncio sockets, so the client stays
light on the machine's 2 cores:
  depth       33 `[` and a string of `\\"` pairs, 64 KB and 1 MB bodies, from 2 senders, to
              POST /v1/screen and GET /healthz (the JSON depth pre-check's worst input).
  headers     a 200 MB header sent in 256 KiB chunks (431 expected once past 64 KiB; the time,
              the bytes written before the 431 and before the server closed are recorded),
              beside requests with 4,400 headers (60 KiB, under the bound) and 100,000 (1.3 MiB).
  words-long  valid listings carrying three unique random 490-character words each (the title
              is at most 500 characters, so one in the title, one in the category and one in
              the description: all three are read by the model), from 8 connections.
  words-short valid titles of twelve unique random 40-character words (the longest the word
              cache keeps), from 8 connections: the cache's bound (16 MiB per tokeniser,
              estimated).
  batches     50 concurrent 1,000-listing batches of real titles with real-text descriptions
              (about 1 MB a body), resent at once when answered; 503 OVERLOADED is counted.
  slowloris   1,000 connections sending one request head slowly (a piece of one header value
              every second, about 60 KiB by the end, under the 64 KiB bound), never finished.
  idle        2,000 connections opened and left silent.
  malformed   lone surrogates in /v2 ids, input and output names, parameters and data and in
              a /v1 title; invalid UTF-8; non-JSON; lying Content-Length (shorter than the
              body, longer and then closed, beside chunked, not a number, twice), each on a
              new connection, from 2 senders; none should be a 5xx.
  held-bodies 40 connections that declare Content-Length 1,048,576, send one byte less and
              hold (reconnecting when refused): request bodies held in a worker count
              against AKAR_MAX_INFLIGHT_BYTES (8 MiB by default) until answered.
The malformed and held-bodies attacks run a well-behaved client beside them (one valid
listing every 100 ms, a new connection each); its answers are reported apart.

Prints the tables and writes them, with the machine and the command, to
bench/results/attacks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

if __package__ in (None, ""):  # run as `python bench/attacks.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    Server,
    load_average,
    machine,
    markdown_table,
    real_titles,
    save_report,
)

T = TypeVar("T")

HOST = "127.0.0.1"
PROBE_EVERY = 0.05  # seconds between /healthz probes
PROBE_TIMEOUT = 2.0
RSS_EVERY = 0.1
WARM_SECONDS = 3.0
BASELINE_SECONDS = 1.0  # probes before the attack (idle figures, in the details)
GRACE = 10.0  # an attack's tasks still running this long after its end are cancelled
MAX_BODY = 1_048_576  # AKAR_MAX_BODY_BYTES default
HEAD_BOUND = 64 * 1024  # app/serving.py MAX_HEAD_BYTES

# Targets (issue "Hostile traffic").
TARGET_P99_MS = 50.0
TARGET_PEAK_MB = 250.0
TARGET_AFTER = 0.10  # RSS 30 s after within 10% of the warm size


# -- the server and its workers -------------------------------------------------------------


class AttackServer(Server):
    """bench.common.Server, with PROMETHEUS_MULTIPROC_DIR set for several workers."""

    def __init__(self, workers: int, port: int, log: Path, metrics_dir: Path | None) -> None:
        env = os.environ | {"AKAR_LOG_LEVEL": "warning"}  # no access log line per request
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if metrics_dir is not None:
            metrics_dir.mkdir(parents=True, exist_ok=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        self.log_path = log
        super().__init__(workers, port, log, env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(c) for c in task.read_text().split()]
        except OSError:
            pass
    return out


def worker_pids(server_pid: int, workers: int) -> list[int]:
    """The processes that serve: the server itself with one worker; with more, uvicorn's
    children started by multiprocessing's spawn (not its resource tracker)."""
    if workers == 1:
        return [server_pid] if Path(f"/proc/{server_pid}").exists() else []
    pids = []
    for pid in _children(server_pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
        except OSError:
            pass
    return sorted(pids)


def _status_mb(pid: int, key: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb(pid: int) -> float | None:
    return _status_mb(pid, "VmRSS:")


def hwm_mb(pid: int) -> float | None:
    return _status_mb(pid, "VmHWM:")


def reset_hwm(pid: int) -> bool:
    """Resets the process's peak RSS (VmHWM) to its current RSS (Linux 4.0+)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


_TICKS = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat: all but idle, iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _TICKS


def tree_seconds(root: int) -> float:
    """CPU seconds used by `root` and its live descendants (this suite: the client, the
    observer and the server with its workers)."""
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
        todo += _children(pid)
    return total


# -- the well-behaved observer (its own process) --------------------------------------------


class Probe(NamedTuple):
    at: float  # time.monotonic() when it started (the same clock in every process)
    ms: float
    outcome: str  # "ok", "timeout", "status 503", or the exception's name


def probe_healthz(port: int) -> Probe:
    """GET /healthz on a new connection, within PROBE_TIMEOUT seconds in all."""
    at, t0 = time.monotonic(), time.perf_counter()
    try:
        with socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                left = PROBE_TIMEOUT - (time.perf_counter() - t0)
                if left <= 0:
                    raise TimeoutError
                s.settimeout(left)
                piece = s.recv(65536)
                if not piece:
                    break
                data += piece
        ms = (time.perf_counter() - t0) * 1000
        parts = data.split(b" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return Probe(at, ms, "ok" if status == 200 else f"status {status}")
    except TimeoutError:
        return Probe(at, (time.perf_counter() - t0) * 1000, "timeout")
    except OSError as exc:
        return Probe(at, (time.perf_counter() - t0) * 1000, type(exc).__name__)


def monitor_main(port: int, server_pid: int, workers: int, conn: Any) -> None:
    """Probes /healthz every PROBE_EVERY s and samples the workers' RSS every RSS_EVERY s,
    until told to stop; then sends back what it saw."""
    stop = threading.Event()
    samples: list[tuple[float, dict[int, float]]] = []

    def sample_rss() -> None:
        while not stop.is_set():
            now = time.monotonic()
            sizes = {p: r for p in worker_pids(server_pid, workers) if (r := rss_mb(p))}
            samples.append((now, sizes))
            stop.wait(RSS_EVERY)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    probes: list[Probe] = []
    next_at = time.monotonic()
    while not conn.poll():
        probes.append(probe_healthz(port))
        next_at += PROBE_EVERY
        now = time.monotonic()
        if next_at > now:
            time.sleep(next_at - now)
        else:
            next_at = now  # a slow probe: the next one at once, then the cadence again
    stop.set()
    sampler.join()
    conn.send({"probes": probes, "samples": samples})


class Monitor:
    def __init__(self, port: int, server_pid: int, workers: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=monitor_main, args=(port, server_pid, workers, child), daemon=True
        )
        self._proc.start()

    def stop(self) -> dict[str, Any]:
        self._conn.send("stop")
        seen: dict[str, Any] = self._conn.recv()
        self._proc.join(timeout=10)
        return seen


# -- a small raw HTTP/1.1 client -----------------------------------------------------------


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


def http_request(
    method: str,
    path: str,
    body: bytes = b"",
    extra: list[tuple[str, str]] | None = None,
    content_type: str = "application/json",
    close: bool = False,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    if body or method == "POST":
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    if close:
        lines.append("Connection: close")
    lines += [f"{k}: {v}" for k, v in extra or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(p[:-2] for p in parts)
    else:
        body = await reader.read()
    return Answer(status, headers, body)


def label(answer: Answer) -> str:
    """An answer's outcome: its status, with the error code for a refusal before routing
    (`{"code": "OVERLOADED", ...}` under /v1, `{"error": "... too many request bodies ..."}`
    under /v2)."""
    if answer.status == 503 and (
        b"OVERLOADED" in answer.body or b"too many request bodies" in answer.body
    ):
        return "503 OVERLOADED"
    return str(answer.status)


class Connection:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, raw: bytes, timeout: float) -> Answer:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        try:
            self.writer.write(raw)
            answer = await asyncio.wait_for(read_answer(self.reader), timeout)
        except BaseException:
            self.close()
            raise
        if answer.closes:
            self.close()
        return answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "no answer: timeout"
    return f"no answer: {type(exc).__name__}"


@dataclass
class AttackStats:
    """What the attacking clients saw: outcomes and latencies per case, and figures."""

    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    figures: dict[str, str] = field(default_factory=dict)
    control: Counter[str] = field(default_factory=Counter)  # a well-behaved client's answers

    def record(self, case: str, outcome: str, ms: float | None = None) -> None:
        self.outcomes[case][outcome] += 1
        if ms is not None:
            self.latencies[case].append(ms)

    async def exchange(self, case: str, conn: Connection, raw: bytes, timeout: float) -> None:
        t0 = time.perf_counter()
        try:
            answer = await conn.exchange(raw, timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            self.record(case, failure(exc))
            return
        self.record(case, label(answer), (time.perf_counter() - t0) * 1000)

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.outcomes.values())

    def server_errors(self) -> tuple[int, int]:
        """(5xx answers, of which 503 OVERLOADED) to the attack's own requests."""
        errors = overloaded = 0
        for c in self.outcomes.values():
            for outcome, n in c.items():
                if outcome[:1] == "5":
                    errors += n
                    overloaded += n if outcome == "503 OVERLOADED" else 0
        return errors, overloaded


@dataclass
class Context:
    port: int
    seconds: float
    titles: list[str]
    deadline: float = 0.0
    batch_bodies: list[bytes] = field(default_factory=list)

    def running(self) -> bool:
        return time.monotonic() < self.deadline


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1)
    except (OSError, TimeoutError):
        pass


# -- the attacks ---------------------------------------------------------------------------


def depth_body(size: int) -> bytes:
    """33 `[` and one string of `\\"` pairs, `size` bytes in all."""
    head = b"[" * 33 + b'"'
    pairs = (size - len(head) - 1) // 2
    return head + b'\\"' * pairs + b'"'


async def attack_depth(ctx: Context, stats: AttackStats) -> None:
    cases = []
    sizes = []
    for size_name, size in (("64 KB", 64 * 1024), ("1 MB", MAX_BODY)):
        body = depth_body(size)
        sizes.append(f"{len(body):,}")
        for method, path in (("POST", "/v1/screen"), ("GET", "/healthz")):
            cases.append((f"{method} {path}, {size_name} body", http_request(method, path, body)))
    stats.figures["bodies"] = '33 `[`, `"`, n x `\\"`, `"`: ' + " and ".join(sizes) + " bytes"

    async def sender(offset: int) -> None:
        conn = Connection(ctx.port)
        i = offset
        while ctx.running():
            case, raw = cases[i % len(cases)]
            i += 1
            await stats.exchange(case, conn, raw, timeout=10)
        conn.close()

    await asyncio.gather(sender(0), sender(1))


HUGE_HEADER = 200 * 2**20


async def huge_header_once(
    ctx: Context, stats: AttackStats, record: dict[str, list[float]]
) -> None:
    case = "200 MB header, GET /healthz"
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(HOST, ctx.port)
    except OSError as exc:
        stats.record(case, failure(exc))
        return
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
    answer_task = asyncio.ensure_future(read_answer(reader))
    chunk = b"a" * (256 * 1024)
    sent = 0
    sent_at_answer: int | None = None
    answer_ms: float | None = None
    closed_by_server = False
    try:
        while sent < HUGE_HEADER:
            if sent_at_answer is None and answer_task.done():
                sent_at_answer, answer_ms = sent, (time.perf_counter() - t0) * 1000
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except OSError:
        closed_by_server = True
    try:
        answer = await asyncio.wait_for(answer_task, 5)
        outcome = label(answer)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
        outcome = failure(exc)
    if sent_at_answer is None:
        sent_at_answer, answer_ms = sent, (time.perf_counter() - t0) * 1000
    total_ms = (time.perf_counter() - t0) * 1000
    stats.record(case, outcome, answer_ms)
    record["written by the client before the 431 was read, KiB"].append(sent_at_answer / 1024)
    record["written before the server closed, MB"].append(
        sent / 2**20 if closed_by_server else float("nan")
    )
    record["the whole 200 MB went out before the connection closed"].append(
        float(sent >= HUGE_HEADER)
    )
    record["connection ms"].append(total_ms)
    await close_quietly(writer)


def many_headers(n: int, method: str, path: str, body: bytes = b"") -> bytes:
    extra = [(f"X-H{i:06d}", "v") for i in range(n)]
    return http_request(method, path, body, extra=extra, close=True)


async def attack_headers(ctx: Context, stats: AttackStats) -> None:
    record: dict[str, list[float]] = defaultdict(list)
    listing = json.dumps({"title": "Kemeja Batik Pria Lengan Panjang"}).encode()
    under = many_headers(4_400, "POST", "/v1/screen", listing)
    over = many_headers(100_000, "GET", "/healthz")
    assert len(under) < HEAD_BOUND, len(under)
    cases = [
        (f"{4_400:,} headers ({len(under) / 1024:.0f} KiB), POST /v1/screen", under),
        (f"{100_000:,} headers ({len(over) / 2**20:.1f} MiB), GET /healthz", over),
    ]

    async def huge() -> None:
        while ctx.running():
            await huge_header_once(ctx, stats, record)

    async def many() -> None:
        i = 0
        while ctx.running():
            case, raw = cases[i % 2]
            i += 1
            t0 = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection(HOST, ctx.port)
            except OSError as exc:
                stats.record(case, failure(exc))
                continue
            try:
                writer.write(raw)
                answer = await asyncio.wait_for(read_answer(reader), 10)
                stats.record(case, label(answer), (time.perf_counter() - t0) * 1000)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                stats.record(case, failure(exc))
            await close_quietly(writer)

    await asyncio.gather(huge(), many())
    for name, values in record.items():
        finite = [v for v in values if not math.isnan(v)]
        if name.startswith("the whole 200 MB"):
            stats.figures[f"200 MB header: {name}"] = f"{int(sum(values))} of {len(values)}"
        elif finite:
            stats.figures[f"200 MB header: {name}"] = (
                f"median {median(finite):,.1f}, max {max(finite):,.1f}"
                + (f" ({len(finite)} of {len(values)})" if len(finite) < len(values) else "")
            )


_HEX_TO_LETTERS = bytes.maketrans(b"0123456789", b"ghijklmnop")


def random_word(n: int) -> str:
    """n random letters a-p (no digits: the normaliser reads some digits as letters)."""
    return os.urandom((n + 1) // 2).hex()[:n].encode().translate(_HEX_TO_LETTERS).decode()


async def attack_words(ctx: Context, stats: AttackStats, long_words: bool) -> None:
    if long_words:
        case = "3 unique 490-char words (title, category, description)"
    else:
        case = "title of 12 unique 40-char words"

    def listing() -> dict[str, str]:
        if long_words:
            return {
                "title": random_word(490),
                "category": random_word(490),
                "description": random_word(490),
            }
        return {"title": " ".join(random_word(40) for _ in range(12))}

    async def sender() -> None:
        conn = Connection(ctx.port)
        while ctx.running():
            raw = http_request("POST", "/v1/screen", json.dumps(listing()).encode())
            await stats.exchange(case, conn, raw, timeout=10)
        conn.close()

    await asyncio.gather(*(sender() for _ in range(8)))
    words = (3 if long_words else 12) * sum(stats.outcomes[case].values())
    stats.figures["unique words sent"] = f"{words:,}"


BATCH_CONCURRENCY = 50


def batch_bodies(titles: list[str], count: int = 4) -> list[bytes]:
    """`count` bodies of 1,000 listings each: a real title and a description of other real
    titles, about 1,000 bytes of JSON a listing (just under 1 MB a body)."""
    text = " ".join(titles[:20_000])
    text = "".join(ch for ch in text if " " <= ch <= "~" and ch not in '"\\')
    bodies = []
    for k in range(count):
        rng = random.Random(k)
        listings = []
        for i in range(1000):
            item = {"listing_id": f"atk-{k}-{i}", "title": titles[(k * 1000 + i) % len(titles)]}
            room = 1030 - len(json.dumps(item)) - len(', "description": ""')
            start = rng.randrange(0, len(text) - 2000)
            item["description"] = text[start : start + max(room, 0)].strip()
            listings.append(item)
        body = json.dumps({"listings": listings}).encode()
        while len(body) > MAX_BODY - 1024:  # titles with many escapes: trim descriptions
            for item in listings:
                item["description"] = item["description"][:-8]
            body = json.dumps({"listings": listings}).encode()
        bodies.append(body)
    return bodies


async def attack_batches(ctx: Context, stats: AttackStats) -> None:
    raws = [http_request("POST", "/v1/screen/batch", b, close=True) for b in ctx.batch_bodies]
    sizes = [len(r) for r in raws]
    stats.figures["body bytes"] = f"{min(sizes):,} to {max(sizes):,}"
    case = "1,000-listing batch, POST /v1/screen/batch"
    retry_after: Counter[str] = Counter()

    async def sender(i: int) -> None:
        while ctx.running():
            raw = raws[i % len(raws)]
            i += 1
            t0 = time.perf_counter()
            try:
                reader, writer = await asyncio.open_connection(HOST, ctx.port)
            except OSError as exc:
                stats.record(case, failure(exc))
                await asyncio.sleep(0.05)
                continue
            try:
                writer.write(raw)
                answer = await asyncio.wait_for(read_answer(reader), 60)
                stats.record(case, label(answer), (time.perf_counter() - t0) * 1000)
                if answer.status == 503:
                    retry_after[answer.headers.get("retry-after", "none")] += 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                stats.record(case, failure(exc))
            await close_quietly(writer)

    await asyncio.gather(*(sender(i) for i in range(BATCH_CONCURRENCY)))
    ok = stats.outcomes[case]["200"]
    stats.figures["listings screened (200 answers)"] = f"{ok * 1000:,}"
    stats.figures["listings/s answered"] = f"{ok * 1000 / ctx.seconds:,.0f}"
    if retry_after:
        stats.figures["Retry-After on 503"] = ", ".join(f"{k}: {v}" for k, v in retry_after.items())


SLOW_CONNECTIONS = 1000
IDLE_CONNECTIONS = 2000
SLOW_HEAD_BYTES = 60 * 1024  # what each slow connection sends by the end: under the bound


async def hold_connection(
    ctx: Context, stats: AttackStats, case: str, first: bytes, piece: bytes, budget: int
) -> None:
    """Opens a connection, writes `first`, then `piece` every second (up to `budget` bytes in
    all) until the attack ends; records whether the server answered or closed it first."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, ctx.port), 10)
    except (OSError, TimeoutError) as exc:
        stats.record(case, f"connect failed: {type(exc).__name__}")
        return
    opened = time.perf_counter()
    writer.write(first)
    sent = len(first)
    peer = asyncio.ensure_future(reader.read(65536))
    outcome = "held open to the end"
    try:
        await asyncio.sleep(random.random())  # spread the writes over the second
        while ctx.running():
            if peer.done():
                data = peer.result() if not peer.exception() else b""
                if data.startswith(b"HTTP/1.1 "):
                    outcome = f"answered {data[9:12].decode()}"
                else:
                    outcome = "closed by the server"
                outcome += f" (after {time.perf_counter() - opened:.0f} s)"
                break
            if piece and sent + len(piece) <= budget:
                writer.write(piece)
                sent += len(piece)
            await asyncio.sleep(1.0)
    except OSError as exc:
        outcome = f"write failed: {type(exc).__name__}"
    stats.record(case, outcome)
    peer.cancel()
    writer.close()


async def open_many(
    ctx: Context, n: int, make: Callable[[], Awaitable[None]], per_step: int = 200
) -> list[asyncio.Task[None]]:
    """Starts n holders, `per_step` at a time (a burst of connects, as an attacker's)."""
    tasks = []
    for start in range(0, n, per_step):
        tasks += [asyncio.ensure_future(make()) for _ in range(min(per_step, n - start))]
        await asyncio.sleep(0.05)
    return tasks


async def attack_slowloris(ctx: Context, stats: AttackStats) -> None:
    case = f"{SLOW_CONNECTIONS:,} connections, head sent slowly"
    first = b"POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    piece = b"a" * int(SLOW_HEAD_BYTES / max(ctx.seconds, 1))
    stats.figures["per connection"] = (
        f"{len(piece):,} bytes of one header value a second, up to {SLOW_HEAD_BYTES // 1024} KiB"
    )
    tasks = await open_many(
        ctx,
        SLOW_CONNECTIONS,
        lambda: hold_connection(ctx, stats, case, first, piece, SLOW_HEAD_BYTES),
    )
    await asyncio.gather(*tasks)


async def attack_idle(ctx: Context, stats: AttackStats) -> None:
    case = f"{IDLE_CONNECTIONS:,} idle connections"
    tasks = await open_many(
        ctx, IDLE_CONNECTIONS, lambda: hold_connection(ctx, stats, case, b"", b"", 0)
    )
    await asyncio.gather(*tasks)


def _v2(body: str | bytes) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return http_request("POST", "/v2/models/akar-gate/infer", raw, close=True)


def _v1(body: str | bytes) -> bytes:
    raw = body.encode() if isinstance(body, str) else body
    return http_request("POST", "/v1/screen", raw, close=True)


_TENSOR = '{"name": "title", "shape": [1], "datatype": "BYTES", "data": ["Kemeja Batik"]}'
_HEAD = "POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
_VALID = b'{"title": "Kemeja Batik Pria"}'


def malformed_cases() -> list[tuple[str, bytes]]:
    """(case, raw request): each sent on a new connection; every answer is read until the
    server closes it. None should be a 5xx."""
    lying_short = (_HEAD + "Content-Length: 10\r\n\r\n").encode() + _VALID * 4
    both = (
        (_HEAD + "Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
        + b"1e\r\n"
        + _VALID
        + b"\r\n0\r\n\r\n"
    )
    return [
        ("/v2 lone surrogate in id", _v2('{"id": "\\ud800", "inputs": [' + _TENSOR + "]}")),
        (
            "/v2 lone surrogate in input name",
            _v2(
                '{"inputs": [{"name": "t\\udc00", "shape": [1], "datatype": "BYTES", '
                '"data": ["x"]}]}'
            ),
        ),
        (
            "/v2 lone surrogate in output name",
            _v2('{"inputs": [' + _TENSOR + '], "outputs": [{"name": "\\ud83d"}]}'),
        ),
        (
            "/v2 lone surrogate in data and parameters",
            _v2(
                '{"parameters": {"\\udfff": "\\ud800"}, "inputs": [{"name": "title", '
                '"shape": [1], "datatype": "BYTES", "data": ["\\ud83d"]}]}'
            ),
        ),
        ("/v1 lone surrogate in title", _v1('{"title": "Kemeja \\ud800 Batik"}')),
        ("/v1 invalid UTF-8 in title", _v1(b'{"title": "Kemeja \xff\xfe Batik"}')),
        ("/v1 UTF-8-encoded surrogate", _v1(b'{"title": "Kemeja \xed\xa0\x80"}')),
        (
            "/v2 invalid UTF-8 in id",
            _v2(b'{"id": "\xc3\x28", "inputs": [' + _TENSOR.encode() + b"]}"),
        ),
        ("/v1 not JSON", _v1("title=Kemeja+Batik")),
        ("/v1 truncated JSON", _v1('{"title": "Kemeja')),
        ("/v1 JSON with trailing garbage", _v1('{"title": "Kemeja"} {"x": 1}')),
        ("/v1 binary body", _v1(bytes(range(256)))),
        ("/v1 NaN price", _v1('{"title": "Kemeja", "price": {"amount": NaN}}')),
        ("/v2 not JSON", _v2("inputs")),
        ("Content-Length shorter than the body", lying_short),
        ("Content-Length and chunked both", both),
        ("Content-Length not a number", (_HEAD + "Content-Length: ten\r\n\r\n").encode() + _VALID),
        ("Content-Length negative", (_HEAD + "Content-Length: -5\r\n\r\n").encode() + _VALID),
        (
            "two different Content-Lengths",
            (_HEAD + "Content-Length: 5\r\nContent-Length: 30\r\n\r\n").encode() + _VALID,
        ),
        (
            "chunked with a bad chunk size",
            (_HEAD + "Transfer-Encoding: chunked\r\n\r\n").encode() + b"zz\r\n" + _VALID,
        ),
    ]


HOLDERS = 40  # connections that declare 1 MiB and send one byte less, then hold


async def send_and_read_all(stats: AttackStats, case: str, port: int, raw: bytes) -> None:
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError as exc:
        stats.record(case, failure(exc))
        return
    answers = 0
    try:
        writer.write(raw)
        while True:
            answer = await asyncio.wait_for(read_answer(reader), 5)
            answers += 1
            stats.record(case, label(answer), (time.perf_counter() - t0) * 1000)
    except asyncio.IncompleteReadError as exc:
        if not answers:
            stats.record(case, "closed without an answer" if not exc.partial else failure(exc))
    except (OSError, TimeoutError, ValueError) as exc:
        if not answers:
            stats.record(case, failure(exc))
    await close_quietly(writer)


def peek(data: bytes) -> str:
    """The outcome of the first bytes a server sent (or none) on a raw connection."""
    if not data:
        return "closed by the server"
    if not data.startswith(b"HTTP/1.1 "):
        return "answered something else"
    if data[9:12] == b"503" and (b"OVERLOADED" in data or b"too many request bodies" in data):
        return "answered 503 OVERLOADED"
    return f"answered {data[9:12].decode()}"


async def control(ctx: Context, stats: AttackStats) -> None:
    """A well-behaved client beside the attack: one valid listing every 100 ms, each on a new
    connection; its answers are kept apart from the attack's."""
    raw = _v1(_VALID)
    while ctx.running():
        t0 = time.monotonic()
        probe = AttackStats()
        await send_and_read_all(probe, "control", ctx.port, raw)
        stats.control.update(probe.outcomes["control"])
        await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))


async def attack_malformed(ctx: Context, stats: AttackStats) -> None:
    cases = malformed_cases()
    long_case = "Content-Length 5,000, 100 bytes sent, closed after 0.5 s"

    async def sender(offset: int) -> None:
        i = offset
        while ctx.running():
            if i % (len(cases) + 1) == len(cases):
                await lying_long()
            else:
                case, raw = cases[i % (len(cases) + 1)]
                await send_and_read_all(stats, case, ctx.port, raw)
            i += 1

    async def lying_long() -> None:
        try:
            reader, writer = await asyncio.open_connection(HOST, ctx.port)
        except OSError as exc:
            stats.record(long_case, failure(exc))
            return
        writer.write((_HEAD + "Content-Length: 5000\r\n\r\n").encode() + b"{" + b" " * 99)
        try:
            outcome = peek(await asyncio.wait_for(reader.read(65536), 0.5))
        except TimeoutError:
            outcome = "no answer in 0.5 s (expected: the body is incomplete)"
        except OSError as exc:
            outcome = failure(exc)
        stats.record(long_case, outcome)
        await close_quietly(writer)

    await asyncio.gather(sender(0), sender(len(cases) // 2), control(ctx, stats))


async def attack_held_bodies(ctx: Context, stats: AttackStats) -> None:
    case = f"Content-Length {MAX_BODY:,}, one byte less sent, held"
    head = (_HEAD + f"Content-Length: {MAX_BODY}\r\n\r\n").encode()
    body = b" " * (MAX_BODY - 1)
    held = "held to the end, no answer"

    async def holder() -> None:
        while ctx.running():
            try:
                reader, writer = await asyncio.open_connection(HOST, ctx.port)
            except OSError as exc:
                stats.record(case, failure(exc))
                await asyncio.sleep(1.0)
                continue
            writer.write(head + body)
            try:
                left = max(ctx.deadline - time.monotonic(), 0.01)
                outcome = f"answered {label(await asyncio.wait_for(read_answer(reader), left))}"
            except TimeoutError:
                outcome = held
            except asyncio.IncompleteReadError:
                outcome = "closed by the server"
            except (OSError, ValueError) as exc:
                outcome = failure(exc)
            stats.record(case, outcome)
            await close_quietly(writer)
            if outcome != held:
                await asyncio.sleep(1.0)  # refused: try again, as an attacker would

    await asyncio.gather(control(ctx, stats), *(holder() for _ in range(HOLDERS)))


@dataclass(frozen=True)
class Attack:
    name: str
    what: str
    run: Callable[[Context, AttackStats], Awaitable[None]]


ATTACKS = [
    Attack("depth", 'JSON depth pre-check: 33 `[` + `\\"` pairs, 64 KB and 1 MB', attack_depth),
    Attack("headers", "200 MB header; 4,400 and 100,000 headers", attack_headers),
    Attack(
        "words-long",
        "word cache: 3 unique 490-char words a listing",
        lambda c, s: attack_words(c, s, long_words=True),
    ),
    Attack(
        "words-short",
        "word cache: 12 unique 40-char words a title",
        lambda c, s: attack_words(c, s, long_words=False),
    ),
    Attack("batches", "50 concurrent 1,000-listing batches (~1 MB)", attack_batches),
    Attack("slowloris", f"slowloris, {SLOW_CONNECTIONS:,} connections", attack_slowloris),
    Attack("idle", f"{IDLE_CONNECTIONS:,} idle connections", attack_idle),
    Attack("malformed", "malformed bodies, lying Content-Length", attack_malformed),
    Attack(
        "held-bodies",
        f"{HOLDERS} connections declaring 1 MiB, sending one byte less, holding",
        attack_held_bodies,
    ),
]


# -- one run: server, warm-up, attack, 30 s after ------------------------------------------


def median(values: list[float]) -> float:
    return percentile(values, 0.5)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def warm_up(port: int, titles: list[str], seconds: float) -> int:
    """Real titles from 8 connections, one in ten requests a batch of 20 (as bench.soak)."""
    stop = time.monotonic() + seconds
    sent = 0

    async def client(offset: int) -> None:
        nonlocal sent
        conn = Connection(port)
        n = offset * 10_000
        while time.monotonic() < stop:
            if n % 10 == 0:
                chosen = [titles[(n + i) % len(titles)] for i in range(20)]
                body = json.dumps({"listings": [{"title": t} for t in chosen]}).encode()
                raw = http_request("POST", "/v1/screen/batch", body)
            else:
                raw = http_request(
                    "POST", "/v1/screen", json.dumps({"title": titles[n % len(titles)]}).encode()
                )
            answer = await conn.exchange(raw, 10)
            if answer.status != 200:
                raise RuntimeError(f"warm-up answered {answer.status}: {answer.body[:200]!r}")
            n += 1
            sent += 1
        conn.close()

    await asyncio.gather(*(client(i) for i in range(8)))
    return sent


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    except ImportError:
        return asyncio.run(coro)


@dataclass
class Row:
    workers: int
    attack: Attack
    stats: AttackStats
    during: list[Probe]
    after: list[Probe]
    baseline: list[Probe]
    warm: dict[int, float]
    peak: dict[int, float]
    end: dict[int, float]
    pids_before: list[int]
    pids_seen: set[int]
    pids_after: list[int]
    server_alive: bool
    log_notes: list[str]
    cut: bool
    others: float  # CPU of processes outside this suite during the attack, in cores

    @staticmethod
    def latencies(probes: list[Probe]) -> list[float]:
        # A failed probe counts with the time it took (a timeout as 2,000 ms): a failure
        # never improves a percentile.
        return [p.ms for p in probes]

    def failures(self, probes: list[Probe]) -> Counter[str]:
        return Counter(p.outcome for p in probes if p.outcome != "ok")

    @property
    def restarts(self) -> tuple[int, int]:
        """(workers gone, workers new) between the warm-up and 30 s after the attack."""
        gone = len(set(self.pids_before) - set(self.pids_after))
        new = len(self.pids_seen - set(self.pids_before))
        return gone, new

    def mb(self, sizes: dict[int, float]) -> str:
        return " / ".join(f"{sizes[p]:.0f}" if p in sizes else "gone" for p in self.pids_before)

    def targets(self) -> dict[str, tuple[bool, str]]:
        p99 = percentile(self.latencies(self.during), 0.99)
        failed = sum(self.failures(self.during).values())
        healthz_ok = p99 <= TARGET_P99_MS and failed == 0
        gone, new = self.restarts
        stable = gone == 0 and new == 0 and self.server_alive
        peak = max(self.peak.values(), default=float("nan"))
        growth = [
            self.end[p] / self.warm[p] - 1
            for p in self.pids_before
            if p in self.end and p in self.warm
        ]
        back = bool(growth) and len(growth) == len(self.pids_before) and max(growth) <= TARGET_AFTER
        worst = max(growth, default=float("nan"))
        return {
            "healthz": (healthz_ok, f"p99 {p99:.1f} ms" + (f", {failed} failed" if failed else "")),
            "restarts": (stable, "none" if stable else f"{gone} gone, {new} new"),
            "peak": (peak <= TARGET_PEAK_MB, f"{peak:.0f} MB"),
            "after": (back, f"{worst:+.1%}" if growth else "worker gone"),
        }


def scan_log(path: Path, since: float, until: float) -> list[str]:
    """What the server's log says: lines by level, warnings and errors, tracebacks, the
    supervisor's messages, and the server-side time per route of the requests logged between
    `since` and `until` (wall clock: the attack and the quiet after it)."""
    levels: Counter[str] = Counter()
    tracebacks = 0
    supervisor: list[str] = []
    messages: Counter[str] = Counter()
    routes: dict[str, list[float]] = defaultdict(list)
    for line in path.read_text(errors="replace").splitlines():
        if "Traceback" in line:
            tracebacks += 1
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        level = str(record.get("level", "?"))
        levels[level] += 1
        message = str(record.get("message", ""))
        access = record.get("logger") == "akar_gate.access"
        if not access and ("child process" in message.lower() or "died" in message.lower()):
            supervisor.append(message)
        if level in ("WARNING", "ERROR", "CRITICAL"):
            key = f"request {record.get('status')} {record.get('route')}" if access else message
            messages[f"{level} {key[:90]}"] += 1
        if access and isinstance(record.get("latency_ms"), int | float):
            try:
                ts = datetime.fromisoformat(str(record["ts"])).timestamp()
            except (KeyError, ValueError):
                continue
            if since <= ts <= until:
                routes[f"{record.get('method')} {record.get('route')}"].append(
                    float(record["latency_ms"])
                )
    notes = []
    if levels:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(levels.items()))
        notes.append(f"server log lines by level: {counts}")
    notes += [f"{n:,} x {m}" for m, n in messages.most_common(6)]
    if tracebacks:
        notes.append(f"{tracebacks} tracebacks in the server log")
    notes += [f"supervisor: {m}" for m in supervisor[:6]]
    for route, values in sorted(routes.items(), key=lambda kv: -len(kv[1])):
        notes.append(
            f"server-side time (access log), {route}: {len(values):,} requests, "
            f"p50 {percentile(values, 0.5):.1f} / p99 {percentile(values, 0.99):.1f} / "
            f"max {max(values):.1f} ms"
        )
    return notes


def run_one(
    workers: int, attack: Attack, ctx: Context, after: float, tmp: Path, logs: Path | None
) -> Row:
    port = free_port()
    ctx.port = port
    log = (logs or tmp) / f"server-{workers}-{attack.name}.log"
    metrics_dir = tmp / f"metrics-{workers}-{attack.name}" if workers > 1 else None
    server = AttackServer(workers, port, log, metrics_dir)
    monitor: Monitor | None = None
    try:
        server.wait_ready()
        deadline = time.monotonic() + 30
        while len(worker_pids(server.proc.pid, workers)) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not all start")
            time.sleep(0.1)
        run_async(warm_up(port, ctx.titles, WARM_SECONDS))
        time.sleep(1.0)
        pids_before = worker_pids(server.proc.pid, workers)
        warm = {p: r for p in pids_before if (r := rss_mb(p))}
        for p in pids_before:
            reset_hwm(p)
        monitor = Monitor(port, server.proc.pid, workers)
        time.sleep(BASELINE_SECONDS)
        stats = AttackStats()
        started = time.monotonic()
        busy0, ours0 = busy_seconds(), tree_seconds(os.getpid())
        wall_started = time.time()
        ctx.deadline = started + ctx.seconds
        cut = False

        async def bounded() -> None:
            nonlocal cut
            try:
                await asyncio.wait_for(attack.run(ctx, stats), ctx.seconds + GRACE)
            except TimeoutError:
                cut = True

        run_async(bounded())
        ended = time.monotonic()
        busy1, ours1 = busy_seconds(), tree_seconds(os.getpid())
        others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (ended - started)
        time.sleep(max(0.0, ended + after - time.monotonic()))
        finished = time.monotonic()
        end = {p: r for p in pids_before if (r := rss_mb(p))}
        peak_hwm = {p: r for p in pids_before if (r := hwm_mb(p))}
        pids_after = worker_pids(server.proc.pid, workers)
        seen = monitor.stop()
        monitor = None
        alive = server.proc.poll() is None
    finally:
        if monitor is not None:
            monitor.stop()
        server.stop()
    probes: list[Probe] = [Probe(*p) for p in seen["probes"]]
    samples: list[tuple[float, dict[int, float]]] = seen["samples"]
    peak = dict(peak_hwm)
    pids_seen: set[int] = set()
    for t, sizes in samples:
        pids_seen |= set(sizes)
        if started <= t <= finished:
            for p, r in sizes.items():
                if p in pids_before:
                    peak[p] = max(peak.get(p, 0.0), r)
    return Row(
        workers=workers,
        attack=attack,
        stats=stats,
        baseline=[p for p in probes if p.at < started],
        during=[p for p in probes if started <= p.at < ended],
        after=[p for p in probes if ended <= p.at < finished],
        warm=warm,
        peak=peak,
        end=end,
        pids_before=pids_before,
        pids_seen=pids_seen,
        pids_after=pids_after,
        server_alive=alive,
        log_notes=scan_log(log, wall_started, wall_started + finished - started),
        cut=cut,
        others=others,
    )


# -- the report ----------------------------------------------------------------------------


def fmt_ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f}" if values else "-"


def results_table(rows: list[Row]) -> list[str]:
    header = [
        "workers",
        "attack",
        "attack requests",
        "healthz p50 / p99 / max ms, during",
        "healthz p99 ms, 30 s after",
        "probe timeouts / errors (during / after)",
        "RSS warm MB",
        "RSS peak MB",
        "RSS 30 s after MB",
        "restarts",
        "5xx (503 OVERLOADED)",
        "other load, cores",
    ]
    out = []
    for r in rows:
        d, a = Row.latencies(r.during), Row.latencies(r.after)
        fd, fa = r.failures(r.during), r.failures(r.after)
        gone, new = r.restarts
        errors, overloaded = r.stats.server_errors()
        out.append(
            [
                str(r.workers),
                r.attack.name,
                f"{r.stats.total():,}",
                f"{fmt_ms(d, 0.5)} / {fmt_ms(d, 0.99)} / {fmt_ms(d, 1.0)}",
                fmt_ms(a, 0.99),
                f"{fd['timeout']} / {sum(fd.values()) - fd['timeout']} ; "
                f"{fa['timeout']} / {sum(fa.values()) - fa['timeout']}",
                r.mb(r.warm),
                r.mb(r.peak),
                r.mb(r.end),
                "0" if (gone, new) == (0, 0) and r.server_alive else f"{gone} gone, {new} new",
                f"{errors:,} ({overloaded:,})",
                f"{r.others:.2f}",
            ]
        )
    return markdown_table(header, out)


def targets_table(rows: list[Row]) -> list[str]:
    header = [
        "workers",
        "attack",
        f"healthz p99 ≤ {TARGET_P99_MS:.0f} ms, no failed probe",
        "no worker killed or restarted",
        f"RSS ≤ {TARGET_PEAK_MB:.0f} MB",
        f"RSS 30 s after within {TARGET_AFTER:.0%} of warm",
    ]
    out = []
    for r in rows:
        t = r.targets()
        out.append(
            [str(r.workers), r.attack.name]
            + [("met" if ok else "**missed**") + f" ({why})" for ok, why in t.values()]
        )
    return markdown_table(header, out)


def details(rows: list[Row]) -> list[str]:
    out: list[str] = []
    for r in rows:
        out += [
            "",
            f"**{r.workers} worker{'s' if r.workers > 1 else ''}, {r.attack.name}**: "
            f"{r.attack.what}",
            "",
        ]
        for case, outcomes in r.stats.outcomes.items():
            parts = ", ".join(f"{k}: {v:,}" for k, v in outcomes.most_common())
            lat = r.stats.latencies.get(case)
            timing = (
                f"; client time p50 {median(lat):,.1f} ms, max {max(lat):,.1f} ms" if lat else ""
            )
            out.append(f"- {case}: {parts}{timing}")
        for k, v in r.stats.figures.items():
            out.append(f"- {k}: {v}")
        if r.stats.control:
            parts = ", ".join(f"{k}: {v:,}" for k, v in r.stats.control.most_common())
            out.append(f"- well-behaved client (one valid listing every 100 ms): {parts}")
        b = Row.latencies(r.baseline)
        out.append(
            f"- healthz probes: {len(r.baseline)} before (p50 {fmt_ms(b, 0.5)} ms), "
            f"{len(r.during)} during, {len(r.after)} after"
        )
        for phase, probes in (("during", r.during), ("after", r.after)):
            failed = r.failures(probes)
            if failed:
                out.append(
                    f"- failed probes {phase}: " + ", ".join(f"{k}: {v}" for k, v in failed.items())
                )
        if r.cut:
            out.append(
                f"- the attack's clients were still busy {GRACE:.0f} s after its end and were cut"
            )
        out += [f"- {n}" for n in r.log_notes]
    return out


def verdicts(rows: list[Row]) -> list[str]:
    missed: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        for name, (ok, why) in r.targets().items():
            if not ok:
                missed[name].append(f"{r.attack.name} ({r.workers}w: {why})")
    names = {
        "healthz": f"/healthz p99 ≤ {TARGET_P99_MS:.0f} ms under every attack, no failed probe",
        "restarts": "no worker killed or restarted",
        "peak": f"worker RSS never above {TARGET_PEAK_MB:.0f} MB",
        "after": f"worker RSS within {TARGET_AFTER:.0%} of warm 30 s after",
    }
    out = []
    for key, text in names.items():
        if missed[key]:
            out.append(f"- {text}: **missed** for " + "; ".join(missed[key]))
        else:
            out.append(f"- {text}: met for every attack")
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=12, help="each attack's duration")
    parser.add_argument("--after", type=float, default=30, help="watching after each attack")
    parser.add_argument(
        "--attacks", nargs="+", choices=[a.name for a in ATTACKS], default=[a.name for a in ATTACKS]
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "attacks.md")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    chosen = [a for a in ATTACKS if a.name in args.attacks]
    titles = real_titles()
    ctx = Context(port=0, seconds=args.seconds, titles=titles)
    ctx.batch_bodies = batch_bodies(titles) if any(a.name == "batches" for a in chosen) else []
    load_before = load_average()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="akar-attacks-") as tmp:
        folder = Path(tmp)
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
        for workers in args.workers:
            for attack in chosen:
                print(f"{workers} worker(s): {attack.name} ...", file=sys.stderr, flush=True)
                row = run_one(workers, attack, ctx, args.after, folder, args.logs)
                rows.append(row)
                print("\n".join(results_table([row])[2:]), file=sys.stderr, flush=True)
    command = "python -m bench.attacks --workers " + " ".join(map(str, args.workers))
    command += f" --seconds {args.seconds:g} --after {args.after:g}"
    if len(chosen) < len(ATTACKS):
        command += " --attacks " + " ".join(args.attacks)
    lines = [
        "# Attack suite",
        "",
        f"Command: `{command}`. Each row: a fresh server (`python -m app --workers N`, "
        f"`AKAR_LOG_LEVEL=warning`), warmed for {WARM_SECONDS:.0f} s with real titles, the "
        f"attack for {args.seconds:g} s, then {args.after:g} s of quiet. /healthz is probed "
        f"every {PROBE_EVERY * 1000:.0f} ms by a separate process (a new connection each, "
        f"{PROBE_TIMEOUT:.0f} s timeout; a failed probe counts with the time it took). RSS is "
        "per worker, in the order of their pids; the peak is the worker's VmHWM, reset after "
        "the warm-up. \"5xx\" counts the server's answers to the attack's own requests. "
        'Attack and observer run on the same 2 cores as the server; "other load" is '
        "the CPU that processes outside this suite used during the attack (other jobs on "
        "the machine), in cores.",
        "",
        *results_table(rows),
        "",
        "## Targets",
        "",
        *targets_table(rows),
        "",
        *verdicts(rows),
        "",
        "## Details",
        *details(rows),
        "",
        "## Machine",
        "",
        *machine({"load average before / after": f"{load_before} / {load_average()}"}),
    ]
    print("\n".join(lines))
    save_report(args.output, [*lines, ""])


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the server on SIGTERM too
    main()
