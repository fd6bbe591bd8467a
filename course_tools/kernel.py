"""The course's Jupyter kernel: registered with the quiet MLflow settings as defaults that the user's own win over."""

import json
import sys
from pathlib import Path

from course_tools.notebooks import KERNEL_DISPLAY_NAME, KERNEL_NAME
from tutorial_utils.tracking import QUIET_ENV

LAUNCHER = Path(__file__).with_name("kernel_launcher.py")


def kernel_argv(python: str = sys.executable) -> list[str]:
    """The kernel's command line: the launcher with `QUIET_ENV` as defaults, then ipykernel's arguments."""
    defaults = [f"{name}={value}" for name, value in QUIET_ENV.items()]
    return [python, "-Xfrozen_modules=off", str(LAUNCHER), *defaults, "--", "-f", "{connection_file}"]


def register_kernel(prefix: str = sys.prefix) -> Path:
    """Install the kernelspec under `prefix` (ipykernel's files), its argv the launcher's; returns its folder."""
    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME, prefix=prefix))
    spec_path = folder / "kernel.json"
    spec = json.loads(spec_path.read_text())
    spec["argv"] = kernel_argv()
    spec.pop("env", None)
    spec_path.write_text(json.dumps(spec, indent=1) + "\n")
    return folder
