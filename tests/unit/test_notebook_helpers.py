import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_tools import notebooks


def _notebook(path, parameters_source, *, tagged=1):
    cells = [new_markdown_cell("# title"), new_code_cell("import math")]
    cells += [new_code_cell(parameters_source, metadata={"tags": ["parameters"]}) for _ in range(tagged)]
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_read_parameters_defaults_comments_and_small_budget(tmp_path):
    path = _notebook(
        tmp_path / "nb.ipynb",
        'SEED = 42  # one seed for all\nN_TRIALS = 50  # trials of the study (small: 5)\nNAME = "x"  # experiment\n',
    )
    parameters = notebooks.read_parameters(path)
    assert list(parameters) == ["SEED", "N_TRIALS", "NAME"]
    assert parameters["N_TRIALS"].default == 50 and parameters["N_TRIALS"].small == 5
    assert parameters["SEED"].comment == "one seed for all" and parameters["SEED"].small is None
    assert notebooks.small_budget(path) == {"N_TRIALS": 5}


@pytest.mark.parametrize(
    ("source", "tagged", "message"),
    [
        ("SEED = 1  # seed", 0, "found 0"),
        ("SEED = 1  # seed", 2, "found 2"),
        ("SEED = 1\n", 1, "SEED has no comment"),
        ("print(1)  # hi\n", 1, "only `NAME = literal  # comment` lines"),
        ("SEED = compute()  # seed\n", 1, "SEED and its .small: .... value must be literals"),
        ("SEED = 1  # seed (small: two)\n", 1, "SEED and its .small: .... value must be literals"),
    ],
)
def test_read_parameters_rejects_bad_cells(tmp_path, source, tagged, message):
    path = _notebook(tmp_path / "nb.ipynb", source, tagged=tagged)
    with pytest.raises(ValueError, match=message):
        notebooks.read_parameters(path)


def test_clean_metadata_drops_execution_records_and_names_the_kernel():
    cell = new_code_cell("x", metadata={"papermill": {"duration": 1.0}, "execution": {"iopub": "t"}, "tags": ["a"]})
    notebook = new_notebook(
        cells=[cell], metadata={"papermill": {"start_time": "t"}, "kernelspec": {"name": "x", "display_name": "x"}}
    )
    cleaned = notebooks.clean_metadata(notebook)
    assert "papermill" not in cleaned.metadata
    assert cleaned.metadata.kernelspec["name"] == notebooks.KERNEL_NAME
    assert cleaned.cells[0].metadata == {"tags": ["a"]}


def test_coalesce_streams_keeps_one_output_per_stream_run_and_a_bar_s_last_state():
    cell = new_code_cell("x")
    cell.outputs = [
        new_output("stream", name="stdout", text="  0%| 0/2\r"),
        new_output("stream", name="stdout", text=" 50%| 1/2\r"),
        new_output("stream", name="stdout", text="100%| 2/2\n"),
        new_output("stream", name="stderr", text="a warning\n"),
        new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
        new_output("stream", name="stdout", text="after\n"),
    ]
    cleaned = notebooks.coalesce_streams(new_notebook(cells=[cell, new_markdown_cell("no outputs")]))
    outputs = cleaned.cells[0].outputs
    assert [(o.output_type, o.get("name")) for o in outputs] == [
        ("stream", "stdout"),
        ("stream", "stderr"),
        ("execute_result", None),
        ("stream", "stdout"),
    ]
    assert outputs[0].text == "100%| 2/2\n" and outputs[3].text == "after\n"


def _timed_cell(cell, seconds):
    cell.metadata["papermill"] = {"duration": seconds}
    return cell


def test_startup_is_the_unaccounted_wall_time_plus_the_imports_cell():
    executed = new_notebook(
        cells=[
            _timed_cell(new_markdown_cell("# title"), None),
            _timed_cell(new_code_cell("import mlflow"), 3.0),
            _timed_cell(new_code_cell("fit()"), 10.0),
        ]
    )
    assert notebooks.startup_seconds(executed, wall_seconds=15.5) == pytest.approx(2.5 + 3.0)
    assert notebooks.startup_seconds(executed, wall_seconds=12.0) == pytest.approx(3.0)  # never negative
    assert notebooks.startup_seconds(new_notebook(cells=[new_markdown_cell("x")]), wall_seconds=2.0) == 2.0
