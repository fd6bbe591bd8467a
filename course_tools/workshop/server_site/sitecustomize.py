"""Run at start-up by every process of a server that `course_tools.workshop.mlflow_server.launch` starts (this
folder leads their PYTHONPATH, and nothing else's): Nagle's algorithm off on every TCP connection asyncio accepts.

`mlflow server --workers N` runs `uvicorn --workers N`, which binds its listening socket itself with `proto` 0;
accepted sockets inherit it, and asyncio turns `TCP_NODELAY` on only where `proto` is `IPPROTO_TCP`. With Nagle on,
a response written in two parts (headers, then body, as the basic-auth app's middleware does) waits for the
client's delayed ACK: about 40 ms on every keep-alive request after the first (uvicorn issue 3149, open in 0.54).
"""

import asyncio.base_events
import socket


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's own `_set_nodelay`, without its test of `sock.proto`."""
    if sock.family in {socket.AF_INET, socket.AF_INET6} and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


asyncio.base_events._set_nodelay = _set_nodelay
