"""Feedback on the lessons and the exercises, read from the tracking store in force.

`lesson_status` says whether a notebook's lesson has run; `exercise_verdict` says of an exercise "done", "not yet"
or "not right yet", with one sentence on what is missing and never the solution. An exercise that leaves runs is
judged by its runs, whatever the learner named them. An exercise whose answer is a value is judged in the notebook
by `check_answer`, which records its verdict on the notebook's experiment as a tag (`VERDICT_TAG`), so that
`make check` reads every verdict from the store. The check cells of run-judged exercises (`check_exercise`) record
theirs too, so that a view of a whole room can read every attendee's verdicts from the experiments alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
from mlflow.entities import Experiment, Run
from mlflow.tracking import MlflowClient

from tutorial_utils.data import linear_features, load_splits, log_price
from tutorial_utils.metrics import rmse
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

    def children(self, experiment: str, parent: Run) -> list[Run]:
        """The child runs of `parent`, oldest first."""
        if experiment not in self._children:
            index: dict[str, list[Run]] = {}
            for run in self.runs(experiment):
                index.setdefault(run.data.tags.get(PARENT_TAG, ""), []).append(run)
            self._children[experiment] = index
        return self._children[experiment].get(parent.info.run_id, [])


def lesson_state(newest: Mapping[str, str | None]) -> str | None:
    """A lesson's state from the status of the newest run of each of its names (None for a name with no run):
    DONE when all are FINISHED, "failed" when one is FAILED or KILLED, "running" when one is RUNNING or missing,
    None before any run."""
    statuses = {status for status in newest.values() if status}
    if not statuses:
        return None
    if statuses & {"FAILED", "KILLED"}:
        return "failed"
    return DONE if statuses == {"FINISHED"} and all(newest.values()) else "running"


def lesson_status(store: StoreView, notebook: str) -> str:
    """`lesson_state` in words: DONE, "not run yet", or what is not finished ("'catboost-optuna' is RUNNING")."""
    lesson = LESSONS[notebook]
    newest = {name: store.newest(lesson.experiment, name) for name in lesson.runs}
    state = lesson_state({name: run.info.status if run else None for name, run in newest.items()})
    if state in (None, DONE):
        return "not run yet" if state is None else DONE
    missing = [name for name, run in newest.items() if run is None]
    if missing:
        return f"not finished: no run {missing[0]!r} yet"
    name, run = next((name, run) for name, run in newest.items() if run.info.status != "FINISHED")
    return f"not finished: {name!r} is {run.info.status}"


# ---- exercises judged by their runs ----------------------------------------------------------------------------


def _00_2(store: StoreView) -> Verdict:
    baselines = [store.newest("diamonds-price", name) for name in LESSONS["00"].runs]
    if not all(baselines):
        return Verdict("00.2", NOT_YET, "Run the lesson first: the exercise tags its baseline runs.")
    stages = [run.data.tags.get("stage") for run in baselines]
    if stages == [None, None]:
        return Verdict("00.2", NOT_YET)
    if stages == ["baseline", "baseline"]:
        return Verdict("00.2", DONE)
    return Verdict("00.2", NOT_RIGHT, "Both baseline runs of the last execution need the tag `stage` = 'baseline'.")


def _01_1(store: StoreView) -> Verdict:
    runs = store.runs("parent-child-runs")
    parents = [r for r in runs if any("l2_leaf_reg" in c.data.params for c in store.children("parent-child-runs", r))]
    if not parents:
        return Verdict("01.1", NOT_YET)
    parent = parents[-1]
    children = store.children("parent-child-runs", parent)
    values = {float(c.data.params["l2_leaf_reg"]) for c in children if "l2_leaf_reg" in c.data.params}
    if values != {1.0, 10.0, 30.0}:
        return Verdict("01.1", NOT_RIGHT, "The family needs one child per l2_leaf_reg: 1, 10 and 30, and no other.")
    if not all("val_rmse" in c.data.metrics for c in children):
        return Verdict("01.1", NOT_RIGHT, "Every child of the family needs its `val_rmse` metric.")
    if "depth" not in parent.data.params or "l2_leaf_reg" in parent.data.params:
        return Verdict("01.1", NOT_RIGHT, "The parent holds what its children share (the depth); each child its own.")
    return Verdict("01.1", DONE)


def _01_2(store: StoreView) -> Verdict:
    parent_of = {r.info.run_id: r.data.tags.get(PARENT_TAG) for r in store.runs("parent-child-runs")}
    three_levels = any(parent_of.get(parent) for parent in parent_of.values() if parent)
    return Verdict("01.2", DONE if three_levels else NOT_YET)


RUN_CHECKS: dict[str, Callable[[StoreView], Verdict]] = {"00.2": _00_2, "01.1": _01_1, "01.2": _01_2}


# ---- exercises judged by the answer the learner gives to `check_answer` ----------------------------------------

LASSO_MAX_ITER = 10_000  # notebook 00's


def _grid_children(store: StoreView) -> list[Run]:
    parent = store.newest("diamonds-price", "lasso-alpha-grid")
    if parent is None:
        raise LookupError("Run notebook 02's lesson first: the answer is checked against its grid.")
    return store.children("diamonds-price", parent)


def _child_models(store: StoreView, children: list[Run]) -> dict[float, Any]:
    """Each grid child's model by its alpha, loaded from the logged-model store."""
    ids = ", ".join(f"'{c.info.run_id}'" for c in children)
    models = store.client.search_logged_models([children[0].info.experiment_id], f"source_run_id IN ({ids})")
    alpha = {c.info.run_id: float(c.data.params["alpha"]) for c in children}
    return {alpha[m.source_run_id]: mlflow.sklearn.load_model(m.model_uri) for m in models}


def _same_number(answer: Any, truth: float, tolerance: float = 1e-9) -> bool:
    try:
        return abs(float(answer) - truth) <= tolerance
    except (TypeError, ValueError):
        return False


def _00_1(store: StoreView, answer: Any) -> Verdict:
    from sklearn.linear_model import Lasso
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = load_splits().train
    model = make_pipeline(StandardScaler(), Lasso(alpha=0.1, max_iter=LASSO_MAX_ITER))
    kept = int((model.fit(linear_features(train), log_price(train))[-1].coef_ != 0).sum())
    if _same_number(answer, kept):
        return Verdict("00.1", DONE)
    return Verdict("00.1", NOT_RIGHT, "Count the non-zero entries of the fitted Lasso's `coef_` at alpha 0.1.")


def _00_3(store: StoreView, answer: Any) -> Verdict:
    run = store.newest("diamonds-price", "baseline-catboost")
    if run is None:
        raise LookupError("Run notebook 00's lesson first: the answer is checked against its CatBoost baseline.")
    (logged,) = store.client.search_logged_models([run.info.experiment_id], f"source_run_id = '{run.info.run_id}'")
    importances = mlflow.catboost.load_model(logged.model_uri).get_feature_importance(prettified=True)
    if _names(answer) == set(importances["Feature Id"].head(3)):
        return Verdict("00.3", DONE)
    return Verdict("00.3", NOT_RIGHT, "Give the three features with the largest importances of the native model.")


def _names(answer: Any) -> set[str] | None:
    if isinstance(answer, str) or not isinstance(answer, Collection):
        return None
    return {str(name) for name in answer}


def _01_3(store: StoreView, answer: Any) -> Verdict:
    sweep = store.newest("parent-child-runs", "lasso-sweep")
    if sweep is None:
        raise LookupError("Run notebook 01's lesson first: the answer is checked against its sweep.")
    metrics = [c.data.metrics for c in store.children("parent-child-runs", sweep)]
    best = min(m["val_rmse"] for m in metrics)
    fewest = min(m["n_features"] for m in metrics if m["val_rmse"] <= best + 0.02)
    if _same_number(answer, fewest):
        return Verdict("01.3", DONE)
    return Verdict("01.3", NOT_RIGHT, "Give the fewest `n_features` among the children within 0.02 of the best.")


def _02_1(store: StoreView, answer: Any) -> Verdict:
    children = [c for c in _grid_children(store) if c.data.metrics.get("n_nonzero_coefs", 0) > 0]
    sparsest = min(children, key=lambda c: c.data.metrics["n_nonzero_coefs"])
    model = _child_models(store, [sparsest])[float(sparsest.data.params["alpha"])]
    kept = {name for name, coef in zip(model.feature_names_in_, model[-1].coef_, strict=True) if coef != 0}
    if _names(answer) == kept:
        return Verdict("02.1", DONE)
    return Verdict("02.1", NOT_RIGHT, "Give the features whose coefficient is not zero in the sparsest child's model.")


def _02_2(store: StoreView, answer: Any) -> Verdict:
    children = _grid_children(store)
    best = min(c.data.metrics["val_rmse"] for c in children)
    wrong = []
    for tolerance in (0.005, 0.05):
        near = [c for c in children if c.data.metrics["val_rmse"] <= best + tolerance]
        sparsest = min(near, key=lambda c: (c.data.metrics["n_nonzero_coefs"], c.data.metrics["val_rmse"]))
        given = answer.get(tolerance) if isinstance(answer, Mapping) else None
        if not _same_number(given, float(sparsest.data.params["alpha"])):
            wrong.append(str(tolerance))
    if not wrong:
        return Verdict("02.2", DONE)
    return Verdict("02.2", NOT_RIGHT, f"The alpha for {' and '.join(wrong)} is not the sparsest child within it.")


def _02_3(store: StoreView, answer: Any) -> Verdict:
    test = load_splits().test
    features, target = linear_features(test), log_price(test)
    scores = {
        alpha: rmse(target, np.asarray(model.predict(features)))
        for alpha, model in _child_models(store, _grid_children(store)).items()
    }
    try:
        given = {float(alpha): value for alpha, value in answer.items()}
    except (AttributeError, TypeError, ValueError):
        given = {}
    if set(given) == set(scores) and all(_same_number(given[alpha], scores[alpha], 1e-4) for alpha in scores):
        return Verdict("02.3", DONE)
    return Verdict("02.3", NOT_RIGHT, "Give every child's test_rmse by its alpha, each model scored on the test split.")


ANSWER_CHECKS: dict[str, Callable[[StoreView, Any], Verdict]] = {
    "00.1": _00_1,
    "00.3": _00_3,
    "01.3": _01_3,
    "02.1": _02_1,
    "02.2": _02_2,
    "02.3": _02_3,
}


def _experiment_of(exercise: str) -> str:
    return LESSONS[exercise.split(".")[0]].experiment


def exercises(notebook: str | None = None) -> list[str]:
    """The exercises that have a check ("02.1", ...), in order; those of one notebook ("02") if given."""
    found = sorted({*RUN_CHECKS, *ANSWER_CHECKS})
    return [e for e in found if notebook is None or e.startswith(f"{notebook}.")]


def exercise_verdict(store: StoreView, exercise: str) -> Verdict:
    """The exercise's verdict from the store: its runs, or the verdict `check_answer` recorded."""
    if exercise in RUN_CHECKS:
        return RUN_CHECKS[exercise](store)
    if exercise not in ANSWER_CHECKS:
        raise KeyError(f"no check for exercise {exercise!r}; there are: {', '.join(exercises())}")
    experiment = store.experiment(_experiment_of(exercise))
    recorded = experiment.tags.get(VERDICT_TAG.format(exercise=exercise)) if experiment else None
    if recorded is None:
        return Verdict(exercise, NOT_YET)
    status, _, hint = recorded.partition(". ")
    return Verdict(exercise, status, hint)


def check_answer(exercise: str, answer: Any) -> None:
    """Judge the answer to an exercise whose answer is a value, print the verdict, and record it on the notebook's
    experiment for `make check`. `None` (no answer yet) is "not yet" and records nothing."""
    store = StoreView()
    if exercise not in ANSWER_CHECKS:
        raise KeyError(f"exercise {exercise!r} has no answer to check; those that do: {', '.join(ANSWER_CHECKS)}")
    if answer is None:
        print(Verdict(exercise, NOT_YET))
        return
    try:
        verdict = ANSWER_CHECKS[exercise](store, answer)
    except LookupError as missing:
        print(f"Exercise {exercise}: cannot be checked yet. {missing}")
        return
    _record(store, verdict)
    print(verdict)


def check_exercise(exercise: str) -> None:
    """Print the verdict of an exercise judged by its runs, as `make check` gives it, and record it on the
    notebook's experiment too, where the instructor's view of the room reads every verdict."""
    store = StoreView()
    verdict = exercise_verdict(store, exercise)
    if verdict.status != NOT_YET:
        _record(store, verdict)
    print(verdict)


def _record(store: StoreView, verdict: Verdict) -> None:
    """The verdict as a tag of the notebook's experiment ("done", or "not right yet. <hint>")."""
    experiment = store.experiment(_experiment_of(verdict.exercise))
    if experiment is not None:
        text = verdict.status + (f". {verdict.hint}" if verdict.hint else "")
        store.client.set_experiment_tag(experiment.experiment_id, VERDICT_TAG.format(exercise=verdict.exercise), text)
