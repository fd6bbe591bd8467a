"""The layout rule: `tutorial_utils` is what the notebooks import, and only that; the course's machinery
(`course_tools`, `benchmarks`) depends on it, never the other way round; `import tutorial_utils` stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
import tomllib

from tutorial_utils.paths import NOTEBOOKS_DIR, REPO_ROOT

PACKAGE = REPO_ROOT / "tutorial_utils"
MACHINERY = ("course_tools", "benchmarks")
#: What `import tutorial_utils` must not load: the runner's, the workshop's and the browser's libraries, and the
#: heavy modules that only one notebook's plots need.
NOT_AT_IMPORT = [
    "course_tools",
    "benchmarks",
    "playwright",
    "psycopg2",
    "papermill",
    "nbformat",
    "nbclient",
    "sklearn.gaussian_process",
    "optuna.visualization",
]
#: What the learner's package must not need: these live in the extras (`course`, `workshop`, `test`).
NOT_CORE_DEPENDENCIES = {"papermill", "nbformat", "nbval", "playwright", "psycopg2-binary"}


def _imported_modules(source: str) -> set[str]:
    """The modules a piece of Python source imports (`import a.b` and `from a.b import c` give `a.b`)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _notebook_sources() -> dict[str, str]:
    """The code of every notebook (its code cells, magics dropped) and of the worker scripts, by file name."""
    sources = {}
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        lines = [line for cell in code for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))]
        sources[path.name] = "\n".join(lines)
    for path in sorted((NOTEBOOKS_DIR / "workers").glob("*.py")):
        sources[path.name] = path.read_text()
    return sources


def test_neither_the_package_nor_the_notebooks_import_the_machinery():
    sources = {path.name: path.read_text() for path in PACKAGE.glob("*.py")} | _notebook_sources()
    offenders = {
        name: sorted(m for m in _imported_modules(source) if m.split(".")[0] in MACHINERY)
        for name, source in sources.items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_every_package_module_is_used_by_a_notebook_the_worker_or_the_tu_face():
    """Directly, or through a module of the package that is (the exercise checks, through `exercises`)."""
    used = set().union(*map(_imported_modules, _notebook_sources().values()))
    used |= _imported_modules((PACKAGE / "__init__.py").read_text())
    modules = {f"tutorial_utils.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    reached: set[str] = set()
    while new := (used & modules) - reached:
        reached |= new
        used |= set().union(*(_imported_modules((PACKAGE / f"{m.split('.')[1]}.py").read_text()) for m in new))
    assert sorted(modules - used) == []


def test_importing_the_package_loads_none_of_the_machinery_or_heavy_modules():
    code = (
        "import json, sys; import tutorial_utils; "
        f"print(json.dumps([m for m in sys.modules if m.split('.')[0] in {NOT_AT_IMPORT!r} or m in {NOT_AT_IMPORT!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    loaded = json.loads(done.stdout)
    assert [m for m in loaded if any(m == n or m.startswith(f"{n}.") for n in NOT_AT_IMPORT)] == []


def test_the_runner_and_workshop_libraries_are_extras_not_core_dependencies():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    core = {requirement.split(">")[0].split("=")[0].split("<")[0].strip() for requirement in project["dependencies"]}
    assert core & NOT_CORE_DEPENDENCIES == set()
    extras = " ".join(" ".join(values) for values in project["optional-dependencies"].values())
    assert all(name in extras for name in NOT_CORE_DEPENDENCIES)


@pytest.mark.parametrize("module", ["course_tools", "benchmarks"])
def test_the_machinery_is_not_part_of_the_installed_package(module):
    """The wheel is the learner's package: `course_tools` and `benchmarks` run from the checkout."""
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert module not in packages
