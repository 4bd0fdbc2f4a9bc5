"""The worker's precomputed « Vue nationale » and regions' « Indicateurs » (core.figures.snapshots): the opening view
is served from it while it is fresh — the same figures as computed live, with the time it was computed — and never
for another view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.figures.indicators import (
    IndicatorFilters,
    compute_national_overview,
    national_overview,
    opening_view,
    refresh_figures,
    refresh_national_overview,
    refresh_regions,
    region_indicators,
)
from core.shared.config import get_settings
from db import models as m
from tests.factories import make_establishment, make_mission, make_user
from tests.services.test_indicators import CCS, INF, NOW, build


@pytest.fixture
def data(uow: Any) -> Any:
    with uow() as session:
        build(session)
    return uow


def _opening(session: Any, now: Any = NOW) -> Any:
    filters, series_period = opening_view(now)
    return national_overview(session, actor=CCS, filters=filters, series_period=series_period, now=now)


def _add_open_mission(session: Any) -> None:
    nantes = make_establishment(session, "44000")
    make_mission(session, nantes, make_user(session, establishment=nantes), profession_code=INF, count=7,
                 status="open", start_date=NOW.date(), end_date=NOW.date() + timedelta(days=3), created_at=NOW)


def test_the_opening_view_is_served_from_the_workers_snapshot_with_its_time(data: Any) -> None:
    with data() as session:
        live = _opening(session)
        assert live.computed_at is None
        assert "Vue nationale précalculée" in refresh_national_overview(session, now=NOW)
    with data() as session:
        _add_open_mission(session)  # written after the snapshot: not in it until the next pass
    with data() as session:
        served = _opening(session, NOW + timedelta(seconds=30))
        filters, series_period = opening_view(NOW)
        recomputed = compute_national_overview(session, filters, now=NOW, series_period=series_period)
    assert served.computed_at == NOW
    assert served.headline == live.headline and served.headline.posts_requested == 12
    assert served.by_department == live.by_department and served.by_region == live.by_region
    assert served.time_series == live.time_series and served.crises == live.crises
    assert served.by_profession_posts == live.by_profession_posts and served.period == live.period
    assert recomputed.headline.posts_requested == 19  # the live figure has the new mission


def test_another_view_or_an_old_snapshot_is_computed_live(data: Any) -> None:
    with data() as session:
        refresh_national_overview(session, now=NOW)
    with data() as session:
        _add_open_mission(session)
    with data() as session:
        filtered = national_overview(session, actor=CCS, now=NOW, filters=IndicatorFilters(
            period=opening_view(NOW)[0].period, profession_code=INF))
        too_old = _opening(session, NOW + timedelta(seconds=get_settings().figures_snapshot_seconds + 1))
        stored = session.scalar(sa.select(m.FiguresSnapshot.payload))
    assert filtered.computed_at is None and filtered.headline.open_missions == 4  # M1, M3, M8 + the new one
    assert too_old.computed_at is None and too_old.headline.posts_requested == 19
    assert stored["headline"]["posts_requested"] == 12  # plain JSON in the database, never pickle


def _region(session: Any, now: Any = NOW, **filters: Any) -> Any:
    opening, series_period = opening_view(now)
    chosen = IndicatorFilters(period=opening.period, **filters) if filters else opening
    return region_indicators(session, actor=CCS, ars_code="52", filters=chosen,
                             series_period=series_period if not filters else None, now=now)


def test_each_regions_opening_view_is_served_from_the_workers_snapshot(data: Any) -> None:
    with data() as session:
        live = _region(session)
        said = refresh_figures(session, now=NOW)
    assert said.endswith("Indicateurs régionaux précalculés : 18 sur 18.")
    with data() as session:
        _add_open_mission(session)
    with data() as session:
        served = _region(session, NOW + timedelta(seconds=30))
        filtered = _region(session, NOW + timedelta(seconds=30), profession_code=INF)
    assert live.computed_at is None and served.computed_at == NOW
    assert served.posts_by_department == live.posts_by_department and served.funnel == live.funnel
    assert served.open_needs_over_time == live.open_needs_over_time and served.period == live.period
    assert served.needs_by_profession == live.needs_by_profession
    assert served.available_by_profession_and_department == live.available_by_profession_and_department
    assert served.median_time_to_fill_hours == live.median_time_to_fill_hours
    assert filtered.computed_at is None  # another view: computed on demand, with the new mission
    assert sum(p.requested for p in filtered.posts_by_department) == 3 + 1 + 7  # M1, M3 and the new nurses' mission


def test_a_pass_short_of_time_refreshes_the_regions_never_computed_then_the_oldest(data: Any) -> None:
    with data() as session:
        assert refresh_regions(session, now=NOW, budget_seconds=0.0) == (1, 18)  # one, then the budget is spent
        first = set(session.scalars(sa.select(m.FiguresSnapshot.key)))
        refresh_regions(session, now=NOW + timedelta(seconds=1), budget_seconds=0.0)
        second = set(session.scalars(sa.select(m.FiguresSnapshot.key))) - first
    assert len(first) == len(second) == 1 and first != second  # the next pass takes one never computed
