"""The simulator's arithmetic: the wave's curve, the dice, acceptance, Gini and Lorenz."""

from __future__ import annotations

import pytest

from ops.simulation.behaviour import Behaviour, Dice, acceptance, with_overrides
from ops.simulation.metrics import gini, lorenz
from ops.simulation.wave import arrivals


def test_the_wave_files_every_need_and_peaks_at_a_third_of_the_period() -> None:
    counts = arrivals(300, 30)
    assert sum(counts) == 300 and len(counts) == 60
    peak = max(range(60), key=counts.__getitem__)
    assert 16 <= peak <= 24  # around day 10
    assert counts[0] < counts[peak] and counts[-1] < counts[peak]


def test_the_dice_depend_on_the_seed_and_the_keys_only() -> None:
    assert Dice(1).uniform("answer", 5, 3) == Dice(1).uniform("answer", 5, 3)
    assert Dice(1).uniform("answer", 5, 3) != Dice(2).uniform("answer", 5, 3)
    draws = [Dice(7).uniform("x", i) for i in range(2000)]
    assert min(draws) >= 0 and max(draws) < 1 and 0.45 < sum(draws) / len(draws) < 0.55
    assert {Dice(3).integer(1, 5, "k", i) for i in range(200)} == {1, 2, 3, 4, 5}


def test_acceptance_falls_with_distance_and_fatigue() -> None:
    behaviour = Behaviour()
    assert acceptance(behaviour, 0, 0) == pytest.approx(behaviour.accept_base)
    assert acceptance(behaviour, 60, 0) < acceptance(behaviour, 10, 0)
    assert acceptance(behaviour, 10, 4) < acceptance(behaviour, 10, 1)


def test_parameters_can_be_changed_by_name_only() -> None:
    assert with_overrides({"fatigue": 0.5}).fatigue == 0.5
    assert Behaviour().scaled("answer_rate", 3).answer_rate == 1.0  # a share stays a share
    with pytest.raises(ValueError, match="inconnu"):
        with_overrides({"fatigeu": 0.5})


def test_gini_and_lorenz() -> None:
    assert gini([2, 2, 2, 2]) == 0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([0, 0]) == 0 and gini([]) is None
    curve = lorenz([0, 0, 0, 4])
    assert curve[0] == [0.0, 0.0] and curve[-1] == [1.0, 1.0] and len(curve) == 101
    assert curve[50] == [0.5, 0.0]  # the least asked half got nothing


def test_the_sensitivity_table_reads_each_variant() -> None:
    from ops.simulation.sensitivity import comparison, markdown

    old = {"posts_filled": 200, "median_ttf": 48.0, "gini": 0.56, "gini_floor": 0.38, "waiting_over_7_days_max": 30}
    new = {"posts_filled": 230, "median_ttf": 24.0, "gini": 0.5, "gini_floor": 0.41, "waiting_over_7_days_max": 0}
    row = {"parameter": "fatigue", "factor": 0.5, "value": 0.425, "2020": old, "renfort": new, **comparison(old, new)}
    assert row["fill_gain"] == pytest.approx(0.15) and row["ttf_ratio"] == pytest.approx(0.5)
    line = markdown([row]).splitlines()[-1]
    assert line == ("| fatigue | ×0,5 | 0,425 | 200 → 230 | +15,0 % | 48 → 24 | 0,50 | 0,56 → 0,50 | 0,38 → 0,41 "
                    "| 30 → 0 |")
