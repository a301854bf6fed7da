"""How `python -m app` serves: uvicorn's httptools protocol, with TCP_NODELAY on every
connection and a bound on the bytes of a request's line and headers.

asyncio sets TCP_NODELAY only on sockets whose `proto` is IPPROTO_TCP, and the listening
socket uvicorn binds for `--workers N` has proto 0 (Kludex/uvicorn#3149). A response is
written in two sends (head, body), Nagle holds the second until the client's delayed ACK,
and every keep-alive request waits about 40 ms. Setting the option per connection, in the
protocol, does not depend on the event loop or on how the socket reached the worker.

httptools keeps a request's line and headers in memory until they are complete and sets no
limit (h11's is 16 KiB): a 200 MB header was read whole. Here the bytes that arrive while a
request's head is incomplete are counted, and past MAX_HEAD_BYTES the client gets 431 and the
connection closes. A worker then holds at most MAX_HEAD_BYTES plus one read (256 KiB) of head
per connection.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import json
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api_errors import error_body


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the peer may already be gone; the request then fails on its own
            pass


# A request line and headers may take up to this many bytes: far above any real client's
# (browsers send a few KiB), far below a worker's memory.
MAX_HEAD_BYTES = 64 * 1024
REJECT_LINGER_SECONDS = 2.0


def _too_large_answer(path: bytes) -> bytes:
    """The 431, in the error shape of the API the request line names (`/v2`: the protocol's),
    as every other error; the path may be empty when the request line itself is too long."""
    detail = f"request line and headers are larger than {MAX_HEAD_BYTES} bytes"
    target = path.decode("latin-1").split("?", 1)[0]
    body = json.dumps(error_body(target, "HEADERS_TOO_LARGE", detail)).encode()
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
    )


class ServingProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
        self._awaiting_head = True
        self._head_bytes = 0
        self._rejected = False
        self._heads_completed = 0

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return  # read and dropped, so that closing sends no reset over the answer
        awaiting_before = self._awaiting_head
        self._heads_completed = 0
        super().data_received(data)
        # A head was awaited before and after this read, and none completed in it: all of it
        # was head. (A read in which a head or a body ended is not counted: it is at most
        # one read long.)
        if (
            awaiting_before
            and self._awaiting_head
            and not self._heads_completed
            and not self.transport.is_closing()
        ):
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._reject()

    def _reject(self) -> None:
        self.logger.warning("request head over %d bytes: 431", MAX_HEAD_BYTES)
        self._rejected = True
        # httptools has parsed the request line's target by now, unless the line is the excess.
        self.transport.write(_too_large_answer(getattr(self, "url", b"")))
        # Half-close: the client reads the answer and closes; if it does not, we do soon.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(REJECT_LINGER_SECONDS, self.transport.close)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._heads_completed += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True  # the next request on this connection


# uvicorn's `http` option as an import path: worker processes import it themselves.
HTTP_PROTOCOL = f"{__name__}:{ServingProtocol.__name__}"


# -- the allocator -----------------------------------------------------------------------------
#
# glibc gives each thread that allocates its own malloc arena, up to 8 per core, and keeps
# what a freed arena held. Batches are screened in the thread pool, so concurrent batches
# spread over many arenas: the attack suite measured a worker at 393 MB peak and 295 MB 30 s
# later (bench/results/attacks.md). Two arenas, and memory handed back to the system every few
# seconds, keep a worker near what it really uses. On a C library without these calls (musl,
# macOS) both are skipped.

MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # glibc's malloc.h
TRIM_EVERY_SECONDS = 5.0


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None
    return libc


def bound_allocator(arenas: int = MALLOC_ARENAS) -> bool:
    """Caps glibc's malloc arenas for this process (call before the thread pool starts).
    True when the C library took it."""
    libc = _glibc()
    return libc is not None and libc.mallopt(M_ARENA_MAX, arenas) == 1


def give_back_memory() -> None:
    """Returns the free pages of malloc's heaps to the system (glibc's malloc_trim)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


async def give_back_memory_periodically(every: float = TRIM_EVERY_SECONDS) -> None:
    """Until cancelled: malloc_trim every `every` seconds, in a thread (it takes the heap's
    locks, not the event loop)."""
    while True:
        await asyncio.sleep(every)
        await asyncio.to_thread(give_back_memory)
