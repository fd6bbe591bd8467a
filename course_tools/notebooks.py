"""Notebook files: the `parameters` cell and its small budget, headless execution, start-up time, clean metadata."""

from __future__ import annotations

import ast
import io
import re
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutorial_utils.paths import NOTEBOOKS_DIR

if TYPE_CHECKING:  # nbformat takes seconds to import: only the runners and tests need it
    import nbformat

KERNEL_NAME = "mlflow-course"
KERNEL_DISPLAY_NAME = "Python (MLflow course)"
SMALL_MARKER = re.compile(r"\(small:\s*(.+?)\)\s*$")


@dataclass(frozen=True)
class Parameter:
    """One knob of a notebook's `parameters` cell."""

    name: str
    default: Any
    comment: str
    small: Any = None


def parameters_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The code cell tagged `parameters`; ValueError if there is not exactly one."""
    cells = [c for c in notebook.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"expected one code cell tagged 'parameters', found {len(cells)}")
    return cells[0]


def read_parameters(path: Path) -> dict[str, Parameter]:
    """The knobs of a notebook's `parameters` cell: default, comment, and small budget `(small: VALUE)`."""
    import nbformat

    source = parameters_cell(nbformat.read(path, as_version=4)).source
    comments = {
        token.start[0]: token.string.lstrip("# ").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    parameters = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{path.name}: the parameters cell may hold only `NAME = literal  # comment` lines")
        name, comment = node.targets[0].id, comments.get(node.lineno, "")
        if not comment:
            raise ValueError(f"{path.name}: parameter {name} has no comment saying what it is")
        small = SMALL_MARKER.search(comment)
        try:
            default, small_value = ast.literal_eval(node.value), ast.literal_eval(small[1]) if small else None
        except (ValueError, SyntaxError) as error:
            raise ValueError(f"{path.name}: parameter {name} and its (small: ...) value must be literals") from error
        parameters[name] = Parameter(name=name, default=default, comment=comment, small=small_value)
    return parameters


def small_budget(path: Path) -> dict[str, Any]:
    """The parameter overrides of a notebook's small budget (what CI and a workshop warm-up run)."""
    return {p.name: p.small for p in read_parameters(path).values() if p.small is not None}


def execute_notebook(
    source: Path,
    output: Path,
    parameters: dict[str, Any] | None = None,
    *,
    progress_bar: bool = True,
    unix_sockets: bool = False,
) -> nbformat.NotebookNode:
    """Run a notebook with papermill in the course kernel, from the notebooks folder, writing `output`.

    `unix_sockets` talks to the kernel over Unix sockets in a folder of its own instead of TCP ports on loopback.
    Use it where many kernels start at once in separate processes: each process picks free ports on its own, and
    two of them can pick the same one, so that one kernel dies with "Address already in use" and papermill waits
    for it until "Kernel didn't respond". Raises papermill's `PapermillExecutionError` (the failing cell's error)
    when a cell fails; the partly executed notebook is still written to `output`.
    """
    import papermill  # imported here: slow, and only the runners need it

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        options = {"kernel_manager_class": _unix_socket_kernel_manager(Path(sockets))} if unix_sockets else {}
        return papermill.execute_notebook(
            str(source),
            str(output),
            parameters=parameters or {},
            kernel_name=KERNEL_NAME,
            cwd=str(NOTEBOOKS_DIR),
            progress_bar=progress_bar,
            **options,
        )


def _unix_socket_kernel_manager(folder: Path) -> type:
    """jupyter_client's kernel manager with the `ipc` transport and its sockets in `folder`."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class UnixSocketKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            return str(folder / "kernel")

    return UnixSocketKernelManager


def startup_seconds(executed: nbformat.NotebookNode, wall_seconds: float) -> float:
    """Of an execution's `wall_seconds`, what went before the lesson: starting the kernel (the wall time no cell
    accounts for) and the first code cell, the imports. Read from papermill's per-cell durations."""
    durations = [cell.metadata.get("papermill", {}).get("duration") or 0.0 for cell in executed.cells]
    imports = next((d for cell, d in zip(executed.cells, durations, strict=True) if cell.cell_type == "code"), 0.0)
    return max(0.0, wall_seconds - sum(durations)) + imports


def _as_terminal_shows(text: str) -> str:
    """Each line as a terminal leaves it: what follows its last carriage return (a progress bar's last state)."""
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def coalesce_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Merge each cell's consecutive outputs of one stream, keeping only the last state of redrawn lines.

    A text progress bar redraws its line with carriage returns; the kernel sends every redraw as an output of its
    own, so a saved notebook would show dozens of lines where JupyterLab shows one.
    """
    for cell in notebook.cells:
        merged: list = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            same_stream = previous is not None and previous.output_type == output.output_type == "stream"
            if same_stream and previous.name == output.name:
                previous.text += output.text
                continue
            merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = _as_terminal_shows(output.text)
        if "outputs" in cell:
            cell.outputs = merged
    return notebook


def clean_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop papermill's and Jupyter's execution metadata (timestamps, durations) and set the course kernel."""
    notebook.metadata.pop("papermill", None)
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME, "language": "python"}
    for cell in notebook.cells:
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    return notebook
