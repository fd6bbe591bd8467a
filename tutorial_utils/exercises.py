"""Feedback on the lessons and the exercises, read from the tracking store in force.

`lesson_status` says whether a notebook's lesson has run; `exercise_verdict` says of an exercise "done", "not yet"
or "not right yet", with one sentence on what is missing and never the solution. An exercise that leaves runs is
judged by its runs, whatever the learner named them. An exercise whose answer is a value is judged in the notebook
by `check_answer`, which records its verdict on the notebook's experiment as a tag (`VERDICT_TAG`), so that
`make check` reads every verdict from the store. The check cells of run-judged exercises (`check_exercise`) record
theirs too, so that a view of a whole room can read every attendee's verdicts from the experiments alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tutorial_utils import exercise_checks_basics, exercise_checks_models, exercise_checks_tuning
from tutorial_utils.exercise_store import (
    DONE,
    LESSONS,
    NOT_RIGHT,
    NOT_YET,
    VERDICT_TAG,
    Lesson,
    StoreView,
    Verdict,
)

__all__ = [
    "ANSWER_CHECKS",
    "DONE",
    "LESSONS",
    "NOT_RIGHT",
    "NOT_YET",
    "RUN_CHECKS",
    "VERDICT_TAG",
    "Lesson",
    "StoreView",
    "Verdict",
    "check_answer",
    "check_exercise",
    "exercise_verdict",
    "exercises",
    "lesson_state",
    "lesson_status",
]

_MODULES = (exercise_checks_basics, exercise_checks_tuning, exercise_checks_models)
#: The exercises judged by their runs, and those judged by the value the learner gives `check_answer`.
RUN_CHECKS: dict[str, Callable[[StoreView], Verdict]] = {k: v for m in _MODULES for k, v in m.RUN_CHECKS.items()}
ANSWER_CHECKS: dict[str, Callable[[StoreView, Any], Verdict]] = {
    k: v for m in _MODULES for k, v in m.ANSWER_CHECKS.items()
}


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
