"""Keep-alive requests to the workshop server are answered without waiting for the client's delayed ACK.

uvicorn's workers (`mlflow server --workers 4`) leave Nagle's algorithm on, and the basic-auth app writes a response
in two parts, so that the body waited about 40 ms for the ACK of the headers on every request after a connection's
first (`course_tools/workshop/server_site/sitecustomize.py`): 48 ms for `/health`, 52 ms per call of a child run.
"""

from __future__ import annotations

import socket
import statistics
import time
from urllib.parse import urlsplit

#: Linux delays an ACK by at least 40 ms: with Nagle on, the body arrived that long after the headers.
DELAYED_ACK_S = 0.040


def _header_to_body_gaps(uri: str, requests: int) -> list[float]:
    """On one kept-alive connection, per GET /health: seconds from the first bytes of the answer to its last."""
    address = urlsplit(uri)
    gaps = []
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        for _ in range(requests):
            connection.sendall(f"GET /health HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
            answer = connection.recv(65536)
            first = time.perf_counter()
            while not answer.endswith(b"\r\n\r\nOK"):
                answer += connection.recv(65536)
            gaps.append(time.perf_counter() - first)
    return gaps


def test_keep_alive_answers_do_not_wait_for_the_delayed_ack(workshop_server):
    gaps = _header_to_body_gaps(workshop_server.uri, 20)
    assert statistics.median(gaps) < DELAYED_ACK_S / 2, [round(1000 * gap, 1) for gap in gaps]
