"""Check a notebook's parameters (the knobs papermill can override) before anything touches the tracking store.

Each notebook's cell after its `parameters` cell calls `check_parameters(globals(), NAME=rule, ...)`. A value the
notebook cannot use stops it with one sentence that names the parameter and what it accepts, so a bad `-p` never
leaves an empty or FAILED run behind.
"""

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ParameterError(ValueError):
    """A notebook parameter holds a value the notebook cannot use."""


@dataclass(frozen=True)
class Rule:
    """What a parameter accepts: `accepts` completes "NAME must be ...", `test` says whether a value qualifies."""

    accepts: str
    test: Callable[[Any], bool]


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _span(minimum: float | None, maximum: float | None, above: float | None = None) -> str:
    if above is None and minimum is not None and maximum is not None:
        return f"from {minimum:g} to {maximum:g}"
    bounds = [("above", above), ("at least", minimum), ("at most", maximum)]
    return " and ".join(f"{words} {bound:g}" for words, bound in bounds if bound is not None)


def _in_span(value: float, minimum: float | None, maximum: float | None, above: float | None = None) -> bool:
    return (
        (minimum is None or value >= minimum)
        and (maximum is None or value <= maximum)
        and (above is None or value > above)
    )


def whole(minimum: int | None = None, maximum: int | None = None, *, square: bool = False) -> Rule:
    """A whole number (not a bool, not 10.0) in [minimum, maximum]; with `square`, a perfect square as well."""
    kind = "a perfect square" if square else "a whole number"
    return Rule(
        f"{kind} {_span(minimum, maximum)}".strip(),
        lambda v: _is_whole(v) and _in_span(v, minimum, maximum) and (not square or math.isqrt(v) ** 2 == v),
    )


def cores(minimum: int = 1) -> Rule:
    """A whole number from `minimum` to this machine's core count (more processes than cores only queue)."""
    return whole(minimum, os.cpu_count() or 1)


def number(minimum: float | None = None, maximum: float | None = None, *, above: float | None = None) -> Rule:
    """A finite int or float in [minimum, maximum], and greater than `above` when given."""
    return Rule(
        f"a number {_span(minimum, maximum, above)}".strip(),
        lambda v: _is_number(v) and _in_span(v, minimum, maximum, above),
    )


def _listed(item: Rule, plural: str, distinct: bool) -> Rule:
    def test(value: Any) -> bool:
        return (
            isinstance(value, list | tuple)
            and len(value) > 0
            and all(item.test(v) for v in value)
            and (not distinct or len(set(value)) == len(value))
        )

    return Rule(f"a non-empty list of {'distinct ' if distinct else ''}{plural}", test)


def numbers(
    minimum: float | None = None, maximum: float | None = None, *, above: float | None = None, distinct: bool = False
) -> Rule:
    """A non-empty list of numbers, each one as `number` accepts it; with `distinct`, no repeats."""
    return _listed(number(minimum, maximum, above=above), f"numbers {_span(minimum, maximum, above)}".strip(), distinct)


def wholes(minimum: int | None = None, maximum: int | None = None, *, distinct: bool = False) -> Rule:
    """A non-empty list of whole numbers in [minimum, maximum]; with `distinct`, no repeats."""
    return _listed(whole(minimum, maximum), f"whole numbers {_span(minimum, maximum)}".strip(), distinct)


def text(*, empty: bool = False) -> Rule:
    """A string; an empty one only with `empty`."""
    return Rule(
        "a string" if empty else "a non-empty string", lambda v: isinstance(v, str) and (empty or v.strip() != "")
    )


def _hint(name: str, value: Any) -> str:
    if isinstance(value, str) and value.strip()[:1] in ("[", "("):
        return f' (text: papermill\'s -p passes a list as text, so give it with -y, as in -y "{name}: {value.strip()}")'
    return ""


def check_parameters(namespace: Mapping[str, Any], **rules: Rule) -> None:
    """Raise `ParameterError` for the first parameter in `namespace` (the notebook's globals) that breaks its rule."""
    for name, rule in rules.items():
        if name not in namespace:
            raise ParameterError(f"{name} is not defined: run the parameters cell first")
        value = namespace[name]
        if not rule.test(value):
            raise ParameterError(f"{name} must be {rule.accepts}; got {value!r}{_hint(name, value)}")
