"""The notebooks' parameter rules: what each accepts, and the one sentence that refuses the rest."""

import math

import pytest

from tutorial_utils.parameters import (
    ParameterError,
    check_parameters,
    cores,
    number,
    numbers,
    text,
    whole,
    wholes,
)


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (whole(1), [1, 10**6], [0, -3, "ten", 10.0, True, None]),
        (whole(1, 36, square=True), [1, 16, 36], [0, 20, 49, 16.0]),
        (number(above=0), [1, 0.001, 5], [0, -0.1, math.nan, math.inf, "0.1", False]),
        (number(0, 1), [0, 0.5, 1], [-0.01, 1.01]),
        (numbers(above=0, distinct=True), [[1], [1, 0.1], (0.5, 0.2)], [[], [1, 1], [1, -1], "[1, 0.1]", 1]),
        (wholes(1, 16, distinct=True), [[4, 6, 8]], [[4, 4], [0], [17], [4.0]]),
        (wholes(1), [[4, 20, 4]], [[], ["4"]]),
        (text(), ["diamonds-price"], ["", "  ", 42, None]),
        (text(empty=True), ["", "sqlite:///x.db"], [None, 1]),
    ],
)
def test_each_rule_accepts_the_good_values_and_refuses_the_bad(rule, good, bad):
    for value in good:
        check_parameters({"P": value}, P=rule)
    for value in bad:
        with pytest.raises(ParameterError, match=r"^P must be "):
            check_parameters({"P": value}, P=rule)


def test_the_sentence_names_the_parameter_what_it_accepts_and_the_value():
    with pytest.raises(ParameterError) as error:
        check_parameters({"N_TRIALS": "ten"}, N_TRIALS=whole(1, 500))
    assert str(error.value) == "N_TRIALS must be a whole number from 1 to 500; got 'ten'"


def test_a_list_given_with_papermill_p_is_told_to_use_y():
    with pytest.raises(ParameterError) as error:
        check_parameters({"ALPHAS": "[1, 0.3]"}, ALPHAS=numbers(above=0))
    assert str(error.value).endswith('as in -y "ALPHAS: [1, 0.3]")')


def test_the_first_broken_rule_is_reported_and_a_missing_name_is_named():
    namespace = {"A": 0, "B": -1}
    with pytest.raises(ParameterError, match=r"^A must be"):
        check_parameters(namespace, A=whole(1), B=whole(1))
    with pytest.raises(ParameterError, match=r"^C is not defined"):
        check_parameters(namespace, C=whole(1))


def test_cores_stops_at_this_machines_core_count(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    check_parameters({"W": 4}, W=cores())
    with pytest.raises(ParameterError, match=r"from 1 to 4; got 5$"):
        check_parameters({"W": 5}, W=cores())
