"""The columns' helpers: rounding as the answer rounds, and reasons as bit flags."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from app.screening.columns import FLAG, REASONS, reason_lists, reason_names, round6

# Values within rounding error of a half-way point at 6 decimals, where scaling first can
# round the other way, and exact binary half-way points (1/128 = 0.0078125).
NEAR_HALVES = [
    v
    for k in (0, 1, 7812, 123456, 499999, 999999)
    for v in (
        (k + 0.5) / 1e6,
        math.nextafter((k + 0.5) / 1e6, 0),
        math.nextafter((k + 0.5) / 1e6, 1),
    )
] + [0.0078125, 0.5, 1.0, 0.0, 2.675e-06]


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=40))
@example(NEAR_HALVES)
def test_round6_rounds_each_value_as_python_round_does(values: list[float]) -> None:
    assert round6(np.array(values)).tolist() == [round(v, 6) for v in values]


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=2, max_size=40))
def test_round6_keeps_the_shape_of_a_matrix(values: list[float]) -> None:
    matrix = np.array(values[: len(values) // 2 * 2]).reshape(-1, 2)
    assert round6(matrix).tolist() == [[round(v, 6) for v in row] for row in matrix.tolist()]


def test_reasons_are_named_in_answer_order_whatever_order_their_flags_were_set() -> None:
    flags = FLAG["MARKETPLACE_MARKER"] | FLAG["PROTECTED_CLUSTER_IMPORT"] | FLAG["SHADOW_MODE"]
    assert reason_names(flags) == ("SHADOW_MODE", "PROTECTED_CLUSTER_IMPORT", "MARKETPLACE_MARKER")
    assert reason_names(0) == ()


def test_reason_lists_names_each_listing_and_shares_equal_combinations() -> None:
    a, b = FLAG["LOW_CONFIDENCE"] | FLAG["UNCERTAIN_ORIGIN"], FLAG["DOMESTIC_ORIGIN"]
    lists = reason_lists(np.array([a, b, a]))
    assert lists == [("LOW_CONFIDENCE", "UNCERTAIN_ORIGIN"), ("DOMESTIC_ORIGIN",)] + [
        ("LOW_CONFIDENCE", "UNCERTAIN_ORIGIN")
    ]
    assert lists[0] is lists[2]
    assert reason_lists(np.array([], dtype=np.int64)) == []


def test_every_reason_has_its_own_flag() -> None:
    assert [reason_names(FLAG[r]) for r in REASONS] == [(r,) for r in REASONS]
