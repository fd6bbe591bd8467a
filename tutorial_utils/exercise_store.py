"""What the exercise checks share: a verdict, the lessons' experiments and runs, and a cached view of the store.

`StoreView` reads each experiment's runs once, so that a report on every exercise costs one query per experiment.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from mlflow.entities import Experiment, Run
from mlflow.tracking import MlflowClient

from tutorial_utils.runs import search_all_runs
from tutorial_utils.tracking import experiment_name_for

DONE, NOT_YET, NOT_RIGHT = "done", "not yet", "not right yet"
#: The experiment tag that holds the verdict of an exercise checked by `check_answer`.
VERDICT_TAG = "course.exercise.{exercise}"
PARENT_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class Verdict:
    """An exercise's state: DONE, NOT_YET or NOT_RIGHT, with one sentence on what is missing when not right."""

    exercise: str
    status: str
    hint: str = ""

    def __str__(self) -> str:
        return f"Exercise {self.exercise}: {self.status}." + (f" {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class Lesson:
    """A notebook's lesson: the experiment it logs to and the runs it leaves FINISHED (their names)."""

    notebook: str
    experiment: str
    runs: tuple[str, ...]


LESSONS = {
    lesson.notebook: lesson
    for lesson in (
        Lesson("00", "diamonds-price", ("baseline-lasso", "baseline-catboost")),
        Lesson("01", "parent-child-runs", ("lasso", "catboost", "lasso-sweep")),
        Lesson("02", "diamonds-price", ("lasso-alpha-grid",)),
        Lesson("03", "search-strategies", ("summary",)),
        Lesson("04", "diamonds-price", ("catboost-optuna",)),
        Lesson("05", "diamonds-price", ("lasso-signature-artifacts",)),
        Lesson("06", "parallel-tuning", ("parallel-study",)),
        Lesson("07", "diamonds-price", ("champion-decision",)),
    )
}


class StoreView:
    """What the checks read: the runs of the learner's course experiments in the store in force, each read once.

    On a shared server the experiments are the learner's own, "<username>/<name>" (`MLFLOW_TRACKING_USERNAME`).
    """

    def __init__(self, client: MlflowClient | None = None, username: str | None = None) -> None:
        self.client = client or MlflowClient()
        self.username = username
        self._experiments: dict[str, Experiment | None] = {}
        self._runs: dict[str, list[Run]] = {}
        self._children: dict[str, dict[str, list[Run]]] = {}

    def experiment(self, name: str) -> Experiment | None:
        """The learner's experiment `name`, or None when it does not exist yet."""
        if name not in self._experiments:
            self._experiments[name] = self.client.get_experiment_by_name(experiment_name_for(name, self.username))
        return self._experiments[name]

    def runs(self, name: str) -> list[Run]:
        """Every run of the experiment `name`, oldest first; none when it does not exist."""
        if name not in self._runs:
            experiment = self.experiment(name)
            self._runs[name] = [] if experiment is None else search_all_runs(self.client, [experiment.experiment_id])
        return self._runs[name]

    def newest(self, experiment: str, run_name: str) -> Run | None:
        """The newest top-level run called `run_name`."""
        named = [r for r in self.runs(experiment) if r.info.run_name == run_name and PARENT_TAG not in r.data.tags]
        return named[-1] if named else None

    def lesson_run(self, experiment: str, run_name: str, notebook: str, checked_against: str) -> Run:
        """The newest top-level run `run_name` that an answer is checked against; LookupError, which says so, when
        notebook `notebook`'s lesson has not run yet."""
        run = self.newest(experiment, run_name)
        if run is None:
            raise LookupError(
                f"Run notebook {notebook}'s lesson first: the answer is checked against {checked_against}."
            )
        return run

    def children(self, experiment: str, parent: Run) -> list[Run]:
        """The child runs of `parent`, oldest first."""
        if experiment not in self._children:
            index: dict[str, list[Run]] = {}
            for run in self.runs(experiment):
                index.setdefault(run.data.tags.get(PARENT_TAG, ""), []).append(run)
            self._children[experiment] = index
        return self._children[experiment].get(parent.info.run_id, [])


def same_number(answer: Any, truth: float, tolerance: float = 1e-9) -> bool:
    """Whether `answer` is a number within `tolerance` of `truth`."""
    try:
        return abs(float(answer) - truth) <= tolerance
    except (TypeError, ValueError):
        return False


def as_dict(answer: Any) -> dict[Any, Any]:
    """A mapping answer (a dict, a pandas Series) as a dict; anything else as an empty one."""
    try:
        return dict(answer.items())
    except (AttributeError, TypeError, ValueError):
        return {}


def names(answer: Any) -> set[str] | None:
    """The answer as a set of names, or None when it is not a collection of them (a string is one name, not many)."""
    if isinstance(answer, str) or not isinstance(answer, Collection):
        return None
    return {str(name) for name in answer}
