"""The course kernel applies the quiet MLflow settings only where the user's environment has no value."""

import json
import os

from jupyter_client.manager import start_new_kernel

from course_tools.kernel import LAUNCHER, kernel_argv, register_kernel
from tutorial_utils.tracking import QUIET_ENV

PRINT_SETTINGS = """import os, sys
names = ["MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_LOGGING_LEVEL", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
print(*(os.environ[name] for name in names))
print(any(path.endswith("course_tools") for path in sys.path))"""


def test_the_users_values_win_inside_the_kernel_and_the_rest_get_the_defaults(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / "course-env-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": kernel_argv(), "display_name": "t", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_TIMEOUT": "7", "MLFLOW_LOGGING_LEVEL": "DEBUG"}
    env.pop("MLFLOW_HTTP_REQUEST_MAX_RETRIES", None)
    manager, client = start_new_kernel(kernel_name="course-env-test", env=env)
    printed: list[str] = []
    try:
        client.execute_interactive(
            PRINT_SETTINGS,
            timeout=60,
            output_hook=lambda message: printed.append(message["content"].get("text", "")),
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    lines = "".join(printed).split("\n")
    assert lines[0] == f"7 DEBUG {QUIET_ENV['MLFLOW_HTTP_REQUEST_MAX_RETRIES']}"
    assert lines[1] == "False", "the launcher's folder must not be importable in the learner's kernel"


def test_the_registered_kernelspec_runs_the_launcher_and_has_no_env_of_its_own(tmp_path):
    folder = register_kernel(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text())
    assert "env" not in spec
    assert spec["argv"][2] == str(LAUNCHER) and spec["argv"][-3:] == ["--", "-f", "{connection_file}"]
    assert spec["argv"][3:-3] == [f"{name}={value}" for name, value in QUIET_ENV.items()]
