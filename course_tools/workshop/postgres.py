"""A PostgreSQL cluster of the course's own, in a folder: initdb once, then pg_ctl start/stop on 127.0.0.1.

Used by `make server` (a persistent cluster in the workshop data folder) and by the tests (a throwaway one).
Run as root, the PostgreSQL programs run as the `postgres` user (`runuser -u postgres --`), as they must.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor
from psycopg2.extensions import encrypt_password
from sqlalchemy.engine import URL

from course_tools.workshop.network import LOOPBACK, free_port

#: The database user the cluster is created with (`initdb -U`).
SUPERUSER = "postgres"
DEBIAN_LIB_DIR = Path("/usr/lib/postgresql")
#: pg_hba.conf, written at every start: the superuser without a password from this machine only (the MLflow server
#: beside it), never from elsewhere; every other role with its password, from anywhere `listen_addresses` allows,
#: to the database of its own name only.
HBA_RULES = f"""\
local all {SUPERUSER} trust
host all {SUPERUSER} 127.0.0.1/32 trust
host all {SUPERUSER} ::1/128 trust
host all {SUPERUSER} all reject
host sameuser all all scram-sha-256
"""


class PostgresError(RuntimeError):
    """PostgreSQL is missing, or the cluster cannot be created, started or reached."""


def postgres_bin_dir() -> Path:
    """Folder of `initdb` and `pg_ctl`: Debian's newest `/usr/lib/postgresql/<v>/bin`, else the PATH."""
    found = sorted(DEBIAN_LIB_DIR.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise PostgresError(
            "PostgreSQL's initdb was not found. On Debian/Ubuntu: sudo apt-get install postgresql; "
            "or point the server at an existing PostgreSQL with --database-uri."
        )
    return Path(initdb).parent


def _as_owner() -> list[str]:
    """The command prefix that runs a PostgreSQL program as a non-root user (it refuses to run as root)."""
    return ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []


def _run(command: list[str], what: str) -> None:
    result = subprocess.run([*_as_owner(), *command], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PostgresError(f"{what} failed: {(result.stderr or result.stdout).strip()[-1500:]}")


@dataclass
class PostgresCluster:
    """A cluster whose files live in `root` (data/, a socket folder, pg_hba.conf and postgres.log) and listens on
    `port` of `listen_addresses` (PostgreSQL's syntax: "127.0.0.1,10.0.0.5", "*")."""

    root: Path
    port: int
    listen_addresses: str = LOOPBACK

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def uri(self, database: str, user: str = SUPERUSER, password: str | None = None, host: str = LOOPBACK) -> str:
        """SQLAlchemy URI of `database` (psycopg2 driver; a bare `postgresql://` means psycopg 3), password escaped."""
        url = URL.create("postgresql+psycopg2", user, password, host, self.port, database)
        return url.render_as_string(hide_password=False)

    @contextmanager
    def _superuser(self) -> Iterator[Cursor]:
        """A cursor of the superuser on the `postgres` database, in autocommit (CREATE DATABASE needs it)."""
        with closing(psycopg2.connect(host=LOOPBACK, port=self.port, user=SUPERUSER, dbname="postgres")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                yield cursor

    def create_database(self, name: str, owner: str = SUPERUSER) -> str:
        """Create `name`, owned by `owner`, unless it exists; return its URI (as the superuser)."""
        with self._superuser() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                statement = sql.SQL("CREATE DATABASE {} OWNER {}")
                cursor.execute(statement.format(sql.Identifier(name), sql.Identifier(owner)))
        return self.uri(name)

    def create_role(self, name: str, password: str) -> None:
        """Create the login role `name` with `password`, or give an existing one that password.

        The server receives the password's SCRAM verifier (libpq's PQencryptPasswordConn), never the password.
        Under `HBA_RULES` the role reaches only the database called `name`.
        """
        with self._superuser() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
            verb = "CREATE" if cursor.fetchone() is None else "ALTER"
            statement = sql.SQL("{} ROLE {} LOGIN PASSWORD %s").format(sql.SQL(verb), sql.Identifier(name))
            cursor.execute(statement, (encrypt_password(password, name, cursor),))

    def start(self, timeout: int = 30) -> None:
        """Create the cluster on first use, then start it (with `HBA_RULES`) and wait until it accepts connections."""
        self._prepare_root()
        bin_dir = postgres_bin_dir()
        if not (self.data_dir / "PG_VERSION").is_file():
            # the pg_hba.conf initdb writes is not used: `hba_file` below points at HBA_RULES
            _run(
                [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"],
                "initdb",
            )
        hba_file = self.root / "pg_hba.conf"
        hba_file.write_text(HBA_RULES)
        settings = ["-c", f"listen_addresses={self.listen_addresses}", "-c", f"hba_file={hba_file}"]
        options = shlex.join([*settings, "-p", str(self.port), "-k", str(self.root / "run")])
        pg_ctl = [str(bin_dir / "pg_ctl"), "start", "-w", "-t", str(timeout), "-D", str(self.data_dir)]
        _run([*pg_ctl, "-l", str(self.log_path), "-o", options], f"starting PostgreSQL (log: {self.log_path})")

    def stop(self) -> None:
        """Stop the cluster (fast shutdown: open sessions are closed, committed data is kept)."""
        _run([str(postgres_bin_dir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)], "pg_ctl stop")

    def _prepare_root(self) -> None:
        """Create `root` (and its socket folder) owned by the user PostgreSQL runs as, and check it can reach it."""
        (self.root / "run").mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for path in (self.root, self.root / "run"):
                shutil.chown(path, SUPERUSER, SUPERUSER)
            check = subprocess.run([*_as_owner(), "test", "-w", str(self.root)], check=False)
            if check.returncode != 0:
                raise PostgresError(
                    f"The {SUPERUSER!r} user cannot write to {self.root} (a parent folder is private?): "
                    "choose a data folder it can reach, e.g. --data-dir /var/tmp/mlflow-workshop."
                )


def start_cluster(root: Path, port: int | None = None, listen_addresses: str = LOOPBACK) -> PostgresCluster:
    """Start (creating on first use) the cluster in `root` on `port` (a free one by default) of `listen_addresses`."""
    cluster = PostgresCluster(Path(root).resolve(), port or free_port(), listen_addresses)
    cluster.start()
    return cluster
