"""The course kernel's program: `NAME=VALUE` defaults under the user's environment, then an IPython kernel.

Usage (as course_tools.kernel writes it into kernel.json):
    python kernel_launcher.py NAME=VALUE ... -- -f {connection_file}

A kernelspec's own `env` would override the variables the user set (jupyter_client substitutes it over the
environment), so the defaults come in as arguments and apply only where the environment has no value. Run by path,
this file imports nothing of the course, and takes its own folder off `sys.path` before ipykernel starts.
"""

import os
import sys
from pathlib import Path


def apply_defaults(arguments: list[str]) -> list[str]:
    """Set each `NAME=VALUE` before `--` where the environment lacks NAME; return the arguments after `--`."""
    if "--" not in arguments:
        raise SystemExit("kernel_launcher: expected NAME=VALUE ... -- <ipykernel arguments>")
    split = arguments.index("--")
    for default in arguments[:split]:
        name, _, value = default.partition("=")
        os.environ.setdefault(name, value)
    return arguments[split + 1 :]


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # the course's machinery stays out of the learner's imports
    sys.argv = [sys.argv[0], *apply_defaults(sys.argv[1:])]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
