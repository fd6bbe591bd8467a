"""The benchmarks: the quick subset end to end (the CI smoke test), and the pure parts on their own."""

from __future__ import annotations

import json
import os
import time
from argparse import Namespace
from pathlib import Path

import nbformat
import optuna
import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import benchmarks.__main__ as cli
from benchmarks.__main__ import main, store_kinds
from benchmarks.child_runs import child_run_cost
from benchmarks.overhead import SERVER_ONLY, SERVER_VARIANTS, VARIANTS, measure_overhead, summarise, variant_setup
from benchmarks.parallel import measure_parallel, threads_per_worker
from benchmarks.parallel import summarise as summarise_parallel
from benchmarks.report import (
    MISSING,
    fit_noise,
    overhead_server_section,
    parallel_section,
    progress_section,
    render_report,
    room_section,
    timings_section,
    write_report,
)
from benchmarks.repro import fingerprint
from benchmarks.results import QUICK_DIR, RESULTS_DIR, read_results, results_dir, write_result
from benchmarks.room import AttendeeLog, process_usage
from benchmarks.scale import populate
from benchmarks.stats import median, percentile, ratio, timed
from benchmarks.stores import store_under_test
from benchmarks.workload import STUDY_NOTEBOOK, load_workload, notebook_knobs
from course_tools.workshop.mlflow_server import ServerStartError, local_server
from course_tools.workshop.postgres import PostgresError, postgres_bin_dir


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict], float]:
    """`python -m benchmarks all --quick` into a temp folder: the documents it wrote and the seconds it took."""
    out = tmp_path_factory.mktemp("bench")
    start = time.perf_counter()
    assert main(["all", "--quick", "--out", str(out)]) == 0
    return read_results(out), time.perf_counter() - start


def test_quick_run_writes_every_benchmark_with_provenance(quick_run):
    documents, _ = quick_run
    assert sorted(documents) == ["child-runs", "overhead", "parallel", "repro", "scale", "yardstick"]
    for document in documents.values():
        assert document["quick"] is True and document["command"] == "python -m benchmarks all --quick"
        assert "cores" in document["machine"] and document["versions"]["optuna-integration"]


def test_quick_yardstick_times_both_workloads(quick_run):
    results = quick_run[0]["yardstick"]["results"]
    assert 0 < results["fit_s"] < 60 and 0 < results["child_run_ms"] < 1000


def test_quick_overhead_fits_the_same_trials_in_every_variant(quick_run):
    results = quick_run[0]["overhead"]["results"]
    assert (results["n_trials"], results["tuning_iterations"]) == (3, 20)
    assert sorted(results["variants"]) == sorted(VARIANTS)
    assert results["variants"]["none"]["ratio_to_none"] == 1.0
    for variant in results["variants"].values():
        assert variant["median_wall_s"] > 0 and 0 <= variant["logging_share"] < 1
    best_values = {sample["best_value"] for runs in results["samples"].values() for sample in runs}
    assert len(best_values) == 1  # tracking changes nothing about the study


def test_quick_child_runs_and_scale_are_sane(quick_run):
    child = quick_run[0]["child-runs"]["results"]
    assert list(child) == ["embedded-sqlite"]
    assert child["embedded-sqlite"]["n_children"] == 10
    assert 0 < child["embedded-sqlite"]["median_ms"] <= child["embedded-sqlite"]["p90_ms"]
    query = quick_run[0]["scale"]["results"]["query"]["embedded-sqlite"]
    assert (query["runs"], query["queries"]) == (33, 3)
    assert 0 < query["median_query_s"] <= query["max_query_s"]
    assert "ui" not in quick_run[0]["scale"]["results"]  # no browser in the quick subset


def test_quick_parallel_one_and_two_workers_run_the_same_trials(quick_run):
    results = quick_run[0]["parallel"]["results"]
    assert (results["n_trials"], results["tuning_iterations"], results["seed"]) == (2, 10, 42)
    cores = results["cores"]
    assert {k: (v["workers"], v["threads"]) for k, v in results["studies"].items()} == {
        "1": (1, cores),
        "2": (2, max(1, cores // 2)),
    }
    (sample,) = results["samples"]
    assert [len(sample[k]["worker_s"]) for k in ("1", "2")] == [1, 2] and results["same_trials"]
    assert results["speedup"] == pytest.approx(sample["1"]["wall_s"] / sample["2"]["wall_s"])
    assert results["efficiency"] == pytest.approx(results["speedup"] / 2)


def test_quick_repro_two_executions_agree_and_threads_do_not_matter(quick_run):
    results = quick_run[0]["repro"]["results"]
    first, second = results["executions"]
    assert results["identical"] and first["sha256"] == second["sha256"]
    assert first["test_rmse"] > 0 and set(first["best_params"]) >= {"best_depth", "best_learning_rate"}
    by_threads = {s["thread_count"]: s["same_as_reference"] for s in results["settings"] if s["n_jobs"] == 1}
    assert by_threads == {1: True, 2: True, -1: True}


def test_report_renders_the_quick_results(quick_run, tmp_path):
    documents, _ = quick_run
    text = render_report(documents, timings=None)
    assert text.count("(quick smoke subset: not for publication)") == 6
    assert "## Machine speed on the day\n\nYardstick (`python -m benchmarks.yardstick`): a fixed CatBoost" in text
    assert "| `course` |" in text and "| `embedded-sqlite` | 10 |" in text and ": identical;" in text
    assert "Goal for the course's way" in text and "fit time (a study's wall" in text
    assert "| 2 x " in text and "with the same val_rmse values: yes." in text


def test_quick_run_is_a_smoke_test(quick_run):
    assert quick_run[1] < 240  # seconds, on a busy shared 2-core machine; about a minute on a quiet one


def _document(name: str, results: dict) -> dict:
    return {
        "name": name,
        "command": f"python -m benchmarks {name}",
        "quick": False,
        "date": "2026-01-02",
        "machine": "CPU X, 2 cores",
        "versions": {"mlflow": "3.17.2", "optuna": "5.0.0"},
        "results": results,
    }


def test_render_report_tables_provenance_and_missing_sections():
    child = {"embedded-sqlite": {"n_children": 200, "median_ms": 21.04, "p90_ms": 30.0}}
    timings = "| notebook | small budget (s) | full budget (s) |\n| **total** | **95** | **350** |"
    text = render_report({"child-runs": _document("child-runs", child)}, timings=timings)
    assert "| `embedded-sqlite` | 200 | 21.0 | 30.0 |" in text
    assert "Measured with `python -m benchmarks child-runs` on 2026-01-02. " in text
    assert "Machine: CPU X, 2 cores, mlflow 3.17.2, optuna 5.0.0." in text
    assert text.count(MISSING) == 8  # yardstick, overhead, overhead-server, scale, parallel, repro, room, progress
    assert f"## 3. Course wall time\n\n{timings}\n\nGoals" in text and f"## 5. Parallel tuning\n\n{MISSING}" in text
    assert "the full budget under 360 s: met (350 s); the small budget under 90 s: missed (95 s)." in text


def test_timings_without_a_total_row_are_refused():
    with pytest.raises(ValueError, match=r"no .* row: rerun `make timings`"):
        timings_section("| notebook | small budget (s) | full budget (s) |")


def test_render_report_overhead_and_ui_rows():
    variant = {"median_wall_s": 236.0, "ratio_to_none": 1.0042, "logging_ms_per_trial": 21.5, "logging_share": 0.0046}
    variants = {"none": {**variant, "repeats": 5}, "course": {**variant, "repeats": 5}}
    samples = {"none": [{"wall_s": 236.0, "beside_fit_ms_per_trial": 1.0}]}
    overhead = {"n_trials": 50, "tuning_iterations": 300, "seed": 42, "variants": variants, "samples": samples}
    ui = {"children": 1000, "expand_s": 1.234, "child_rows_shown": 99}
    scale = {"query": {}, "ui": ui}
    text = render_report({"overhead": _document("overhead", overhead), "scale": _document("scale", scale)}, None)
    assert "| `none` | 236.0 | 1.004 | 21.5 | 0.46% |" in text and "medians of 5 interleaved repeats" in text
    assert "logging under 1% of the study's wall time: met (0.46%)" in text
    assert "1000 children shows its children 1.23 s after" in text and "holds 99 child rows" in text


def test_fit_noise_spreads_of_the_fit_and_of_the_baseline():
    samples = {
        "none": [{"wall_s": 90.0, "beside_fit_ms_per_trial": 0.0}, {"wall_s": 110.0, "beside_fit_ms_per_trial": 0.0}],
        "course": [{"wall_s": 121.0, "beside_fit_ms_per_trial": 20.0}],  # fits in 120 s: logging 1 s of 50 trials
    }
    text = fit_noise({"n_trials": 50, "samples": samples})
    assert "ranged from 82% to 109% of its median over the 3 studies" in text
    assert "the `none` variant's own 2 repeats: 90% to 110%" in text


def _parallel_samples(*walls: tuple[float, float], values: str = "v") -> list[dict]:
    return [
        {
            str(workers): {
                "workers": workers,
                "threads": 2 // workers,
                "wall_s": wall,
                "n_trials": 12,
                "values_sha256": values,
            }
            for workers, wall in zip((1, 2), pair, strict=True)
        }
        for pair in walls
    ]


def test_parallel_summary_medians_speedup_efficiency():
    summary = summarise_parallel(_parallel_samples((20.0, 25.0), (22.0, 20.0), (30.0, 21.0)), n_trials=12)
    assert summary["studies"]["1"] == {
        "workers": 1,
        "threads": 2,
        "median_wall_s": 22.0,
        "min_wall_s": 20.0,
        "max_wall_s": 30.0,
    }
    assert summary["studies"]["2"]["median_wall_s"] == 21.0 and summary["studies"]["2"]["threads"] == 1
    assert summary["speedup"] == pytest.approx(22 / 21) and summary["efficiency"] == pytest.approx(11 / 21)
    assert summary["same_trials"] is True


def test_parallel_summary_flags_different_trials_and_refuses_nothing():
    samples = _parallel_samples((20.0, 25.0))
    samples[0]["2"]["values_sha256"] = "other"
    assert summarise_parallel(samples, n_trials=12)["same_trials"] is False
    assert summarise_parallel(_parallel_samples((20.0, 25.0)), n_trials=11)["same_trials"] is False
    with pytest.raises(ValueError, match="no parallel samples"):
        summarise_parallel([], n_trials=12)


def test_threads_per_worker_shares_the_cores():
    assert [threads_per_worker(4, w) for w in (1, 2, 3, 8)] == [4, 2, 1, 1]
    with pytest.raises(ValueError, match="cores and workers must be at least 1"):
        threads_per_worker(2, 0)
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        measure_parallel(quick=True, repeats=0, workdir=Path("unused"))


def test_parallel_section_renders_the_table_and_the_verdict():
    results = {
        "n_trials": 12,
        "tuning_iterations": 200,
        "seed": 42,
        "cores": 2,
        **summarise_parallel(_parallel_samples((21.0, 22.0), (23.0, 21.9), (22.5, 24.0)), n_trials=12),
        "samples": [{}, {}, {}],
    }
    text = parallel_section(results)
    assert "| 1 x 2 | 22.5 | 21.0 | 23.0 |" in text and "| 2 x 1 | 22.0 | 21.9 | 24.0 |" in text
    assert "Speed-up (1 worker's median wall / 2 workers'): 1.02; efficiency (speed-up / workers): 0.51." in text
    assert "Medians of 3 interleaved repeats" in text and "same val_rmse values: yes." in text
    assert "same val_rmse values: NO." in parallel_section({**results, "same_trials": False})


def test_write_result_and_report_round_trip(tmp_path):
    path = write_result(
        tmp_path, "child-runs", {"x": {"n_children": 1, "median_ms": 1, "p90_ms": 2}}, command="c", quick=True
    )
    document = json.loads(path.read_text())
    assert document["results"]["x"]["p90_ms"] == 2 and document["date"] and document["versions"]["mlflow"]
    doc = tmp_path / "benchmarks.md"
    write_report(tmp_path, doc, timings=tmp_path / "absent.md")
    assert "| `x` | 1 | 1.0 | 2.0 |" in doc.read_text()


def test_results_dir_keeps_quick_runs_away_from_published_numbers():
    assert results_dir(quick=True) == QUICK_DIR and results_dir(quick=False) == RESULTS_DIR


def test_median_percentile_ratio():
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 90) == pytest.approx(4.6)
    assert percentile([7.0], 90) == 7.0
    assert ratio(3.0, 2.0) == 1.5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: median([]), "no values"),
        (lambda: percentile([], 50), "no values"),
        (lambda: percentile([1.0], 101), "within 0-100"),
        (lambda: ratio(1.0, 0.0), "must be positive"),
    ],
)
def test_stats_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_timed_records_each_call_even_when_it_raises():
    durations: list[float] = []
    double = timed(lambda x: 2 * x, durations)
    assert double(2) == 4
    fail = timed(lambda: 1 / 0, durations)
    with pytest.raises(ZeroDivisionError):
        fail()
    assert len(durations) == 2 and all(d >= 0 for d in durations)


def test_summarise_ratios_and_logging_beyond_the_baseline():
    samples = {
        "none": [{"wall_s": 10.0, "beside_fit_ms_per_trial": 1.0}, {"wall_s": 12.0, "beside_fit_ms_per_trial": 3.0}],
        "course": [
            {"wall_s": 11.0, "beside_fit_ms_per_trial": 22.0},
            {"wall_s": 13.0, "beside_fit_ms_per_trial": 22.0},
        ],
    }
    summary = summarise(samples, n_trials=50)
    assert summary["none"]["ratio_to_none"] == 1.0 and summary["none"]["logging_ms_per_trial"] == 0.0
    assert summary["course"]["ratio_to_none"] == pytest.approx(12 / 11)
    assert summary["course"]["logging_ms_per_trial"] == pytest.approx(20.0)
    assert summary["course"]["logging_share"] == pytest.approx(20 * 50 / 1000 / 12)
    # each repeat against the baseline's median (2 ms): 20 ms in both, a share of its own wall each
    assert summary["course"]["logging_ms_range"] == pytest.approx([20.0, 20.0])
    assert summary["course"]["logging_share_range"] == pytest.approx([20 * 50 / 1000 / 13, 20 * 50 / 1000 / 11])
    with pytest.raises(ValueError, match="'none' variant"):
        summarise({"course": samples["course"]}, n_trials=50)


def test_overhead_server_section_gives_each_share_with_its_range_and_verdict():
    def variant(wall: float, ms: float, share: float) -> dict:
        return {
            "median_wall_s": wall,
            "logging_ms_per_trial": ms,
            "logging_ms_range": [ms - 1, ms + 1],
            "logging_share": share,
            "logging_share_range": [share - 0.001, share + 0.001],
            "repeats": 5,
        }

    results = {
        "workers": 4,
        "n_trials": 50,
        "tuning_iterations": 300,
        "seed": 42,
        "server_runs": 510,
        "variants": {
            "none": variant(100.0, 0.0, 0.0),
            "course": variant(101.0, 30.0, 0.015),
            "server": variant(105.0, 100.0, 0.048),
            "server_batched": variant(103.0, 36.0, 0.0175),
        },
    }
    text = overhead_server_section(results)
    assert "| `server` | 105.0 | 100.0 (99.0 to 101.0) | 4.80% (4.70 to 4.90%) |" in text
    assert "PostgreSQL, 4 workers" in text and "held 510 runs" in text
    assert "on the server: 4.80% of the study's wall time, over the 2% bound" in text
    assert "embedded store 1.50% (section 1's goal, under 1%: not met)" in text
    assert "saves 64 ms per trial, to 1.75%: under the bound." in text
    assert "the price is 64 ms per trial on the server, 3 s of a 50-trial study." in text


def test_progress_section_gives_the_refresh_time_against_its_goal():
    results = {
        "attendees": 50,
        "runs_per_attendee": 61,
        "queries_per_refresh": 51,
        "parallel_reads": 8,
        "refresh_s": {"median": 0.81, "max": 2.5, "all": [0.8, 0.81, 2.5]},
        "rows_complete": 50,
        "exercises_done": [24],
        "goal_s": 2.0,
    }
    text = progress_section(results)
    assert "50 attendees, each with 61 runs" in text and "makes 51 searches" in text
    assert "Over 3 refreshes it took 0.81 s (median), 2.50 s at most: the goal, under 2 s, is missed." in text


def test_overhead_refuses_bad_variant_and_repeats():
    workload = load_workload({"TUNING_ITERATIONS": 1})
    with pytest.raises(ValueError, match="unknown variant 'other'"):
        variant_setup("other", workload)
    with pytest.raises(ValueError, match="'server' variant needs an attendee's login"):
        variant_setup("server", workload)
    with pytest.raises(ValueError, match="repeats must be at least 1"):
        measure_overhead(quick=True, repeats=0)
    with pytest.raises(ValueError, match="must start with 'none'"):
        measure_overhead(quick=True, repeats=1, variants=["course", "none"])


def test_quick_overhead_on_the_workshop_server_logs_every_trial_there(tmp_path):
    assert main(["overhead-server", "--quick", "--out", str(tmp_path)]) == 0
    document = read_results(tmp_path)["overhead-server"]
    results = document["results"]
    assert document["command"] == "python -m benchmarks overhead-server --quick"
    assert (results["backend"], results["workers"], results["n_trials"]) == ("postgres", 4, 3)
    assert list(results["variants"]) == SERVER_VARIANTS
    best_values = {sample["best_value"] for runs in results["samples"].values() for sample in runs}
    assert len(best_values) == 1  # where the runs go changes nothing about the study
    for name, variant in results["variants"].items():
        low, high = variant["logging_share_range"]
        assert low <= variant["logging_share"] <= high < 1, name
    assert results["server_runs"] == len(SERVER_ONLY) * (1 + 3)  # a parent and 3 children per server variant


def test_fingerprint_is_canonical():
    assert fingerprint({"a": 1, "b": [1.5]}) == fingerprint({"b": [1.5], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 1.0000001})


def _notebook(path: Path, *cells) -> Path:
    nbformat.write(new_notebook(cells=[new_markdown_cell("# t"), *cells]), path)
    return path


def _parameters(source: str):
    return new_code_cell(source, metadata={"tags": ["parameters"]})


def test_notebook_knobs_are_the_parameters_cell_with_overrides(tmp_path):
    path = _notebook(tmp_path / "nb.ipynb", _parameters("N = 3  # knob\nK = 1  # other (small: 0)"))
    assert notebook_knobs(path) == {"N": 3, "K": 1}
    assert notebook_knobs(path, {"N": 5}) == {"N": 5, "K": 1}
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['math'\]"):
        notebook_knobs(path, {"math": 1})


def test_the_workload_is_notebook_04s_knobs_and_the_course_space():
    workload = load_workload({"TUNING_ITERATIONS": 5})
    knobs = notebook_knobs(STUDY_NOTEBOOK)
    assert workload.knobs == knobs | {"TUNING_ITERATIONS": 5}
    trial = optuna.trial.FixedTrial(
        {"depth": 4, "learning_rate": 0.1, "l2_leaf_reg": 3.0, "random_strength": 1.0, "subsample": 0.8}
    )
    assert workload.trial_params(trial) == {
        "depth": 4,
        "learning_rate": 0.1,
        "l2_leaf_reg": 3.0,
        "random_strength": 1.0,
        "bootstrap_type": "Bernoulli",
        "subsample": 0.8,
        "iterations": 5,
        "trial_number": 0,
        "sampler_seed": knobs["SEED"],
    }
    assert 0 < workload.score(trial) < 1 and len(workload.fit_seconds) == 1


def test_store_kinds_refuse_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown store kind 'mysql'"), store_under_test("mysql", tmp_path):
        pass
    with pytest.raises(ValueError, match="postgresql needs a backend URI"), store_under_test("postgresql", tmp_path):
        pass


def test_server_that_cannot_start_says_why(tmp_path):
    with pytest.raises(ServerStartError, match="did not start"), local_server("nosuchscheme://x", tmp_path):
        pass


def test_counts_must_be_positive():
    with pytest.raises(ValueError, match="n_children must be at least 1"):
        child_run_cost("sqlite:///unused.db", 0)
    with pytest.raises(ValueError, match="at least one parent and one child"):
        populate(None, "0", 0, 10, 0)


def test_cli_refuses_zero_repeats():
    with pytest.raises(SystemExit, match="--repeats must be at least 1"):
        main(["overhead", "--repeats", "0"])


def test_postgres_kinds_join_when_there_is_a_uri():
    uri = "postgresql+psycopg2://u@127.0.0.1/db"
    kinds = (["server-sqlite"], ["postgresql"])
    assert store_kinds(Namespace(quick=True, postgres_uri=None), *kinds) == ["embedded-sqlite"]
    assert store_kinds(Namespace(quick=True, postgres_uri=uri), *kinds) == ["embedded-sqlite", "postgresql"]
    assert store_kinds(Namespace(quick=False, postgres_uri=None), *kinds) == ["server-sqlite"]
    assert store_kinds(Namespace(quick=False, postgres_uri=uri), *kinds) == ["server-sqlite", "postgresql"]


def _has_postgres() -> bool:
    try:
        postgres_bin_dir()
    except PostgresError:
        return False
    return True


@pytest.mark.skipif(not _has_postgres(), reason="PostgreSQL's initdb and pg_ctl are not installed")
def test_quick_scale_on_a_throwaway_postgres_cluster(tmp_path):
    assert main(["scale", "--quick", "--postgres", "--out", str(tmp_path)]) == 0
    document = read_results(tmp_path)["scale"]
    assert document["command"] == "python -m benchmarks scale --quick --postgres"
    assert list(document["results"]["query"]) == ["embedded-sqlite", "postgresql"]
    assert document["results"]["query"]["postgresql"]["runs"] == 33


def test_postgres_flag_says_what_to_do_without_postgres(monkeypatch, tmp_path):
    def missing() -> Path:
        raise PostgresError("initdb not found")

    monkeypatch.setattr(cli, "postgres_bin_dir", missing)
    with pytest.raises(SystemExit, match=r"initdb and pg_ctl were found neither .* or pass --postgres-uri"):
        main(["scale", "--quick", "--postgres", "--out", str(tmp_path)])
    assert not list(tmp_path.iterdir())  # refused before measuring anything


def test_postgres_flag_and_uri_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        main(["scale", "--postgres", "--postgres-uri", "postgresql+psycopg2://u@h/db"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_command_in_the_results_names_the_repeats(monkeypatch, tmp_path):
    monkeypatch.setitem(cli.RUNNERS, "repro", lambda args, _: {"repeats": args.repeats})
    assert main(["repro", "--repeats", "2", "--out", str(tmp_path)]) == 0
    document = read_results(tmp_path)["repro"]
    assert document["command"] == "python -m benchmarks repro --repeats 2" and document["results"] == {"repeats": 2}


def test_cli_refuses_zero_attendees_and_picks_the_rooms(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="--attendees must be at least 1"):
        main(["room", "--attendees", "0"])
    monkeypatch.setattr(cli, "measure_room", lambda folder, backend, count: {"folder": folder.name})
    for argv, rooms in [
        ([], ["postgres-50", "sqlite-10", "sqlite-50"]),
        (["--quick"], ["sqlite-3"]),
        (["--backend", "postgres", "--attendees", "7"], ["postgres-7"]),
    ]:
        assert main(["room", *argv, "--out", str(tmp_path)]) == 0
        document = read_results(tmp_path)["room"]
        assert list(document["results"]) == rooms and document["results"][rooms[0]] == {"folder": rooms[0]}
    assert document["command"] == "python -m benchmarks room --attendees 7 --backend postgres"


def _raise(error: Exception) -> None:
    raise error


def test_attendee_log_counts_errors_by_kind_and_keeps_the_first_message():
    log = AttendeeLog("ana")
    for message in ("first", "second"):
        log.attempt(lambda message=message: _raise(MlflowException(message, INTERNAL_ERROR)))
    log.attempt(lambda: 1 / 0)
    log.attempt(lambda: None)
    assert log.errors == {"MlflowException INTERNAL_ERROR": 2, "ZeroDivisionError": 1}
    assert log.examples["MlflowException INTERNAL_ERROR"] == "first"


def test_process_usage_measures_this_process():
    with process_usage({"me": os.getpid()}) as usage:
        deadline = time.perf_counter() + 0.7
        while time.perf_counter() < deadline:  # busy for longer than one sample
            pass
    assert usage["me"]["processes"] >= 1 and usage["me"]["cpu_s"] > 0.1 and usage["me"]["peak_rss_mb"] > 1


def _room(**changes: object) -> dict:
    attendee = {"username": "room.01", "expected": 8, "found": 8, "duplicates": 0, "misplaced": 0, "running": 0}
    attendee["errors"] = 0
    room = {
        "attendees": 1,
        "runs_per_attendee": 8,
        "runs_expected": 8,
        "runs_found": 8,
        "lost": 0,
        "duplicates": 0,
        "misplaced": 0,
        "running": 0,
        "errors": {},
        "error_examples": {},
        "child_ms": {"p50": 40.2, "p95": 90.0, "max": 120.9},
        "start_spread_s": 0.031,
        "logging_wall_s": 12.4,
        "per_attendee": [attendee],
        "usage": {"mlflow server": {"processes": 6, "cpu_s": 30.2, "cores": 1.51, "peak_rss_mb": 1800.4}},
        "load_average_before": [3.24, 2.0, 1.0],
    }
    return {**room, **changes}


def test_room_section_tables_per_attendee_and_errors():
    odd = {"username": "room.02", "expected": 8, "found": 7, "duplicates": 1, "misplaced": 0, "running": 1}
    odd["errors"] = 2
    broken = _room(
        runs_found=7,
        lost=1,
        duplicates=1,
        running=1,
        errors={"RestException INTERNAL_ERROR": 2},
        error_examples={"RestException INTERNAL_ERROR": "too many connections"},
        per_attendee=[odd],
    )
    del broken["load_average_before"]  # results from before the load average was recorded
    text = room_section({"postgres-1": _room(), "sqlite-1": broken})
    assert (
        "| `postgres-1` | 1 | 8 | 8 | 0 | 0 | 0 | 0 | 0 |" in text
        and "| `sqlite-1` | 1 | 8 | 7 | 1 | 1 | 0 | 1 | 2 |" in text
    )
    assert "| `postgres-1` | 40 | 90 | 121 | 0.03 | 12 | 30 (1.51), 1800 | - | 3.2 / 2.0 / 1.0 |" in text
    assert "| `sqlite-1` | 40 | 90 | 121 | 0.03 | 12 | 30 (1.51), 1800 | - | not recorded |" in text
    assert (
        "`postgres-1`: each of the 1 attendees: 8 of 8 runs found, none extra, misplaced or RUNNING, no error." in text
    )
    assert "1 of 1 attendees differ: room.02 7 of 8 found (1 extra, 0 misplaced, 1 RUNNING, 2 errors)." in text
    assert "Errors by kind: RestException INTERNAL_ERROR x2 (e.g. 'too many connections')." in text
