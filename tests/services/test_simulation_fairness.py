"""The fairest spread of a run's requests: checked against every possible spread on small cases."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.simulation.fairness import Need, _Spread, fairest_loads
from ops.simulation.metrics import gini


def _every_spread(needs: list[Need], fixed: dict[int, int]) -> list[list[int]]:
    volunteers = sorted({v for need in needs for v in need.eligible} | set(fixed))
    spreads = []
    for choice in itertools.product(*(itertools.combinations(sorted(set(n.eligible)), n.asked) for n in needs)):
        loads = dict.fromkeys(volunteers, 0) | dict(fixed)
        for asked in choice:
            for volunteer in asked:
                loads[volunteer] += 1
        spreads.append([loads[v] for v in volunteers])
    return spreads


@st.composite
def small_waves(draw) -> tuple[list[Need], dict[int, int]]:
    volunteers = draw(st.integers(min_value=1, max_value=6))
    needs = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        eligible = draw(st.lists(st.integers(0, volunteers - 1), min_size=1, max_size=volunteers, unique=True))
        needs.append(Need(asked=draw(st.integers(0, len(eligible))), eligible=eligible))
    fixed = draw(st.dictionaries(st.integers(0, volunteers + 1), st.integers(1, 3), max_size=2))
    return needs, fixed


@settings(max_examples=300, deadline=None)
@given(small_waves())
def test_no_spread_of_the_same_requests_is_more_equal(wave: tuple[list[Need], dict[int, int]]) -> None:
    needs, fixed = wave
    loads = fairest_loads(needs, fixed)
    spreads = _every_spread(needs, fixed)
    assert sum(loads.values()) == sum(spreads[0])
    assert sum(x * x for x in loads.values()) == min(sum(x * x for x in spread) for spread in spreads)
    assert gini(list(loads.values())) == pytest.approx(min(gini(spread) for spread in spreads))


@settings(max_examples=300, deadline=None)
@given(small_waves(), st.randoms(use_true_random=False))
def test_any_spread_a_run_leaves_is_evened_out_to_the_fairest(wave: tuple[list[Need], dict[int, int]], rng) -> None:
    needs, fixed = wave
    spread = _Spread(needs, fixed)
    for index, need in enumerate(needs):
        for volunteer in rng.sample(sorted(set(need.eligible)), need.asked):
            spread._give(index, volunteer)
    spread.even_out_everywhere()
    best = min(sum(x * x for x in spread) for spread in _every_spread(needs, fixed))
    assert sum(x * x for x in spread.loads.values()) == best


def test_a_volunteer_asked_by_every_need_keeps_at_most_one_request() -> None:
    needs = [Need(asked=1, eligible=[1, 2]), Need(asked=1, eligible=[1, 3]), Need(asked=1, eligible=[1, 4])]
    assert sorted(fairest_loads(needs).values()) == [0, 1, 1, 1]


def test_requests_move_along_a_path_of_exchanges_between_needs() -> None:
    # As a run may leave them: volunteer 1 asked by A and B, volunteer 2 by C, volunteer 3 by nobody. Handing B to 2
    # alone gains nothing (2 would be asked twice); C can go to 3 first: C moves to 3 and B to 2, a path of two.
    needs = [Need(asked=1, eligible=[1]), Need(asked=1, eligible=[1, 2]), Need(asked=1, eligible=[2, 3])]
    spread = _Spread(needs, {})
    for index, volunteer in ((0, 1), (1, 1), (2, 2)):
        spread._give(index, volunteer)
    assert spread.even_out(2)
    assert spread.loads == {1: 1, 2: 1, 3: 1}
    assert spread.asked == [{1}, {2}, {3}]


def test_fixed_requests_stay_and_count() -> None:
    loads = fairest_loads([Need(asked=1, eligible=[1, 2])], fixed={1: 2})
    assert loads == {1: 2, 2: 1}


def test_a_need_cannot_ask_more_than_its_eligible_volunteers() -> None:
    with pytest.raises(ValueError):
        fairest_loads([Need(asked=3, eligible=[1, 2])])
