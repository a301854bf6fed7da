"""Properties of screening that must hold for any input, checked with hypothesis."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.protocols.rows import result_rows
from app.schemas import Listing
from app.screening.normalize import is_blank
from app.screening.policy import Policy, Thresholds
from app.screening.screener import Screener
from app.screening.store import load_model

RANK = {"allow": 0, "review": 1, "block": 2}
probability = st.floats(min_value=0, max_value=1, allow_nan=False)
# Any text a client may send: letters of every script, digits, symbols, controls, spaces.
# (A title must have something visible: only-invisible titles are refused at the schema.)
titles = st.text(min_size=1, max_size=500).filter(lambda t: not is_blank(t))


@pytest.fixture(scope="module")
def screener(tiny_model_dir: Path) -> Screener:
    return Screener(load_model(tiny_model_dir), Policy(version="p"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=titles, description=st.one_of(st.none(), st.text(max_size=2000)))
def test_any_text_within_limits_gets_a_valid_answer(
    screener: Screener, title: str, description: str | None
) -> None:
    listing = Listing.model_validate({"title": title, "description": description})
    result = result_rows(screener.screen([listing]))[0]
    assert result["decision"] in RANK
    assert result["cluster"] is not None and result["origin"] is not None
    assert abs(sum(result["cluster"]["scores"].values()) - 1) < 1e-4
    assert 0 <= result["origin"]["import_probability"] <= 1
    assert result["reasons"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(titles, min_size=1, max_size=8))
def test_the_same_input_always_gets_the_same_answer(screener: Screener, batch: list[str]) -> None:
    listings = [Listing.model_validate({"title": t}) for t in batch]
    first = result_rows(screener.screen(listings))
    assert result_rows(screener.screen(listings)) == first
    # ... and a listing's answer does not depend on the batch around it.
    assert [result_rows(screener.screen([x]))[0] for x in listings] == first


@given(
    p_protected=probability,
    p_import=probability,
    allow=st.floats(0, 0.49),
    low=st.floats(0.5, 1),
    high=st.floats(0.5, 1),
)
def test_raising_the_block_threshold_never_turns_an_allow_into_a_block(
    p_protected: float, p_import: float, allow: float, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    lenient = Policy(version="a", thresholds=Thresholds(block=low, allow=allow))
    strict = Policy(version="b", thresholds=Thresholds(block=high, allow=allow))
    before = lenient.decide(p_protected, p_import).decision
    after = strict.decide(p_protected, p_import).decision
    assert RANK[after] <= RANK[before]


@given(
    p_protected=probability,
    p_import=probability,
    low=st.floats(0, 0.49),
    high=st.floats(0, 0.49),
    block=st.floats(0.5, 1),
)
def test_raising_the_allow_threshold_never_makes_a_decision_stricter(
    p_protected: float, p_import: float, low: float, high: float, block: float
) -> None:
    low, high = sorted((low, high))
    a = Policy(version="a", thresholds=Thresholds(block=block, allow=low))
    b = Policy(version="b", thresholds=Thresholds(block=block, allow=high))
    assert (
        RANK[b.decide(p_protected, p_import).decision]
        <= RANK[a.decide(p_protected, p_import).decision]
    )
