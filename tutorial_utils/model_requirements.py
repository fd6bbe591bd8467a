"""The pip requirements the course's logged models need, pinned to the installed versions.

`log_model` infers them by default: it loads the model in a fresh Python process and lists what that process
imported. On the course's 2-core machine that costs 3-6 s a model, and the list picks up bystanders the model
never uses (pytest, ipywidgets, psutil). The course knows what each flavor needs and pins that instead.
"""

from __future__ import annotations

from importlib.metadata import version

#: The distributions a model of each flavor needs to load and predict; MLflow adds `mlflow==<version>` itself.
FLAVOR_PACKAGES = {
    "sklearn": ["scikit-learn", "skops", "numpy", "scipy", "pandas"],
    "catboost": ["catboost", "numpy", "scipy", "pandas"],
}


def model_requirements(flavor: str) -> list[str]:
    """`name==version` lines for a model of `flavor` ("sklearn" or "catboost"), for `pip_requirements=`.

    Raises ValueError for a flavor the course does not log.
    """
    if flavor not in FLAVOR_PACKAGES:
        raise ValueError(f"no requirements known for flavor {flavor!r}; have {sorted(FLAVOR_PACKAGES)}")
    return [f"{package}=={version(package)}" for package in FLAVOR_PACKAGES[flavor]]
