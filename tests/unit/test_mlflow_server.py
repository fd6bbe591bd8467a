"""The environment of the servers the course starts: `server_site` first on their PYTHONPATH, and its
`sitecustomize` turning Nagle's algorithm off on the connections of a listener bound as uvicorn's workers bind it."""

from __future__ import annotations

import os
import subprocess
import sys

from course_tools.workshop.mlflow_server import SERVER_SITE, server_environment

#: A listener bound as `uvicorn --workers N` binds it (`proto` 0), served by asyncio: its accepted socket's TCP_NODELAY.
ACCEPTED_NODELAY = """
import asyncio, socket
listener = socket.socket(socket.AF_INET)
listener.bind(("127.0.0.1", 0))
async def main():
    accepted = asyncio.get_running_loop().create_future()
    def on_connection(reader, writer):
        sock = writer.get_extra_info("socket")
        accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    server = await asyncio.start_server(on_connection, sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    print(await accepted)
    writer.close()
    server.close()
asyncio.run(main())
"""


def test_server_site_leads_the_pythonpath_and_keeps_the_rest():
    env = {"PYTHONPATH": f"/one{os.pathsep}/two", "OTHER": "x"}
    assert server_environment(env) == {"PYTHONPATH": os.pathsep.join([str(SERVER_SITE), "/one", "/two"]), "OTHER": "x"}
    assert env["PYTHONPATH"] == f"/one{os.pathsep}/two"
    assert server_environment({})["PYTHONPATH"] == str(SERVER_SITE)


def _accepted_nodelay(env: dict[str, str]) -> str:
    command = [sys.executable, "-c", ACCEPTED_NODELAY]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_the_server_site_turns_nagle_off_where_asyncio_leaves_it_on():
    plain = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    assert _accepted_nodelay(plain) == "0"  # the fault: asyncio tests `proto`, which such a listener leaves at 0
    assert _accepted_nodelay(server_environment(plain)) != "0"
