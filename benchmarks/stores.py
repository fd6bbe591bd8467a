"""The tracking stores the benchmarks compare: a fresh embedded SQLite store, a local server, or any server URI.

The PostgreSQL variants plug in here: pass a database URI (`postgresql+psycopg2://...`) to `store_under_test`,
your own or one of `course_postgres`, a throw-away cluster of the course's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from course_tools.workshop.mlflow_server import local_server
from course_tools.workshop.postgres import start_cluster
from tutorial_utils.tracking import ensure_store, get_or_create_experiment, quiet_mlflow

STORE_KINDS = ["embedded-sqlite", "server-sqlite", "postgresql", "server-postgresql"]


def sqlite_uri(folder: Path) -> str:
    """A SQLite store URI for `folder/mlflow.db`."""
    return f"sqlite:///{folder.resolve() / 'mlflow.db'}"


@contextmanager
def store_under_test(kind: str, workdir: Path, postgres_uri: str | None = None) -> Iterator[str]:
    """The tracking URI of one kind of store, set up in `workdir` and torn down afterwards.

    `embedded-sqlite`: the course's default; `server-sqlite`: a local `mlflow server` on SQLite;
    `postgresql`: the client straight on `postgres_uri` (a `postgresql+psycopg2://` database someone else runs);
    `server-postgresql`: a local server on `postgres_uri`.
    """
    if kind in ("postgresql", "server-postgresql") and not postgres_uri:
        raise ValueError(f"{kind} needs a backend URI: --postgres-uri postgresql+psycopg2://...")
    if kind == "embedded-sqlite":
        ensure_store(sqlite_uri(workdir))  # created once, before anything times it
        yield sqlite_uri(workdir)
    elif kind == "server-sqlite":
        with local_server(sqlite_uri(workdir), workdir) as uri:
            yield uri
    elif kind == "postgresql":
        yield postgres_uri
    elif kind == "server-postgresql":
        with local_server(postgres_uri, workdir) as uri:
            yield uri
    else:
        raise ValueError(f"unknown store kind {kind!r}; have {STORE_KINDS}")


@contextmanager
def course_postgres(root: Path) -> Iterator[str]:
    """The URI of a fresh database on a throw-away PostgreSQL cluster in `root`, stopped afterwards.

    `course_tools.workshop.postgres` creates the cluster; run as root, `root`'s parent must be reachable by the
    `postgres` user. Raises `course_tools.workshop.postgres.PostgresError` when PostgreSQL is missing or cannot start.
    """
    cluster = start_cluster(root)
    try:
        yield cluster.create_database("bench")
    finally:
        cluster.stop()


def activate(tracking_uri: str, experiment_name: str) -> str:
    """Point MLflow at `tracking_uri` (quietly), activate `experiment_name` there, return its id."""
    quiet_mlflow()
    mlflow.set_tracking_uri(tracking_uri)
    experiment = get_or_create_experiment(MlflowClient(tracking_uri), experiment_name)
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    return experiment.experiment_id
