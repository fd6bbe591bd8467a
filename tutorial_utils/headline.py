"""The headline contract: a notebook prints one line with its headline metric; `make course` reads it back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HEADLINE_PREFIX = "Headline: "


def show_headline(label: str, value: float) -> None:
    """Print the notebook's headline metric, the line `make course` puts in its summary table."""
    print(f"{HEADLINE_PREFIX}{label} = {value:.4f}")


def read_headline(notebook: Mapping[str, Any]) -> str | None:
    """The last headline an executed notebook (its JSON as a mapping, or an `nbformat` node) printed, or None."""
    found = None
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(HEADLINE_PREFIX):
                    found = line.removeprefix(HEADLINE_PREFIX)
    return found
