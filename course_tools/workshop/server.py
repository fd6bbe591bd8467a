"""The workshop tracking server: `mlflow server` with basic auth, served artifacts and a PostgreSQL (or SQLite) store.

Usage: python -m course_tools.workshop.server [--backend postgres|sqlite] [--host 127.0.0.1] [--port 5000]
                                                [--data-dir workshop_data] [--database-uri postgresql+psycopg2://...]

The admin password and the Flask secret key come from the environment (`MLFLOW_AUTH_ADMIN_PASSWORD`,
`MLFLOW_FLASK_SERVER_SECRET_KEY`), never from a file. An existing PostgreSQL's password comes in
`$WORKSHOP_DATABASE_URI`, and reaches `mlflow server` as libpq's `PGPASSWORD`: in no file, on no command line.
Without a database URI, the postgres backend is a cluster of the course's own in `<data-dir>/postgres`, started
and stopped with the server, with a database and a role of Optuna's own for notebook 06's shared study (its
storage URL in `<data-dir>/optuna_storage_url`, mode 0600).
"""

from __future__ import annotations

import argparse
import configparser
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from course_tools.workshop.mlflow_server import RunningServer, ServerStartError, launch
from course_tools.workshop.network import LOOPBACK
from course_tools.workshop.postgres import PostgresCluster, PostgresError, start_cluster
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
#: libpq's password variable: how an existing PostgreSQL's password reaches `mlflow server` (Linux shows a process's
#: environment to its owner only, its command line to everyone)
PASSWORD_ENV = "PGPASSWORD"
#: The Optuna storage's database and the role that owns it, the only database that role reaches (postgres.HBA_RULES)
OPTUNA_NAME = "optuna"
OPTUNA_URL_FILE = "optuna_storage_url"
WILDCARD_HOSTS = ("0.0.0.0", "::")


#: The server processes `make server` starts (`--workers`' default): each has its own 60-second password cache.
WORKERS = 4


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


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path`, readable by its owner only (mode 0600, also when the file existed); returns `path`."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path


def without_password(database_uri: str) -> tuple[str, str | None]:
    """A psycopg2 database URI without its password, and the password (None if it has none)."""
    if not database_uri.startswith("postgresql+psycopg2://"):
        raise WorkshopConfigError("the database URI must start with postgresql+psycopg2:// (the pinned driver)")
    url = make_url(database_uri)
    return url._replace(password=None).render_as_string(hide_password=False), url.password  # set() ignores None


def room_address() -> str:
    """This machine's address on the network (the interface of its default route; no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def attendee_host(host: str) -> str:
    """Where attendees reach a server listening on `host` (this machine's room address when it listens everywhere)."""
    return room_address() if host in WILDCARD_HOSTS else host


def attendee_uri(host: str, port: int) -> str:
    """What attendees set as MLFLOW_TRACKING_URI.

    MLflow's host check accepts loopback and private addresses (10.*, 172.16-31.*, 192.168.*) by default; for a
    host name, list it in MLFLOW_SERVER_ALLOWED_HOSTS.
    """
    return f"http://{attendee_host(host)}:{port}"


def postgres_listen_addresses(host: str) -> str:
    """Where the course's PostgreSQL listens: loopback for the MLflow server, and `host` for attendees' Optuna."""
    if host in WILDCARD_HOSTS:
        return "*"
    return LOOPBACK if host == LOOPBACK else f"{LOOPBACK},{host}"


def create_optuna_storage(cluster: PostgresCluster, host: str, path: Path) -> Path:
    """Give Optuna its own database and role, and write the storage URL attendees use to `path` (mode 0600).

    The role keeps the password of an earlier start (read back from `path`): with the same `--pg-port`, the URL
    handed out stays valid across restarts.
    """
    password = (make_url(path.read_text().strip()).password if path.is_file() else None) or secrets.token_urlsafe(18)
    cluster.create_role(OPTUNA_NAME, password)
    cluster.create_database(OPTUNA_NAME, owner=OPTUNA_NAME)
    url = cluster.uri(OPTUNA_NAME, user=OPTUNA_NAME, password=password, host=attendee_host(host))
    return write_private(path, url + "\n")


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


@dataclass(frozen=True)
class Workshop:
    """A running workshop server, and the file holding its Optuna storage URL (None but on the course's PostgreSQL)."""

    server: RunningServer
    optuna_storage: Path | None


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
) -> Iterator[Workshop]:
    """The workshop server, running inside the block, stopped after it (with the course's PostgreSQL, if started).

    `backend` "postgres" uses `database_uri` (an existing PostgreSQL; its password goes to the server as
    `PGPASSWORD`) or, without one, a cluster of the course's own in `<data_dir>/postgres`, with Optuna's database
    (`create_optuna_storage`); "sqlite" is the small-room variant (`<data_dir>/mlflow.db`).
    """
    env = dict(os.environ if env is None else env)
    check_secrets(env)
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    cluster: PostgresCluster | None = None
    optuna_storage: Path | None = None
    if backend == "sqlite":
        backend_uri, auth_uri = f"sqlite:///{data_dir / 'mlflow.db'}", f"sqlite:///{data_dir / 'basic_auth.db'}"
    elif backend != "postgres":
        raise WorkshopConfigError(f"backend must be 'postgres' or 'sqlite', got {backend!r}")
    elif database_uri:
        backend_uri, password = without_password(database_uri)
        auth_uri = backend_uri
        if password:
            env[PASSWORD_ENV] = password
    else:
        cluster = start_cluster(data_dir / "postgres", pg_port, postgres_listen_addresses(host))
    server = None
    try:
        if cluster is not None:
            backend_uri = auth_uri = cluster.create_database(DATABASE_NAME)
            optuna_storage = create_optuna_storage(cluster, host, data_dir / OPTUNA_URL_FILE)
        server = start_server(
            backend_uri, data_dir, auth_database_uri=auth_uri, host=host, port=port, workers=workers, env=env
        )
        yield Workshop(server, optuna_storage)
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
    parser.add_argument("--workers", type=int, default=WORKERS, help="server processes (1 starts fastest)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="artifacts, log, own PostgreSQL")
    parser.add_argument(
        "--database-uri",
        help=f"existing PostgreSQL, no password here (default: ${DATABASE_URI_ENV}, which may have one)",
    )
    parser.add_argument("--pg-port", type=int, default=None, help="port of the course's own PostgreSQL (free one)")
    return parser


def startup_message(backend: str, uri: str, log_path: Path, optuna_storage: Path | None) -> str:
    """What `make server` prints: where attendees connect, where the secrets are (never the secrets themselves)."""
    lines = [
        f"Workshop server ({backend}) at {uri}; admin user {ADMIN_USERNAME!r} (password: ${ADMIN_PASSWORD_ENV}); "
        f"log: {log_path}"
    ]
    if optuna_storage is not None:
        lines.append(f"Optuna storage for notebook 06 (STORAGE_URL, with its password): {optuna_storage}")
    lines.append("Add attendees: make roster ROSTER=attendees.csv. Ctrl-C stops the server.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops the server and PostgreSQL cleanly too
    database_uri = args.database_uri or os.environ.get(DATABASE_URI_ENV)
    options = {"backend": args.backend, "database_uri": database_uri, "host": args.host, "port": args.port}
    try:
        if args.database_uri and without_password(args.database_uri)[1]:
            raise WorkshopConfigError(
                f"--database-uri has a password, which every user of this machine can read on the command line "
                f"(ps): pass the URI in ${DATABASE_URI_ENV} instead."
            )
        with running_workshop(args.data_dir, workers=args.workers, pg_port=args.pg_port, **options) as workshop:
            server = workshop.server
            uri = attendee_uri(args.host, args.port)
            print(startup_message(args.backend, uri, server.log_path, workshop.optuna_storage), flush=True)
            return server.process.wait()
    except (WorkshopConfigError, PostgresError, ServerStartError) as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
