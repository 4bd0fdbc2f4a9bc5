"""Tension over time (issue 13): series exact on hand-made snapshots, snapshots taken and rebuilt from missions and
proposals, the worker's job idempotent — on SQLite and PostgreSQL.

Hand-made history (NOW = Monday 23 November 2026, 10:00 in Paris), nurses (inf) and care assistants (as):
  day        source       44 inf (req/fill/unf/avail)  44 as        35 inf (Bretagne)
  09/11 Mon  relevé       4/1/3/2                      —            2/0/2/1
  16/11 Mon  relevé       6/1/5/2                      2/2/0/4      2/1/1/1
  17/11–19/11 missing (the worker stopped)
  20/11 Fri  reconstitué  6/2/4/?                      —            2/1/1/?
  23/11 Mon  relevé       8/2/6/3                      1/0/1/0      3/1/2/2
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.figures.tension_history import (
    SNAPSHOT_EVERY,
    rebuild_day,
    snapshot_tension,
    take_snapshot,
    tension_history,
)
from core.shared.clock import paris_midnight
from core.shared.errors import PermissionDenied, ValidationError
from db import models as m
from tests.factories import (
    NOW,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_proposal,
    make_signed_in,
    make_user,
)

CCS = make_signed_in("ccs")
ARS_PDL = make_signed_in("ars", "52")
HISTORY = {
    date(2026, 11, 9): ("releve", {("44", "infirmier_de"): (4, 1, 3, 2), ("35", "infirmier_de"): (2, 0, 2, 1)}),
    date(2026, 11, 16): ("releve", {("44", "infirmier_de"): (6, 1, 5, 2), ("44", "aide_soignant"): (2, 2, 0, 4),
                                    ("35", "infirmier_de"): (2, 1, 1, 1)}),
    date(2026, 11, 20): ("reconstitue", {("44", "infirmier_de"): (6, 2, 4, None),
                                         ("35", "infirmier_de"): (2, 1, 1, None)}),
    date(2026, 11, 23): ("releve", {("44", "infirmier_de"): (8, 2, 6, 3), ("44", "aide_soignant"): (1, 0, 1, 0),
                                    ("35", "infirmier_de"): (3, 1, 2, 2)}),
}


@pytest.fixture
def history(uow) -> None:
    with uow() as session:
        for day, (source, rows) in HISTORY.items():
            session.add(m.TensionDay(day=day, source=source, taken_at=paris_midnight(day) + timedelta(hours=20)))
            session.flush()
            for (department, profession), (requested, filled, unfilled, available) in rows.items():
                session.add(m.TensionSnapshot(day=day, department_code=department, profession_code=profession,
                                              posts_requested=requested, posts_filled=filled, posts_unfilled=unfilled,
                                              available_volunteers=available))


def _by_day(result) -> dict[date, tuple]:  # noqa: ANN001 - a TensionHistory
    return {p.day: (p.requested, p.filled, p.unfilled, p.available, p.tension, p.rebuilt, p.missing)
            for p in result.points}


def test_the_national_series_sums_every_department_and_profession_day_by_day(uow, history) -> None:
    with uow() as session:
        result = tension_history(session, actor=CCS, days=15, now=NOW)
    days = _by_day(result)
    assert list(days)[0] == date(2026, 11, 9) and list(days)[-1] == date(2026, 11, 23) and len(days) == 15
    # tension = unfilled / volunteers of the (department, profession) pairs where posts wait: 44 as has none
    # waiting on 16/11, so its 4 volunteers do not lower the tension (5+1 unfilled over 2+1 volunteers)
    assert days[date(2026, 11, 9)] == (6, 1, 5, 3, 5 / 3, False, False)
    assert days[date(2026, 11, 16)] == (10, 4, 6, 7, 6 / 3, False, False)
    assert days[date(2026, 11, 17)] == (None, None, None, None, None, False, True)
    assert days[date(2026, 11, 20)] == (8, 3, 5, None, None, True, False)  # volunteers unknown on a rebuilt day
    assert days[date(2026, 11, 23)] == (12, 3, 9, 5, 9 / 5, False, False)
    assert (result.recorded_days, result.rebuilt_days, result.missing_days) == (3, 1, 11)
    # over 7 days (16/11 → 23/11): 3 more unfilled posts, tension from 2 to 1.8
    assert result.unfilled_change.value == 3 and result.unfilled_change.arrow == "↑"
    assert result.tension_change.value == pytest.approx(-0.2) and result.tension_change.arrow == "↓"


def test_a_region_a_department_and_a_profession_narrow_the_series_and_the_trends(uow, history) -> None:
    with uow() as session:
        region = tension_history(session, actor=ARS_PDL, ars_code="52", days=8, now=NOW)
        nurses_44 = tension_history(session, actor=CCS, department_code="44", profession_code="infirmier_de",
                                    days=8, now=NOW)
    assert _by_day(region)[date(2026, 11, 23)] == (9, 2, 7, 3, 7 / 3, False, False)
    assert [(d.code, d.unfilled, d.unfilled_change.value) for d in region.departments if d.unfilled] == [("44", 7, 2)]
    assert [r.code for r in region.regions] == ["52"]
    assert _by_day(nurses_44)[date(2026, 11, 16)] == (6, 1, 5, 2, 2.5, False, False)
    assert nurses_44.tension_change.value == pytest.approx(-0.5)
    departments = {d.code: d for d in nurses_44.departments}
    assert list(departments) == ["44"] and departments["44"].tension == 2.0


def test_the_trend_of_each_region_is_missing_when_its_past_day_is(uow, history) -> None:
    later = NOW + timedelta(days=1)  # 24/11: its week-ago day, 17/11, is missing
    with uow() as session:
        session.add(m.TensionDay(day=date(2026, 11, 24), source="releve", taken_at=later))
        result = tension_history(session, actor=CCS, days=3, now=later)
    assert result.latest.day == date(2026, 11, 24) and result.latest.unfilled == 0
    assert result.unfilled_change.value is None and result.unfilled_change.arrow == "–"
    brittany = next(r for r in result.regions if r.code == "53")
    assert brittany.unfilled == 0 and brittany.unfilled_change.value is None


def test_a_week_takes_the_figures_of_its_last_day_with_figures(uow, history) -> None:
    with uow() as session:
        result = tension_history(session, actor=CCS, days=15, step="semaine", now=NOW)
    weeks = _by_day(result)
    assert list(weeks) == [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    assert weeks[date(2026, 11, 9)][:3] == (6, 1, 5)
    assert weeks[date(2026, 11, 16)] == (8, 3, 5, None, None, True, False)  # Friday 20/11, rebuilt
    assert weeks[date(2026, 11, 23)][:3] == (12, 3, 9)


@pytest.mark.parametrize(("actor", "scope"), [
    (ARS_PDL, {}),  # the whole country is for the national roles
    (ARS_PDL, {"ars_code": "53"}),
    (ARS_PDL, {"department_code": "35"}),
    (make_signed_in("etablissement"), {"ars_code": "52"}),
    (make_signed_in("professionnel"), {}),
])
def test_an_ars_reads_its_own_region_only(uow, actor, scope) -> None:  # noqa: ANN001
    with uow() as session, pytest.raises(PermissionDenied):
        tension_history(session, actor=actor, now=NOW, **scope)


@pytest.mark.parametrize(("scope", "field"), [({"department_code": "99"}, "department_code"),
                                              ({"ars_code": "52", "department_code": "35"}, "department_code"),
                                              ({"step": "mois"}, "step"), ({"days": 0}, "days")])
def test_a_wrong_scope_is_refused_naming_the_field(uow, scope, field) -> None:  # noqa: ANN001
    with uow() as session, pytest.raises(ValidationError) as refused:
        tension_history(session, actor=CCS, now=NOW, **scope)
    assert refused.value.field == field


def test_a_snapshot_counts_the_needs_of_the_day_and_a_rebuilt_day_the_needs_as_they_stood(uow) -> None:
    """Snapshot of 23/11 against missions and proposals; the rebuilt 19/11 misses what came later."""
    with uow() as session:
        place = make_establishment(session, "44000")
        creator = make_user(session, establishment=place)
        running = make_mission(session, place, creator, count=3, start_date=date(2026, 11, 18),
                               end_date=date(2026, 11, 30), created_at=datetime(2026, 11, 17, 9, tzinfo=timezone.utc))
        make_mission(session, place, creator, count=2, start_date=date(2026, 11, 25), end_date=date(2026, 11, 28),
                     created_at=datetime(2026, 11, 21, 9, tzinfo=timezone.utc))  # posted after 19/11
        make_mission(session, place, creator, count=4, status="closed", start_date=date(2026, 11, 10),
                     end_date=date(2026, 11, 30), created_at=datetime(2026, 11, 9, tzinfo=timezone.utc),
                     closed_at=datetime(2026, 11, 20, tzinfo=timezone.utc))  # counts on 19/11, not on 23/11
        make_mission(session, place, creator, count=5, start_date=date(2026, 11, 1), end_date=date(2026, 11, 20),
                     created_at=datetime(2026, 10, 30, tzinfo=timezone.utc))  # over before 23/11
        make_mission(session, place, creator, count=6, status="pending")  # never a need
        nurses = [make_available_nurse(session, "44300") for _ in range(3)]
        make_available_nurse(session, "44300", available_to=date(2026, 11, 22))  # no longer available
        make_available_nurse(session, "44300", status="indisponible")
        make_proposal(session, running, nurses[0], state="affecte",
                      decided_at=datetime(2026, 11, 18, 9, tzinfo=timezone.utc))
        make_proposal(session, running, nurses[1], state="affecte",
                      decided_at=datetime(2026, 11, 22, 9, tzinfo=timezone.utc))  # after 19/11
        take_snapshot(session, now=NOW)
        rebuild_day(session, date(2026, 11, 19), now=NOW)
        rows = {(r.day, r.department_code, r.profession_code):
                (r.posts_requested, r.posts_filled, r.posts_unfilled, r.available_volunteers)
                for r in session.scalars(sa.select(m.TensionSnapshot))}
        sources = dict(session.execute(sa.select(m.TensionDay.day, m.TensionDay.source)).all())
    assert rows == {(date(2026, 11, 23), "44", "infirmier_de"): (5, 2, 3, 3),
                    (date(2026, 11, 19), "44", "infirmier_de"): (12, 1, 11, None)}
    assert sources == {date(2026, 11, 23): "releve", date(2026, 11, 19): "reconstitue"}


def test_the_worker_takes_the_day_once_an_hour_and_rebuilds_the_missing_days_since_the_first_need(uow) -> None:
    with uow() as session:
        place = make_establishment(session, "44000")
        make_mission(session, place, make_user(session, establishment=place), count=2,
                     start_date=date(2026, 11, 24), end_date=date(2026, 11, 30),
                     created_at=datetime(2026, 11, 20, 9, tzinfo=timezone.utc))
        assert snapshot_tension(session, now=NOW).endswith("pris, jours passés reconstitués : 3.")
        assert snapshot_tension(session, now=NOW + SNAPSHOT_EVERY / 2).endswith("à jour, jours passés reconstitués : 0.")
        make_mission(session, place, make_user(session, establishment=place), count=1,
                     created_at=NOW + SNAPSHOT_EVERY / 2)
        assert "pris" in snapshot_tension(session, now=NOW + SNAPSHOT_EVERY)
        days = dict(session.execute(sa.select(m.TensionDay.day, m.TensionDay.source)).all())
        today = session.scalar(sa.select(sa.func.sum(m.TensionSnapshot.posts_requested))
                               .where(m.TensionSnapshot.day == date(2026, 11, 23)))
    assert days == {date(2026, 11, 20): "reconstitue", date(2026, 11, 21): "reconstitue",
                    date(2026, 11, 22): "reconstitue", date(2026, 11, 23): "releve"}
    assert today == 3
