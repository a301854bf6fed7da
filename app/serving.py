"""How `python -m app` serves: uvicorn's httptools protocol, with TCP_NODELAY on every connection.

asyncio sets TCP_NODELAY only on sockets whose `proto` is IPPROTO_TCP, and the listening
socket uvicorn binds for `--workers N` has proto 0 (Kludex/uvicorn#3149). A response is
written in two sends (head, body), Nagle holds the second until the client's delayed ACK,
and every keep-alive request waits about 40 ms. Setting the option per connection, in the
protocol, does not depend on the event loop or on how the socket reached the worker.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the peer may already be gone; the request then fails on its own
            pass


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


# uvicorn's `http` option as an import path: worker processes import it themselves.
HTTP_PROTOCOL = f"{__name__}:{NoDelayHttpToolsProtocol.__name__}"
