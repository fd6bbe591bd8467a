"""The one loopback address every local server of the course binds to, a free port on it (both from
`tutorial_utils.serving`, which notebook 07's scoring server uses too), and whether a port is taken."""

from __future__ import annotations

import socket

from tutorial_utils.serving import LOOPBACK, free_port

__all__ = ["LOOPBACK", "free_port", "port_in_use"]


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """Whether something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((host, port)) == 0
