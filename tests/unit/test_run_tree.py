"""Unit tests of tutorial_utils.run_tree: the tree built from runs, read from a store, and drawn."""

from __future__ import annotations

from types import SimpleNamespace

import mlflow
import pytest
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from tutorial_utils.run_tree import RunNode, build_run_tree, draw_run_tree, load_runs, plot_run_tree
from tutorial_utils.tracking import setup_tracking


def _run(name: str, start: int, parent: str | None = None, status: str = "FINISHED", **metrics: float):
    """A stand-in for `mlflow.entities.Run` with the fields the tree reads; its run id is `id-<name>`."""
    tags = {"mlflow.parentRunId": f"id-{parent}"} if parent else {}
    info = SimpleNamespace(run_id=f"id-{name}", run_name=name, status=status, start_time=start)
    return SimpleNamespace(info=info, data=SimpleNamespace(tags=tags, params={"x": str(start)}, metrics=metrics))


FAKE_RUNS = [
    _run("lasso", 1),
    _run("a-2", 4, "lasso", rmse=0.2),
    _run("a-1", 3, "lasso", rmse=0.3),
    _run("a-3", 2, "lasso", status="FAILED"),
    _run("catboost", 5),
    _run("d-1", 6, "catboost", rmse=0.1),
    _run("single", 0),
]


def _shape(nodes: list[RunNode]) -> list:
    """Names of the nodes, each followed by the shape of its children when it has any."""
    return [(n.name, _shape(list(n.children))) if n.children else n.name for n in nodes]


def test_build_groups_children_under_their_parents_in_logging_order():
    roots = build_run_tree(FAKE_RUNS)
    assert _shape(roots) == ["single", ("lasso", ["a-3", "a-1", "a-2"]), ("catboost", ["d-1"])]
    child = roots[1].children[0]
    assert (child.run_id, child.status, child.params, child.metrics) == ("id-a-3", "FAILED", {"x": "2"}, {})


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ({"sort_by": "name"}, ["a-1", "a-2", "a-3"]),
        ({"sort_by": "metric", "metric": "rmse"}, ["a-2", "a-1", "a-3"]),  # runs without the metric last
        ({"sort_by": "metric", "metric": "rmse", "descending": True}, ["a-1", "a-2", "a-3"]),
    ],
)
def test_build_sorts_children(sort, expected):
    (lasso,) = build_run_tree(FAKE_RUNS, parent_run_ids=["id-lasso"], **sort)
    assert [child.name for child in lasso.children] == expected


def test_build_restricts_to_given_parents_in_their_order_and_keeps_deeper_levels():
    runs = [*FAKE_RUNS, _run("grandchild", 7, "d-1")]
    roots = build_run_tree(runs, parent_run_ids=["id-catboost", "id-lasso"])
    assert _shape(roots) == [("catboost", [("d-1", ["grandchild"])]), ("lasso", ["a-3", "a-1", "a-2"])]


def test_build_treats_a_run_whose_parent_is_missing_as_top_level():
    roots = build_run_tree([_run("orphan", 1, "gone"), _run("other", 2)])
    assert _shape(roots) == ["orphan", "other"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort_by": "size"}, "sort_by must be"),
        ({"sort_by": "metric"}, "needs the metric"),
        ({"parent_run_ids": ["id-lasso", "nope"]}, r"\['nope'\] are not among the 7 runs"),
    ],
)
def test_build_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_run_tree(FAKE_RUNS, **kwargs)


def _texts(fig: Figure) -> list[str]:
    """The figure's texts, top to bottom within each column (left to right)."""
    texts = fig.axes[0].texts
    return [t.get_text() for t in sorted(texts, key=lambda t: (round(t.get_position()[0], 3), t.get_position()[1]))]


def test_draw_labels_every_box_and_caps_the_children():
    roots = build_run_tree(FAKE_RUNS, sort_by="name")
    fig = draw_run_tree("demo", roots, params=["x"], metric="rmse", max_children=2)
    assert isinstance(fig, Figure)
    assert _texts(fig) == [
        "experiment",
        "demo",
        "catboost",
        "1 child run",
        "lasso",
        "3 child runs, 1 failed",
        "... and 1 more",
        "d-1",
        "x=6  rmse=0.1000",
        "a-1",
        "x=3  rmse=0.3000",
        "a-2",
        "x=4  rmse=0.2000",
        "... and 1 more",
    ]


def test_draw_marks_runs_that_did_not_finish():
    roots = build_run_tree(FAKE_RUNS, parent_run_ids=["id-lasso"])
    texts = _texts(draw_run_tree("demo", roots, metric="rmse"))
    assert texts[-6:-4] == ["a-3  [FAILED]", "no rmse"]
    assert "x=2" not in " ".join(texts)  # params are shown only when asked for


@pytest.mark.parametrize(
    ("roots", "max_children", "message"),
    [([], 10, "no runs to draw"), (build_run_tree(FAKE_RUNS), 0, "max_children must be at least 1")],
)
def test_draw_rejects_bad_input(roots, max_children, message):
    with pytest.raises(ValueError, match=message):
        draw_run_tree("demo", roots, max_children=max_children)


@pytest.fixture
def logged(fresh_store) -> dict[str, str]:
    """Two parents with children (one with a grandchild) and a top-level run, plus a run in another experiment."""
    setup_tracking("other", verbose=False)
    with mlflow.start_run(run_name="elsewhere") as elsewhere:
        pass
    experiment = setup_tracking("tree", verbose=False)
    ids = {"experiment": experiment.experiment_id, "elsewhere": elsewhere.info.run_id}
    for family, values in (("lasso", [0.1, 0.01]), ("catboost", [4])):
        with mlflow.start_run(run_name=family) as parent:
            for value in values:
                with mlflow.start_run(run_name=f"{family}-{value}", nested=True) as child:
                    mlflow.log_params({"value": value})
                    mlflow.log_metrics({"val_rmse": value / 10})
        ids[family] = parent.info.run_id
    with mlflow.start_run(run_name="grandchild", parent_run_id=child.info.run_id):
        pass
    with mlflow.start_run(run_name="flat"):
        pass
    return ids


def test_load_runs_reads_given_parents_and_their_descendants_only(logged):
    client = MlflowClient()
    runs = load_runs(client, logged["experiment"], [logged["catboost"]])
    assert sorted(r.info.run_name for r in runs) == ["catboost", "catboost-4", "grandchild"]
    everything = load_runs(client, logged["experiment"])
    assert len(everything) == 7


@pytest.mark.parametrize(
    ("experiment", "parents", "message"),
    [
        ("999", None, "no experiment with id '999'"),
        ("0", None, "'Default' has no runs yet"),
        ("tree", [], "parent_run_ids is empty"),
        ("tree", ["f" * 32], "no run"),
        ("tree", ["elsewhere"], "no run"),
    ],
)
def test_load_runs_rejects_bad_input(logged, experiment, parents, message):
    experiment_id = logged["experiment"] if experiment == "tree" else experiment
    parents = [logged.get(p, p) for p in parents] if parents is not None else None
    with pytest.raises(ValueError, match=message):
        load_runs(MlflowClient(), experiment_id, parents)


def test_plot_run_tree_draws_the_store_s_runs(logged):
    fig = plot_run_tree(
        logged["experiment"], parent_run_ids=[logged["lasso"]], params=["value"], metric="val_rmse", sort_by="metric"
    )
    assert _texts(fig) == [
        "experiment",
        "tree",
        "lasso",
        "2 child runs",
        "lasso-0.01",
        "value=0.01  val_rmse=0.0010",
        "lasso-0.1",
        "value=0.1  val_rmse=0.0100",
    ]
    texts = _texts(plot_run_tree(logged["experiment"], client=MlflowClient()))
    assert {"flat", "lasso", "catboost", "catboost-4", "grandchild"} <= set(texts)
    assert "elsewhere" not in texts
