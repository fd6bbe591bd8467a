"""Numbers in a notebook's prose that neither its outputs nor its code show: stale after a re-render, or never shown.

The rule: every decimal number in a markdown cell, outside code spans, links and HTML, is either a literal of the
notebook's code (a setting) or a number its outputs print, rounded to the decimals the prose gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import nbformat

NOT_PROSE = re.compile(r"```.*?```|`[^`]*`|\]\([^)]*\)|<[^>]+>", re.S)  # code, link targets, HTML
#: 0.1490, 31.10, and -0.046 after a space or a bracket (an interval); not 3.11.2, v1.2 or the 0.5 of "0.1-0.5"
PROSE_NUMBER = re.compile(r"(?:(?<=[\s(\[])-)?(?<![\w.])\d+\.\d+(?![\w.]*\d)")
ANY_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\d)")


@dataclass(frozen=True)
class UnbackedNumber:
    """A prose number that no output and no code literal shows."""

    cell: int
    number: str
    context: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.number} in '...{self.context}...'"


def _printed(notebook: nbformat.NotebookNode) -> list[Decimal]:
    texts = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                texts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    return [Decimal(number) for number in ANY_NUMBER.findall("\n".join(texts))]


def _shown(number: str, printed: list[Decimal], literals: set[str]) -> bool:
    if number in literals:
        return True
    value = Decimal(number)
    precision = Decimal(1).scaleb(value.as_tuple().exponent)  # 0.149 -> 0.001
    return any(p.quantize(precision, ROUND_HALF_UP) == value for p in printed if abs(p - value) <= 1)


def unbacked_numbers(notebook: nbformat.NotebookNode, allowed: set[str] = frozenset()) -> list[UnbackedNumber]:
    """Every decimal number of the prose that the outputs and the code literals do not show (`allowed` excepted)."""
    printed = _printed(notebook)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    literals = set(ANY_NUMBER.findall(code)) | set(allowed)
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        prose = NOT_PROSE.sub(" ", cell.source)
        for match in PROSE_NUMBER.finditer(prose):
            if not _shown(match.group(), printed, literals):
                context = " ".join(prose[max(0, match.start() - 40) : match.end() + 20].split())
                found.append(UnbackedNumber(index, match.group(), context))
    return found
