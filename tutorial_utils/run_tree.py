"""The run tree of an experiment (experiment -> parent runs -> child runs), built from the store and drawn.

`load_runs` reads the runs from the store, `build_run_tree` turns them into nested `RunNode`s (pure: testable
without a store), `draw_run_tree` draws such a tree with matplotlib, and `plot_run_tree` does all three: the
course's parent/child schematic, made from real runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from mlflow.entities import Experiment, Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tutorial_utils.runs import search_all_runs

PARENT_TAG = "mlflow.parentRunId"
SortKey = Literal["start_time", "name", "metric"]

#: Layout in inches: monospace characters have a known width, so boxes fit their labels exactly.
FONT_SIZE = 9
CHAR_WIDTH = 0.65 * FONT_SIZE / 72  # DejaVu Sans Mono advances 0.6-0.64 em, depending on hinting
LINE_HEIGHT = 1.35 * FONT_SIZE / 72
BOX_PAD = 0.1
ROW_GAP = 0.1
ROW_HEIGHT = 2 * LINE_HEIGHT + 2 * BOX_PAD + ROW_GAP
COLUMN_GAP = 0.45
STATUS_COLOURS = {"FINISHED": "#dcebf7", "FAILED": "#f6c6c2", "RUNNING": "#fde7b0", "KILLED": "#e0e0e0"}
EXPERIMENT_COLOUR, MORE_COLOUR = "#cfe8cf", "white"


@dataclass(frozen=True)
class RunNode:
    """One run of the tree, with its children (already sorted)."""

    name: str
    run_id: str
    status: str
    start_time: int
    params: dict[str, str]
    metrics: dict[str, float]
    children: tuple[RunNode, ...] = ()


def _node(run: Run) -> RunNode:
    info = run.info
    return RunNode(
        info.run_name or info.run_id[:8],
        info.run_id,
        info.status,
        info.start_time or 0,
        run.data.params,
        run.data.metrics,
    )


def _sort_key(node: RunNode, sort_by: SortKey, metric: str | None, descending: bool) -> tuple:
    """Order by the chosen key; ties (and runs without the metric, placed last) by start time, then name."""
    tie = (node.start_time, node.name, node.run_id)
    if sort_by == "name":
        return (node.name, *tie)
    if sort_by == "metric":
        value = node.metrics.get(metric) if metric else None
        return (value is None, 0.0 if value is None else (-value if descending else value), *tie)
    return tie


def build_run_tree(
    runs: Iterable[Run],
    *,
    parent_run_ids: Sequence[str] | None = None,
    sort_by: SortKey = "start_time",
    metric: str | None = None,
    descending: bool = False,
) -> list[RunNode]:
    """The top-level runs (or the runs `parent_run_ids`, in that order) as `RunNode`s holding their descendants.

    A run is top-level when it has no `mlflow.parentRunId` tag or its parent is not among `runs`. Children
    (and top-level runs, when `parent_run_ids` is None) are ordered by `sort_by`: "start_time" (as logged),
    "name", or "metric" (`metric` ascending, or `descending`; runs without it last).
    Raises ValueError for an unknown `sort_by`, for "metric" without `metric`, or for a parent id not in `runs`.
    """
    if sort_by not in ("start_time", "name", "metric"):
        raise ValueError(f"sort_by must be 'start_time', 'name' or 'metric', got {sort_by!r}")
    if sort_by == "metric" and not metric:
        raise ValueError("sort_by='metric' needs the metric to sort by")
    by_id = {run.info.run_id: run for run in runs}
    children: dict[str | None, list[Run]] = {}
    for run in by_id.values():
        parent = run.data.tags.get(PARENT_TAG)
        children.setdefault(parent if parent in by_id else None, []).append(run)

    def grow(run: Run) -> RunNode:
        kids = sorted(map(grow, children.get(run.info.run_id, [])), key=order)
        return replace(_node(run), children=tuple(kids))

    def order(node: RunNode) -> tuple:
        return _sort_key(node, sort_by, metric, descending)

    if parent_run_ids is None:
        return sorted(map(grow, children.get(None, [])), key=order)
    missing = [run_id for run_id in parent_run_ids if run_id not in by_id]
    if missing:
        raise ValueError(f"parent run(s) {missing} are not among the {len(by_id)} runs given")
    return [grow(by_id[run_id]) for run_id in parent_run_ids]


def get_experiment(client: MlflowClient, experiment_id: str) -> Experiment:
    """The experiment with this id; ValueError (not MLflow's exception) when there is none."""
    try:
        return client.get_experiment(experiment_id)
    except MlflowException:
        raise ValueError(f"no experiment with id {experiment_id!r} in this tracking store") from None


def load_runs(client: MlflowClient, experiment_id: str, parent_run_ids: Sequence[str] | None = None) -> list[Run]:
    """The runs of an experiment, or only the runs `parent_run_ids` and their descendants (level by level).

    Raises ValueError when the experiment does not exist, when a parent run id is unknown or belongs to
    another experiment, and when there are no runs to show.
    """
    experiment = get_experiment(client, experiment_id)
    if parent_run_ids is None:
        runs = search_all_runs(client, [experiment_id], "")
        if not runs:
            raise ValueError(f"experiment {experiment.name!r} has no runs yet")
        return runs
    if not parent_run_ids:
        raise ValueError("parent_run_ids is empty: pass None for every run of the experiment")
    quoted = ", ".join(f"'{run_id}'" for run_id in parent_run_ids)
    runs = search_all_runs(client, [experiment_id], f"attributes.run_id IN ({quoted})")
    missing = sorted(set(parent_run_ids) - {run.info.run_id for run in runs})
    if missing:
        raise ValueError(f"no run(s) {missing} in experiment {experiment.name!r}")
    level = list(parent_run_ids)
    while level:  # the store cannot filter a tag with IN: one query per parent
        kids = [
            kid
            for run_id in level
            for kid in search_all_runs(client, [experiment_id], f"tags.{PARENT_TAG} = '{run_id}'")
        ]
        runs.extend(kids)
        level = [kid.info.run_id for kid in kids]
    return runs


def _label(node: RunNode, params: Sequence[str], metric: str | None) -> tuple[str, str]:
    """Two lines: the run's name (and status unless FINISHED); its children, or its key params and metric."""
    title = node.name if node.status == "FINISHED" else f"{node.name}  [{node.status}]"
    if node.children:
        failed = sum(child.status == "FAILED" for child in node.children)
        detail = f"{len(node.children)} child run{'s' * (len(node.children) != 1)}"
        return title, detail + (f", {failed} failed" if failed else "")
    shown = [f"{name}={node.params[name]}" for name in params if name in node.params]
    if metric:
        value = node.metrics.get(metric)
        shown.append(f"{metric}={value:.4f}" if value is not None else f"no {metric}")
    return title, "  ".join(shown)


@dataclass
class _Box:
    """One box to draw: its two label lines, its face colour, its children, and (once placed) its position."""

    title: str
    detail: str
    colour: str
    children: list[_Box]
    dashed: bool = False
    depth: int = 0
    row: float = 0.0

    def rows(self) -> int:
        """Rows the subtree takes: one per leaf."""
        return sum(child.rows() for child in self.children) or 1


def _boxes(nodes: Sequence[RunNode], params: Sequence[str], metric: str | None, max_children: int) -> list[_Box]:
    """Boxes of the first `max_children` runs (each with its own children), then one "... and N more" box."""
    boxes = [
        _Box(
            *_label(node, params, metric),
            STATUS_COLOURS.get(node.status, MORE_COLOUR),
            _boxes(node.children, params, metric, max_children),
        )
        for node in nodes[:max_children]
    ]
    if (hidden := len(nodes) - max_children) > 0:
        boxes.append(_Box(f"... and {hidden} more", "", MORE_COLOUR, [], dashed=True))
    return boxes


def _place(box: _Box, depth: int, first_row: float) -> list[_Box]:
    """Give each box its column (depth) and row centre, leaves one row apart, parents centred on their children."""
    box.depth, placed, row = depth, [box], first_row
    for child in box.children:
        placed += _place(child, depth + 1, row)
        row += child.rows()
    box.row = (box.children[0].row + box.children[-1].row) / 2 if box.children else first_row + 0.5
    return placed


def draw_run_tree(
    experiment_name: str,
    roots: Sequence[RunNode],
    *,
    params: Sequence[str] = (),
    metric: str | None = None,
    max_children: int = 10,
) -> Figure:
    """Draw experiment -> runs -> children as boxes joined by elbow connectors.

    Leaves show the `params` they have and `metric`; FAILED runs are red. Beyond `max_children`, the children
    of a run (and the top-level runs) are summed up in one "... and N more" box.
    Raises ValueError when there are no runs or `max_children` is below 1.
    """
    if not roots:
        raise ValueError("no runs to draw")
    if max_children < 1:
        raise ValueError(f"max_children must be at least 1, got {max_children}")
    experiment = _Box("experiment", experiment_name, EXPERIMENT_COLOUR, _boxes(roots, params, metric, max_children))
    boxes = _place(experiment, 0, 0.0)
    depths = range(max(box.depth for box in boxes) + 1)
    chars = [max(len(line) for box in boxes if box.depth == d for line in (box.title, box.detail)) for d in depths]
    widths = [CHAR_WIDTH * n + 2 * BOX_PAD for n in chars]
    lefts = [sum(widths[:d]) + COLUMN_GAP * d for d in depths]
    width, height = lefts[-1] + widths[-1], experiment.rows() * ROW_HEIGHT
    fig = Figure(figsize=(width + 0.2, height + 0.2))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(-0.1, width + 0.1), ylim=(height + 0.1, -0.1))
    ax.axis("off")
    for box in boxes:
        centre = box.row * ROW_HEIGHT
        _draw_box(ax, box, lefts[box.depth], centre, widths[box.depth])
        for child in box.children:
            elbow = lefts[child.depth] - COLUMN_GAP / 2
            xs = (lefts[box.depth] + widths[box.depth], elbow, elbow, lefts[child.depth])
            ys = (centre, centre, child.row * ROW_HEIGHT, child.row * ROW_HEIGHT)
            ax.plot(xs, ys, color="0.45", linewidth=1, zorder=1)
    return fig


def _draw_box(ax: Axes, box: _Box, left: float, centre: float, width: float) -> None:
    """One rounded box: a bold title over a detail line (or one italic line for a "... and N more" box)."""
    height = ROW_HEIGHT - ROW_GAP
    patch = FancyBboxPatch(
        (left, centre - height / 2),
        width,
        height,
        boxstyle="round,pad=0,rounding_size=0.06",
        facecolor=box.colour,
        edgecolor="0.35",
        linestyle="--" if box.dashed else "-",
        zorder=2,
    )
    ax.add_patch(patch)
    text = {"family": "monospace", "fontsize": FONT_SIZE, "zorder": 3, "va": "center", "ha": "left"}
    if box.dashed:
        ax.text(left + BOX_PAD, centre, box.title, style="italic", **text)
        return
    ax.text(left + BOX_PAD, centre - LINE_HEIGHT / 2, box.title, weight="bold", **text)
    ax.text(left + BOX_PAD, centre + LINE_HEIGHT / 2, box.detail, **text)


def plot_run_tree(
    experiment_id: str,
    *,
    client: MlflowClient | None = None,
    parent_run_ids: Sequence[str] | None = None,
    params: Sequence[str] = (),
    metric: str | None = None,
    sort_by: SortKey = "start_time",
    descending: bool = False,
    max_children: int = 10,
) -> Figure:
    """Draw an experiment's run tree from the store: every top-level run, or only `parent_run_ids` (in that order).

    `client` defaults to one on the current tracking URI. Children are ordered by `sort_by` (see
    `build_run_tree`), and each parent shows at most `max_children` of them. Raises ValueError for an unknown
    experiment, an unknown parent run, or an experiment without runs.
    """
    client = client or MlflowClient()
    runs = load_runs(client, experiment_id, parent_run_ids)
    roots = build_run_tree(runs, parent_run_ids=parent_run_ids, sort_by=sort_by, metric=metric, descending=descending)
    return draw_run_tree(
        get_experiment(client, experiment_id).name, roots, params=params, metric=metric, max_children=max_children
    )
