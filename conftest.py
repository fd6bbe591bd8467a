"""For every pytest run, `pytest notebooks/NN.ipynb` (nbval alone) included: kernels and tests track to temporary
stores, never to the course store or a tracking server; nbval's cells keep their notebook order in a shuffled run;
and no test leaves a file in the checkout."""

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tutorial_utils.paths import STORE_DIR_ENV
from tutorial_utils.tracking import quiet_mlflow


def pytest_configure(config: pytest.Config) -> None:
    """Before any kernel starts (nbval's too): a session store in a temp folder, no tracking server."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ[STORE_DIR_ENV] = tempfile.mkdtemp(prefix="course-test-store-")
    # the course's 3 s per request suits one learner's calls; the suite runs servers, kernels and workers on 2 cores
    # at once, where an answer can take longer: tests wait as long as MLflow would (the network tests set their own)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")
    quiet_mlflow()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """pytest-randomly shuffles every test, nbval's notebook cells too: put the cells back, notebook by notebook and
    in their order, after the other tests (a notebook's cells share one kernel and build on each other)."""
    from nbval.plugin import IPyNbCell

    cells = [item for item in items if isinstance(item, IPyNbCell)]
    if cells:
        others = [item for item in items if not isinstance(item, IPyNbCell)]
        items[:] = others + sorted(cells, key=lambda cell: (str(cell.path), cell.cell_num))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each notebook's nbval kernel tracks to a fresh store of its own, as `make render` ran it (07 reuses 04's model
    when the store has one), and no tracking URI or experiment id that a fixture's run of the course's machinery
    (the benchmarks, a server test) left in this process reaches it."""
    from nbval.plugin import IPyNbCell

    if isinstance(item, IPyNbCell):
        for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID"):
            os.environ.pop(name, None)
        if item.parent.kernel is None:  # the notebook's kernel starts right after this hook
            os.environ[STORE_DIR_ENV] = tempfile.mkdtemp(prefix="course-nbval-store-")


#: What tests and tools may leave in the checkout: the environment and caches.
LEFT_BEHIND_OK = (".venv/", ".pytest_cache/", ".ruff_cache/", "__pycache__/", ".ipynb_checkpoints/")


def _checkout_files(root: Path) -> set[str]:
    """Untracked and ignored files and folders of the git checkout at `root` (empty outside git)."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    entries = {line[3:] for line in done.stdout.splitlines()}
    return {entry for entry in entries if not any(f"/{folder}" in f"/{entry}" for folder in LEFT_BEHIND_OK)}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_FILES_BEFORE] = _checkout_files(session.config.rootpath)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Hermetic tests: a file that appeared in the checkout during the run fails it, by name."""
    new = sorted(_checkout_files(session.config.rootpath) - session.config.stash[_FILES_BEFORE])
    if new:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nFAILED: the tests wrote into the checkout (write to tmp_path instead): {new[:20]}")


_FILES_BEFORE = pytest.StashKey[set]()
