"""Executing a course notebook headlessly on its own temporary store, and reading what it left behind."""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from mlflow.entities import Experiment, LoggedModel, Run
from mlflow.tracking import MlflowClient

from course_tools.headline import headline_of, read_headline
from course_tools.notebooks import execute_notebook, read_parameters, small_budget
from course_tools.paths import store_environment
from tutorial_utils.runs import search_all_runs

SANITIZE_FILE = Path(__file__).with_name("nbval_sanitize.cfg")
IGNORE_OUTPUT_TAG = "nbval-ignore-output"


@dataclass
class NotebookRun:
    """A notebook executed twice, at its small budget, on one temporary store."""

    path: Path
    parameters: dict[str, Any]
    executions: list[nbformat.NotebookNode]
    client: MlflowClient
    store: Path  # the folder of the local store both executions used

    def experiment(self, name: str | None = None) -> Experiment:
        """The experiment called `name` (default: the notebook's EXPERIMENT_NAME); it must be unique."""
        name = name or self.parameters["EXPERIMENT_NAME"]
        found = self.client.search_experiments(filter_string=f"name = '{name}'")
        assert len(found) == 1, f"expected one experiment {name!r}, found {len(found)}"
        return found[0]

    def logged_model(self, run_id: str) -> LoggedModel:
        """The one model a run logged (from the logged-model store); AssertionError if not exactly one."""
        models = [m for m in self.logged_models() if m.source_run_id == run_id]
        assert len(models) == 1, f"run {run_id} should have logged one model, has {len(models)}"
        return models[0]

    def logged_models(self) -> list[LoggedModel]:
        """Every model logged in the store, in any experiment, read page by page through the run's own client
        (never `mlflow.*`, whose tracking URI a test may not have set)."""
        experiment_ids = [e.experiment_id for e in self.client.search_experiments()]
        found: list[LoggedModel] = []
        token = None
        while True:
            page = self.client.search_logged_models(experiment_ids, page_token=token)
            found.extend(page)
            token = page.token
            if not token:
                return found

    def headline(self) -> str | None:
        """The `make course` headline, read from this store as the runner reads it (over both executions)."""
        headline = headline_of(nbformat.read(self.path, as_version=4))
        assert headline is not None, f"{self.path.name} names no headline in its metadata"
        return read_headline(headline, self.client, self.parameters["EXPERIMENT_NAME"], since_ms=0)

    def history(self, run_id: str, key: str, first_step: int = 0) -> list[float]:
        """A stepped metric's values in step order; AssertionError unless its steps are first_step, first_step + 1,
        ..."""
        history = sorted(self.client.get_metric_history(run_id, key), key=lambda m: m.step)
        steps = list(range(first_step, first_step + len(history)))
        assert [m.step for m in history] == steps, f"{key} is not logged once per step from {first_step}"
        return [m.value for m in history]

    def runs(self, experiment_name: str | None = None) -> list[Run]:
        """Every run of an experiment, oldest first."""
        return search_all_runs(self.client, [self.experiment(experiment_name).experiment_id])


def input_contexts(run: Run) -> set[str]:
    """The contexts (training, validation, test) with which a run recorded its dataset inputs."""
    return {t.value for d in run.inputs.dataset_inputs for t in d.tags if t.key == "mlflow.data.context"}


def running_best(values: list[float]) -> list[float]:
    """The lowest value so far, after each value."""
    return [min(values[: n + 1]) for n in range(len(values))]


def run_twice(path: Path, workdir: Path) -> NotebookRun:
    """Execute a notebook twice on one fresh store with its small budget (re-running is what learners do)."""
    overrides = small_budget(path)
    parameters = {name: p.default for name, p in read_parameters(path).items()} | overrides
    store = workdir / "store"
    with store_environment(store):
        executions = [
            execute_notebook(path, workdir / f"execution-{n}.ipynb", overrides, progress_bar=False) for n in (1, 2)
        ]
    return NotebookRun(path, parameters, executions, MlflowClient(f"sqlite:///{store / 'mlflow.db'}"), store)


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The (regex, replacement) rules of the nbval sanitize file."""
    config = configparser.ConfigParser()
    config.read(SANITIZE_FILE)
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def printed_text(notebook: nbformat.NotebookNode) -> str:
    """Everything a notebook printed (its stream outputs), joined."""
    return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _sanitized(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def _output_ignored(cell: nbformat.NotebookNode) -> bool:
    """nbval's cell tag for a cell whose output must vary (a progress bar with timings)."""
    return IGNORE_OUTPUT_TAG in cell.metadata.get("tags", [])


def text_outputs(notebook: nbformat.NotebookNode) -> list[list[str]]:
    """Each compared code cell's text outputs (streams, text/plain, errors), sanitized as nbval sanitizes them."""
    rules = sanitizers()
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or _output_ignored(cell):
            continue
        texts: list[str] = []
        previous_stream = None
        for output in cell.outputs:
            text = output.get("text") or output.get("data", {}).get("text/plain") or output.get("ename", "")
            stream = output.get("name") if output.output_type == "stream" else None
            if stream and stream == previous_stream:
                texts[-1] += text  # the kernel may split one stream into several outputs
            else:
                texts.append(text)
            previous_stream = stream
        cells.append([_sanitized(text, rules) for text in texts])
    return cells
