"""The workshop tracking server: `mlflow server` with basic auth, served artifacts and a PostgreSQL (or SQLite) store.

Usage: python -m course_tools.workshop.server [--backend postgres|sqlite] [--host 127.0.0.1] [--port 5000]
                                                [--data-dir workshop_data] [--database-uri postgresql+psycopg2://...]

The admin password and the Flask secret key come from the environment (`MLFLOW_AUTH_ADMIN_PASSWORD`,
`MLFLOW_FLASK_SERVER_SECRET_KEY`), never from a file. Without `--database-uri`, the postgres backend is a
cluster of the course's own in `<data-dir>/postgres`, started and stopped with the server.
"""

from __future__ import annotations

import argparse
import configparser
import os
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from course_tools.workshop.mlflow_server import RunningServer, ServerStartError, launch
from course_tools.workshop.network import LOOPBACK
from course_tools.workshop.postgres import PostgresError, start_cluster
from tutorial_utils.paths import REPO_ROOT

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD_ENV = "MLFLOW_AUTH_ADMIN_PASSWORD"
SECRET_KEY_ENV = "MLFLOW_FLASK_SERVER_SECRET_KEY"
MIN_SECRET_LENGTH = 12  # what MLflow's auth app demands of the admin password
#: Attendees may read every experiment; only an experiment's creator (MANAGE) or a grant may write to it.
DEFAULT_PERMISSION = "READ"
DEFAULT_DATA_DIR = REPO_ROOT / "workshop_data"
DEFAULT_HOST = LOOPBACK
DATABASE_NAME = "mlflow"
DATABASE_URI_ENV = "WORKSHOP_DATABASE_URI"


class WorkshopConfigError(ValueError):
    """The server cannot start as configured (a missing or weak secret, a bad option)."""


def _weakness(value: str) -> str | None:
    """Why a secret is too weak, or None: missing, shorter than 12 characters, one character repeated, or made of
    the admin's username alone ("admin", "AdminAdminAdmin")."""
    if not value:
        return "not set"
    if len(value) < MIN_SECRET_LENGTH:
        return "too short"
    if len(set(value)) == 1:
        return "one character repeated"
    if not value.lower().replace(ADMIN_USERNAME, ""):
        return f"the username {ADMIN_USERNAME!r} repeated"
    return None


def check_secrets(env: Mapping[str, str]) -> None:
    """Refuse, naming the variable and how to make one, when a secret is missing or weak (see `_weakness`)."""
    for name in (ADMIN_PASSWORD_ENV, SECRET_KEY_ENV):
        weakness = _weakness(env.get(name, ""))
        if weakness:
            raise WorkshopConfigError(
                f"{name} is {weakness}: the workshop server needs it in the environment, at least "
                f"{MIN_SECRET_LENGTH} characters and not guessable. Make one with\n"
                f"  export {name}=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')\""
            )


def write_auth_config(directory: Path, database_uri: str) -> Path:
    """The auth app's `basic_auth.ini` (no password in it: that comes from the environment); returns its path."""
    config = configparser.ConfigParser()
    config["mlflow"] = {
        "default_permission": DEFAULT_PERMISSION,
        "database_uri": database_uri,
        "admin_username": ADMIN_USERNAME,
        "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",
        # each request checks a password hash (scrypt, ~0.1 s of CPU): cache a good one for a minute per worker
        "auth_cache_ttl_seconds": "60",
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "basic_auth.ini"
    with path.open("w") as handle:
        config.write(handle)
    return path


def room_address() -> str:
    """This machine's address on the network (the interface of its default route; no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def attendee_uri(host: str, port: int) -> str:
    """What attendees set as MLFLOW_TRACKING_URI (this machine's room address when the server listens everywhere).

    MLflow's host check accepts loopback and private addresses (10.*, 172.16-31.*, 192.168.*) by default; for a
    host name, list it in MLFLOW_SERVER_ALLOWED_HOSTS.
    """
    return f"http://{room_address() if host in ('0.0.0.0', '::') else host}:{port}"


def start_server(
    backend_uri: str,
    data_dir: Path,
    *,
    auth_database_uri: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = 5000,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> RunningServer:
    """Start the workshop server on `backend_uri` and wait until it answers.

    Artifacts, the auth config and the log go to `data_dir`. Users live in `auth_database_uri` (default: the
    backend store itself; MLflow's auth tables and migrations are separate from the tracking ones).
    `env` (default: this process's environment) must hold the two secrets.
    """
    env = dict(os.environ if env is None else env)
    check_secrets(env)
    data_dir = Path(data_dir).resolve()
    config = write_auth_config(data_dir, auth_database_uri or backend_uri)
    env["MLFLOW_AUTH_CONFIG_PATH"] = str(config)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(name, None)  # the server's own client settings are not the attendees'
    return launch(backend_uri, data_dir, host=host, port=port, workers=workers, app_name="basic-auth", env=env)


@contextmanager
def running_workshop(
    data_dir: Path,
    *,
    backend: str = "postgres",
    database_uri: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = 5000,
    workers: int = 1,
    pg_port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[RunningServer]:
    """The workshop server, running inside the block, stopped after it (with the course's PostgreSQL, if started).

    `backend` "postgres" uses `database_uri` (an existing PostgreSQL) or, without one, a cluster of the course's
    own in `<data_dir>/postgres`; "sqlite" is the small-room variant (`<data_dir>/mlflow.db`).
    """
    check_secrets(os.environ if env is None else env)
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    cluster = None
    if backend == "sqlite":
        backend_uri, auth_uri = f"sqlite:///{data_dir / 'mlflow.db'}", f"sqlite:///{data_dir / 'basic_auth.db'}"
    elif backend != "postgres":
        raise WorkshopConfigError(f"backend must be 'postgres' or 'sqlite', got {backend!r}")
    elif database_uri:
        if not database_uri.startswith("postgresql+psycopg2://"):
            raise WorkshopConfigError("the database URI must start with postgresql+psycopg2:// (the pinned driver)")
        backend_uri = auth_uri = database_uri
    else:
        cluster = start_cluster(data_dir / "postgres", pg_port)
        backend_uri = auth_uri = cluster.create_database(DATABASE_NAME)
    server = None
    try:
        server = start_server(
            backend_uri, data_dir, auth_database_uri=auth_uri, host=host, port=port, workers=workers, env=env
        )
        yield server
    finally:
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_tools.workshop.server", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres", help="the tracking store")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4, help="server processes (1 starts fastest)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="artifacts, log, own PostgreSQL")
    parser.add_argument(
        "--database-uri", default=os.environ.get(DATABASE_URI_ENV), help=f"existing PostgreSQL (or ${DATABASE_URI_ENV})"
    )
    parser.add_argument("--pg-port", type=int, default=None, help="port of the course's own PostgreSQL (free one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops the server and PostgreSQL cleanly too
    options = {"backend": args.backend, "database_uri": args.database_uri, "host": args.host, "port": args.port}
    try:
        with running_workshop(args.data_dir, workers=args.workers, pg_port=args.pg_port, **options) as server:
            print(
                f"Workshop server ({args.backend}) at {attendee_uri(args.host, args.port)}; admin user "
                f"{ADMIN_USERNAME!r} (password: ${ADMIN_PASSWORD_ENV}); log: {server.log_path}\n"
                "Add attendees: make roster ROSTER=attendees.csv. Ctrl-C stops the server.",
                flush=True,
            )
            return server.process.wait()
    except (WorkshopConfigError, PostgresError, ServerStartError) as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
