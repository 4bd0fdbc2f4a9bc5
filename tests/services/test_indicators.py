"""ARS "Indicateurs" and CCS "Vue nationale": every figure against a small fixture counted by hand.

The fixture (NOW = Monday 23 November 2026, 10:00 in Paris):

region 52 Pays de la Loire — departments 44, 49, 53, 72, 85
  E1 Nantes (44)   M1 infirmier_de  3 open    20/11–30/11 created 18/11 10:00Z, CCS alert (pools not opened)
                   M2 aide_soignant 2 filled  24/11–05/12 created 19/11 08:00Z, filled 20/11 08:00Z, alert
                   M4 infirmier_de  2 closed  01/11–10/11 created 24/10 22:30Z (25/10 in Paris: summer time),
                                                            closed 11/11 00:30Z
                   M0 autre         0 open    placeholder (never counts)
  E2 Angers (49)   M3 infirmier_de  1 open    10/12–20/12 created 21/11 09:00Z, alert answered (pools opened)
                   M6 aide_soignant 4 pending, M7 aide_soignant 2 archived (never count)
  E6 Vendée (85)   M11 aide_soignant 2 open   26/11–02/12 created 22/11 15:00Z
  E5 Nantes (44), rejected request: M10 infirmier_de 3 closed (never a need)
  E4 Nantes (44), pending request: placeholder mission of 0 people; its user is the pending account
region 53 Bretagne — E3 Rennes (35)
                   M8 infirmier_de  3 open    22/11–15/12 created 22/11 10:00Z
                   M9 aide_soignant 1 filled  25/11–28/11 created 19/11 23:30Z (20/11 in Paris), filled 21/11

proposals: M1 v1 affecte (decided 18/11 16:00Z: 6 h), v2 refuse, v3 contacte; M2 v4 affecte (19/11 20:00Z:
12 h), v5 affecte (20/11 08:00Z); M4 v6 termine (31/10 09:00Z: 154.5 h); M3 v11 annule; M8 v7 affecte
(23/11 08:00Z: 22 h), v8 en_cours; M9 v9 affecte (21/11 12:00Z: 36.5 h).
volunteers (available from 1 October; v10 only until 15 November):
  44: v1 inf affecte ✓, v2 inf disponible, v6 inf disponible ✓, v10 inf disponible, v4 AS affecte,
      v13 AS supprime
  49: v3 inf contacte ✓, v11 inf disponible, v5 AS affecte ✓, v12 AS indisponible
  35: v7 inf affecte, v8 inf en_cours, v16 inf disponible, v9 AS affecte, v15 AS disponible
(✓ = verified)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from core.figures.indicators import IndicatorFilters, Period, national_overview, region_indicators
from core.shared.clock import PARIS
from core.shared.errors import NotFound, PermissionDenied, ValidationError
from core.shared.sqlfunc import hours_between, paris_date
from db import models as m
from tests.factories import make_establishment, make_mission, make_professional, make_signed_in, make_user

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
INF, AS = "infirmier_de", "aide_soignant"


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


CCS = make_signed_in("ccs")


def build(session: Any) -> None:
    nantes, angers = make_establishment(session, "44000"), make_establishment(session, "49000")
    vendee, rennes = make_establishment(session, "85000"), make_establishment(session, "35000")
    rejected = make_establishment(session, "44000", status="rejected")
    pending = make_establishment(session, "44000", status="pending")
    creator = make_user(session, establishment=nantes)
    make_user(session, establishment=pending, status="pending")  # the pending account request
    make_user(session, role="professionnel", status="pending")  # not an account request
    make_user(session, establishment=rejected, status="rejected")

    def mission(establishment: m.Establishment, profession: str, count: int, status: str, start: date, end: date,
                created: datetime, **extra: Any) -> m.Mission:
        return make_mission(session, establishment, creator, profession_code=profession, count=count, status=status,
                            start_date=start, end_date=end, created_at=created, **extra)

    m1 = mission(nantes, INF, 3, "open", d(11, 20), d(11, 30), utc(11, 18, 10), ccs_alert_at=utc(11, 21, 9),
                 ccs_alert_message="Renfort urgent")
    m2 = mission(nantes, AS, 2, "filled", d(11, 24), d(12, 5), utc(11, 19, 8), filled_at=utc(11, 20, 8),
                 ccs_alert_at=utc(11, 19, 12))
    m4 = mission(nantes, INF, 2, "closed", d(11, 1), d(11, 10), utc(10, 24, 22, 30), closed_at=utc(11, 11, 0, 30))
    mission(nantes, "autre", 0, "open", d(11, 20), d(11, 20), utc(11, 20, 9))
    m3 = mission(angers, INF, 1, "open", d(12, 10), d(12, 20), utc(11, 21, 9), ccs_alert_at=utc(11, 21, 10),
                 pools_opened_at=utc(11, 21, 11))
    mission(angers, AS, 4, "pending", d(11, 20), d(11, 30), utc(11, 20, 9))
    mission(angers, AS, 2, "archived", d(11, 20), d(11, 30), utc(11, 20, 9), closed_at=utc(11, 21, 9))
    mission(vendee, AS, 2, "open", d(11, 26), d(12, 2), utc(11, 22, 15))
    mission(rejected, INF, 3, "closed", d(11, 20), d(11, 30), utc(11, 15, 9), closed_at=utc(11, 16, 9))
    mission(pending, "autre", 0, "pending", d(11, 22), d(11, 22), utc(11, 22, 9))
    m8 = mission(rennes, INF, 3, "open", d(11, 22), d(12, 15), utc(11, 22, 10))
    m9 = mission(rennes, AS, 1, "filled", d(11, 25), d(11, 28), utc(11, 19, 23, 30), filled_at=utc(11, 21, 12))

    def volunteer(postal_code: str, profession: str, status: str, verified: bool = False, **extra: Any) -> int:
        return make_professional(session, postal_code, profession_code=profession, status=status, verified=verified,
                                 available_from=d(10, 1), **extra).id

    v1 = volunteer("44000", INF, "affecte", verified=True)
    v2 = volunteer("44000", INF, "disponible")
    v6 = volunteer("44000", INF, "disponible", verified=True)
    volunteer("44000", INF, "disponible", available_to=d(11, 15))  # v10
    v4 = volunteer("44000", AS, "affecte")
    volunteer("44000", AS, "supprime", verified=True)  # v13
    v3 = volunteer("49000", INF, "contacte", verified=True)
    v11 = volunteer("49000", INF, "disponible")
    v5 = volunteer("49000", AS, "affecte", verified=True)
    volunteer("49000", AS, "indisponible")  # v12
    v7 = volunteer("35000", INF, "affecte")
    v8 = volunteer("35000", INF, "en_cours")
    volunteer("35000", INF, "disponible")  # v16
    v9 = volunteer("35000", AS, "affecte")
    volunteer("35000", AS, "disponible")  # v15

    def proposal(mission: m.Mission, professional_id: int, state: str, decided: datetime | None) -> None:
        session.add(m.Proposal(mission_id=mission.id, professional_id=professional_id, state=state,
                               created_at=mission.created_at + timedelta(hours=1), decided_at=decided))

    proposal(m1, v1, "affecte", utc(11, 18, 16))
    proposal(m1, v2, "refuse", utc(11, 19, 9))
    proposal(m1, v3, "contacte", None)
    proposal(m2, v4, "affecte", utc(11, 19, 20))
    proposal(m2, v5, "affecte", utc(11, 20, 8))
    proposal(m4, v6, "termine", utc(10, 31, 9))
    proposal(m3, v11, "annule", utc(11, 22, 9))
    proposal(m8, v7, "affecte", utc(11, 23, 8))
    proposal(m8, v8, "en_cours", None)
    proposal(m9, v9, "affecte", utc(11, 21, 12))
    session.flush()


@pytest.fixture
def data(uow: Any) -> Any:
    with uow() as session:
        build(session)
    return uow


def by_code(rows: list[Any]) -> dict[str, Any]:
    return {row[0]: row for row in rows}


# ---------------------------------------------------------------- national overview


def test_the_national_headline_counts_open_needs_posts_volunteers_requests_and_alerts(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, now=NOW)
    headline = overview.headline
    assert headline.open_missions == 4  # M1, M3, M8, M11
    assert headline.posts_requested == 12  # 3 + 2 + 1 + 2 + 3 + 1
    assert headline.posts_filled == 5  # v1; v4, v5; v7; v9
    assert headline.fill_rate == pytest.approx(5 / 12)
    assert headline.available_volunteers == 6  # v2, v6, v10, v11, v16, v15
    assert headline.pending_account_requests == 1
    assert headline.open_alerts == 1  # M1 (M2 is filled, M3's pools are open)


def test_the_tension_map_divides_unfilled_posts_by_available_volunteers_of_the_same_professions(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, now=NOW)
    departments = by_code(overview.by_department)
    assert len(departments) == 103  # every department with an ARS, for a complete map
    assert departments["44"] == ("44", "Loire-Atlantique", "52", 2, 3, pytest.approx(2 / 3))
    assert departments["49"] == ("49", "Maine-et-Loire", "52", 1, 1, 1.0)
    assert departments["85"] == ("85", "Vendée", "52", 2, 0, None)  # nobody to send: no ratio
    assert departments["35"] == ("35", "Ille-et-Vilaine", "53", 2, 1, 2.0)  # v15 is not a nurse
    assert departments["53"] == ("53", "Mayenne", "52", 0, 0, 0.0)
    regions = by_code(overview.by_region)
    assert regions["52"] == ("52", "Pays de la Loire", 5, 4, 1.25)
    assert regions["53"] == ("53", "Bretagne", 2, 1, 2.0)
    assert regions["11"] == ("11", "Île-de-France", 0, 0, 0.0)
    assert len(regions) == 18


def test_needs_and_filled_posts_are_given_by_region_and_by_profession(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, now=NOW)
    regions = by_code(overview.by_region_posts)
    assert regions["52"] == ("52", "Pays de la Loire", 8, 3)
    assert regions["53"] == ("53", "Bretagne", 4, 2)
    assert regions["84"] == ("84", "Auvergne-Rhône-Alpes", 0, 0)
    assert overview.by_profession_posts == [
        (INF, "Infirmier diplômé d'État", 7, 2),
        (AS, "Aide-soignant", 5, 3),
    ]


def test_the_time_series_counts_missions_created_and_assignments_per_paris_day(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, now=NOW)
    assert overview.period == Period(d(10, 25), d(11, 23))  # the last 30 days
    series = {day: (created, assigned) for day, created, assigned in overview.time_series}
    assert list(series) == [d(10, 25) + timedelta(days=n) for n in range(30)]
    busy = {day: figures for day, figures in series.items() if figures != (0, 0)}
    assert busy == {
        d(10, 25): (1, 0),  # M4, created at 00:30 Paris summer time
        d(10, 31): (0, 1),  # v6 (termine)
        d(11, 18): (1, 1),
        d(11, 19): (1, 1),
        d(11, 20): (1, 1),  # M9 at 00:30 Paris time; the placeholder, pending and archived missions do not count
        d(11, 21): (1, 1),
        d(11, 22): (2, 0),  # M8, M11 (the rejected request's mission, created on 15/11, was never a need)
        d(11, 23): (0, 1),
    }


def test_the_placeholder_mission_of_an_account_request_never_counts(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, now=NOW)
        region = region_indicators(session, actor=CCS, ars_code="52", now=NOW)
    assert "autre" not in by_code(overview.by_profession_posts)
    assert "autre" not in by_code(region.needs_by_profession)
    assert overview.headline.open_missions == 4 and overview.headline.posts_requested == 12


def test_the_profession_filter_applies_to_every_national_figure(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, filters=IndicatorFilters(profession_code=AS), now=NOW)
    headline = overview.headline
    assert (headline.open_missions, headline.posts_requested, headline.posts_filled) == (1, 5, 3)
    assert headline.available_volunteers == 1  # v15
    assert headline.open_alerts == 0
    assert headline.pending_account_requests == 1
    departments = by_code(overview.by_department)
    assert departments["85"][3:] == (2, 0, None)
    assert departments["35"][3:] == (0, 0, 0.0)  # v15 is free but no open mission needs an aide-soignant
    assert departments["44"][3:] == (0, 0, 0.0)
    assert by_code(overview.by_region_posts)["52"][2:] == (4, 2)
    assert overview.by_profession_posts == [(AS, "Aide-soignant", 5, 3)]
    busy = {day: (created, assigned) for day, created, assigned in overview.time_series if created or assigned}
    assert busy == {d(11, 19): (1, 1), d(11, 20): (1, 1), d(11, 21): (0, 1), d(11, 22): (1, 0)}


def test_the_period_filter_keeps_the_missions_that_overlap_it_and_the_volunteers_available_then(data: Any) -> None:
    december = Period(d(12, 1), d(12, 31))
    with data() as session:
        overview = national_overview(session, actor=CCS, filters=IndicatorFilters(period=december), now=NOW)
    headline = overview.headline
    assert headline.open_missions == 3  # M3, M8, M11 (M1 ends on 30/11)
    assert headline.posts_requested == 8  # M2 2 + M3 1 + M8 3 + M11 2
    assert headline.posts_filled == 3  # M2 2 + M8 1
    assert headline.available_volunteers == 5  # v10 is available until 15/11 only
    assert headline.open_alerts == 0
    assert overview.period == december
    assert len(overview.time_series) == 31
    assert all(created == assigned == 0 for _, created, assigned in overview.time_series)
    assert by_code(overview.by_department)["44"][3:] == (0, 0, 0.0)  # no open need in December
    assert by_code(overview.by_department)["49"][3:] == (1, 1, 1.0)


def test_the_department_filter_narrows_the_national_overview_to_one_department(data: Any) -> None:
    with data() as session:
        overview = national_overview(session, actor=CCS, filters=IndicatorFilters(department_code="44"), now=NOW)
    headline = overview.headline
    assert (headline.open_missions, headline.posts_requested, headline.posts_filled) == (1, 5, 3)
    assert headline.available_volunteers == 3
    assert headline.pending_account_requests == 1
    assert overview.by_department == [("44", "Loire-Atlantique", "52", 2, 3, pytest.approx(2 / 3))]
    assert overview.by_region == [("52", "Pays de la Loire", 2, 3, pytest.approx(2 / 3))]


# ---------------------------------------------------------------- ARS indicators


def test_an_ars_sees_posts_needs_and_available_volunteers_of_its_departments(data: Any) -> None:
    with data() as session:
        region = region_indicators(session, actor=make_signed_in("ars", ars_code="52"), ars_code="52", now=NOW)
    assert region.ars_name == "Pays de la Loire"
    assert region.posts_by_department == [
        ("44", "Loire-Atlantique", 5, 3),
        ("49", "Maine-et-Loire", 1, 0),
        ("53", "Mayenne", 0, 0),
        ("72", "Sarthe", 0, 0),
        ("85", "Vendée", 2, 0),
    ]
    assert region.needs_by_profession == [(AS, "Aide-soignant", 2, 4), (INF, "Infirmier diplômé d'État", 2, 4)]
    assert region.available_by_profession_and_department == [(INF, "44", 3), (INF, "49", 1)]


def test_open_needs_over_time_follow_creation_filling_and_closing_day_by_day(data: Any) -> None:
    with data() as session:
        region = region_indicators(session, actor=CCS, ars_code="52", now=NOW)
    series = dict(region.open_needs_over_time)
    assert list(series) == [d(10, 25) + timedelta(days=n) for n in range(30)]
    assert all(series[d(10, 25) + timedelta(days=n)] == 1 for n in range(17))  # M4 until it closes on 11/11
    assert all(series[d(11, 11) + timedelta(days=n)] == 0 for n in range(7))
    assert [series[d(11, day)] for day in range(18, 24)] == [1, 2, 1, 2, 3, 3]


def test_the_median_time_to_fill_takes_the_middle_mission_or_the_mean_of_the_two_middle_ones(data: Any) -> None:
    with data() as session:
        odd = region_indicators(session, actor=CCS, ars_code="52", now=NOW)  # 6 h, 12 h, 154.5 h
        even = region_indicators(session, actor=CCS, ars_code="53", now=NOW)  # 22 h, 36.5 h
        nurses = region_indicators(session, actor=CCS, ars_code="53", filters=IndicatorFilters(profession_code=INF), now=NOW)
        none = region_indicators(session, actor=CCS, ars_code="11", now=NOW)
    assert odd.median_time_to_fill_hours == 12.0
    assert even.median_time_to_fill_hours == 29.25
    assert nurses.median_time_to_fill_hours == 22.0
    assert none.median_time_to_fill_hours is None


def test_the_funnel_goes_from_registered_to_verified_solicited_and_assigned_by_profession(data: Any) -> None:
    with data() as session:
        region = region_indicators(session, actor=CCS, ars_code="52", now=NOW)
        brittany = region_indicators(session, actor=CCS, ars_code="53", now=NOW)
    assert region.funnel == [
        (INF, "Infirmier diplômé d'État", 6, 3, 5, 2),  # v1 v2 v3 v6 v10 v11; v1 v3 v6; all but v10; v1 v6
        (AS, "Aide-soignant", 3, 1, 2, 2),  # v4 v5 v12 (v13 deleted); v5; v4 v5; v4 v5
    ]
    assert brittany.funnel == [(INF, "Infirmier diplômé d'État", 3, 0, 2, 1), (AS, "Aide-soignant", 2, 0, 1, 1)]


def test_the_period_and_profession_filters_apply_to_every_regional_figure(data: Any) -> None:
    filters = IndicatorFilters(period=Period(d(11, 19), d(11, 23)), profession_code=INF)
    with data() as session:
        region = region_indicators(session, actor=CCS, ars_code="52", filters=filters, now=NOW)
    assert region.period == filters.period
    assert region.posts_by_department[:2] == [("44", "Loire-Atlantique", 3, 1), ("49", "Maine-et-Loire", 0, 0)]
    assert region.needs_by_profession == [(INF, "Infirmier diplômé d'État", 1, 3)]
    # M4 (created before the period, closed on 11/11) and M1 (18/11) give the starting level of 1.
    assert region.open_needs_over_time == [(d(11, 19), 1), (d(11, 20), 1), (d(11, 21), 2), (d(11, 22), 2),
                                           (d(11, 23), 2)]
    assert region.available_by_profession_and_department == [(INF, "44", 2), (INF, "49", 1)]
    assert region.median_time_to_fill_hours == 6.0
    assert region.funnel == [(INF, "Infirmier diplômé d'État", 6, 3, 3, 1)]  # only M1's proposals


def test_the_department_filter_narrows_the_region_to_one_department(data: Any) -> None:
    with data() as session:
        region = region_indicators(session, actor=CCS, ars_code="52", filters=IndicatorFilters(department_code="49"), now=NOW)
    assert region.posts_by_department == [("49", "Maine-et-Loire", 1, 0)]
    assert region.needs_by_profession == [(INF, "Infirmier diplômé d'État", 1, 1)]
    assert region.available_by_profession_and_department == [(INF, "49", 1)]
    assert region.funnel == [(AS, "Aide-soignant", 2, 1, 1, 1), (INF, "Infirmier diplômé d'État", 2, 1, 2, 0)]
    assert region.median_time_to_fill_hours is None
    assert dict(region.open_needs_over_time)[d(11, 20)] == 0 and dict(region.open_needs_over_time)[d(11, 23)] == 1


def test_a_department_of_another_region_or_an_unknown_region_is_refused(data: Any) -> None:
    with data() as session:
        with pytest.raises(ValidationError):
            region_indicators(session, actor=CCS, ars_code="52", filters=IndicatorFilters(department_code="35"), now=NOW)
        with pytest.raises(NotFound):
            region_indicators(session, actor=CCS, ars_code="99", now=NOW)
        with pytest.raises(ValidationError):
            national_overview(session, actor=CCS, filters=IndicatorFilters(department_code="975"), now=NOW)
    with pytest.raises(ValidationError):
        Period(d(11, 23), d(11, 1))


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("role", ["ccs", "ministere", "admin"])
def test_national_roles_see_every_region_and_the_national_overview(data: Any, role: str) -> None:
    with data() as session:
        assert region_indicators(session, actor=make_signed_in(role), ars_code="53", now=NOW).posts_by_department
        assert national_overview(session, actor=make_signed_in(role), now=NOW).headline.posts_requested == 12


def test_an_ars_sees_its_own_region_only_and_not_the_national_overview(data: Any) -> None:
    with data() as session:
        assert region_indicators(session, actor=make_signed_in("ars", ars_code="52"), ars_code="52", now=NOW).posts_by_department
        with pytest.raises(PermissionDenied):
            region_indicators(session, actor=make_signed_in("ars", ars_code="52"), ars_code="53", now=NOW)
        with pytest.raises(PermissionDenied):
            national_overview(session, actor=make_signed_in("ars", "52"), now=NOW)


@pytest.mark.parametrize("role", ["etablissement", "professionnel", "pool"])
def test_establishments_volunteers_and_pools_see_no_indicator(data: Any, role: str) -> None:
    with data() as session:
        with pytest.raises(PermissionDenied):
            region_indicators(session, actor=make_signed_in(role, ars_code="52"), ars_code="52", now=NOW)
        with pytest.raises(PermissionDenied):
            national_overview(session, actor=make_signed_in(role, "52"), now=NOW)
        with pytest.raises(PermissionDenied):
            region_indicators(session, actor=None, ars_code="52", now=NOW)


def test_the_ministry_reads_the_dashboards_without_writing_anything(data: Any) -> None:
    with data() as session:
        events = session.scalar(sa.select(sa.func.count()).select_from(m.Event))
        national_overview(session, actor=make_signed_in("ministere"), now=NOW)
        region_indicators(session, actor=make_signed_in("ministere"), ars_code="52", now=NOW)
        assert not session.new and not session.dirty and not session.deleted
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event)) == events


# ---------------------------------------------------------------- the SQL constructs


@pytest.mark.parametrize("moment", [
    utc(3, 28, 23, 30), utc(3, 29, 0, 59), utc(3, 29, 1, 0), utc(3, 29, 22, 30), utc(7, 1, 21, 59),
    utc(7, 1, 22, 0), utc(10, 24, 22, 30), utc(10, 25, 0, 59), utc(10, 25, 1, 0), utc(10, 25, 22, 30),
    utc(10, 25, 23, 0), utc(1, 15, 23, 0), utc(12, 31, 22, 59), utc(12, 31, 23, 0),
])
def test_paris_date_follows_summer_time_on_both_engines(uow: Any, moment: datetime) -> None:
    with uow() as session:
        stored = sa.literal(moment, m.UTCDateTime())
        value = session.scalar(sa.select(paris_date(stored)))
        hours = session.scalar(sa.select(hours_between(stored, sa.literal(moment + timedelta(hours=36, minutes=30),
                                                                           m.UTCDateTime()))))
    assert (value if isinstance(value, date) else date.fromisoformat(value)) == moment.astimezone(PARIS).date()
    assert float(hours) == pytest.approx(36.5)
