"""« Missions nationales » (issue 13): the national list of missions and its drill-down, on both databases.

One small hand-made country (NOW = Monday 23/11/2026, Paris), whose urgency scores are worked out by hand from the
points of core.staffing.regulation:

| mission | where (region)              | category / profession          | dates      | score                         |
|---------|-----------------------------|--------------------------------|------------|-------------------------------|
| icu     | CHU, Nantes 44 (52)         | hospital / nurse, 4 posts      | J+1 → J+4  | 30 + 20 + ICU 15 + alert 25 = 90 |
| ward    | CHU, Nantes 44 (52)         | hospital / nurse, 3 posts, 1 assigned, priority 1 | J+2 → J+5 | 30 + 10 + EHPAD 10 = 50 |
| ehpad   | EHPAD, Angers 49 (52)       | social / care assistant, 2     | J+5 → J+8  | 20 + 10 + EHPAD 10 = 40       |
| rennes  | CHU, Rennes 35 (53, crisis) | hospital / nurse, 1            | J+20 → J+30 | 5 + closed alert 25 = 30     |

plus a filled mission and a placeholder of 0 people that no list shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy.orm as so

from core.figures.national_missions import (
    MAX_LIMIT,
    NationalFilters,
    Place,
    national_breakdown,
    national_mission,
    national_missions,
)
from core.shared.actions import Action
from core.shared.actor import SessionUser
from core.shared.errors import NotFound, PermissionDenied, ValidationError
from db import models as m
from tests.factories import (
    NOW,
    TODAY,
    make_actor,
    make_establishment,
    make_mission,
    make_professional,
    make_proposal,
    make_user,
)


@dataclass(frozen=True)
class Country:
    icu: int
    ward: int
    ehpad: int
    rennes: int
    filled: int
    nantes: int  # the CHU of Nantes
    angers: int  # the EHPAD of Angers


def _mission(session: so.Session, establishment: m.Establishment, creator: m.User, starts_in: int, days: int,
             **overrides: Any) -> m.Mission:
    start = TODAY + timedelta(days=starts_in)
    return make_mission(session, establishment, creator, start_date=start, end_date=start + timedelta(days=days),
                        created_at=NOW, **overrides)


def build(session: so.Session) -> Country:
    nantes = make_establishment(session, "44000", name="CHU de Nantes")
    angers = make_establishment(session, "49000", name="EHPAD des Lices", category_code="sociaux_hebergement")
    rennes = make_establishment(session, "35000", name="CHU de Rennes")
    hr = make_user(session, establishment=nantes)
    icu = _mission(session, nantes, hr, 1, 3, count=4, exp_reanimation=True, ccs_alert_at=NOW - timedelta(hours=3),
                   ccs_alert_message="Aucun candidat.", contact_name="Dr Lucie Martin", contact_phone="0240000000")
    ward = _mission(session, nantes, hr, 2, 3, count=3, exp_ehpad=True, manual_priority=1)
    make_proposal(session, ward, make_professional(session, status="affecte"), state="affecte")
    make_proposal(session, icu, make_professional(session, status="contacte"), state="contacte")
    ehpad = _mission(session, angers, hr, 5, 3, count=2, exp_ehpad=True, profession_code="aide_soignant")
    breton = _mission(session, rennes, hr, 20, 10, ccs_alert_at=NOW - timedelta(days=2), alert_closed_at=NOW)
    filled = _mission(session, nantes, hr, 1, 3, status="filled")
    _mission(session, nantes, hr, 0, 0, count=0)
    centre = make_user(session, "ccs")
    session.add_all([
        m.CrisisMode(ars_code="53", profession_code="infirmier_de", enabled_at=NOW - timedelta(days=1),
                     enabled_by=centre.id),
        m.CrisisMode(ars_code="52", profession_code=None, enabled_at=NOW - timedelta(days=3), enabled_by=centre.id,
                     disabled_at=NOW - timedelta(days=2), disabled_by=centre.id),  # switched off: no longer counts
    ])
    session.flush()
    return Country(icu.id, ward.id, ehpad.id, breton.id, filled.id, nantes.id, angers.id)


def ids(session: so.Session, actor: SessionUser, **filters: Any) -> list[int]:
    listed = national_missions(session, actor=actor, filters=NationalFilters(**filters), now=NOW)
    assert listed.total == len(listed.rows)
    return [row["id"] for row in listed.rows]


@pytest.fixture
def country(uow) -> Country:
    with uow() as session:
        return build(session)


# ---------------------------------------------------------------- the list


def test_the_list_holds_every_regions_open_missions_the_most_urgent_first(uow, country: Country) -> None:
    with uow() as session:
        listed = national_missions(session, actor=make_actor(session, "ccs"), now=NOW)
    c = country
    # The ARS's manual priority 1 on « ward » orders its region's queue, not the national list.
    assert [(r["id"], r["urgency"], r["urgency_label"]) for r in listed.rows] == [
        (c.icu, 90, "Très urgente"), (c.ward, 50, "Urgente"), (c.ehpad, 40, "À surveiller"), (c.rennes, 30, "À surveiller")]
    assert listed.total == 4 and listed.place == Place()
    assert (listed.posts, listed.unfilled, listed.alerts) == (10, 9, 1)  # of every mission listed, not of a page
    icu, ward, ehpad, rennes = listed.rows
    assert (icu["region"], icu["department"], icu["establishment"], icu["category"], icu["profession"]) == (
        "Pays de la Loire", "Loire-Atlantique", "CHU de Nantes", "Établissements relevant de la loi hospitalière",
        "Infirmier diplômé d'État")
    assert (icu["assigned"], icu["waiting"], icu["unfilled"], icu["open_alert"], icu["alert_label"]) == (
        0, 1, 4, True, "En attente du CCS")
    assert (ward["assigned"], ward["unfilled"], ward["manual_priority"]) == (1, 2, 1)
    assert (rennes["open_alert"], rennes["alert_label"], rennes["crisis"]) == (False, "Close par le CCS", True)
    assert not icu["crisis"]  # region 52's crisis mode was switched off
    assert "contact_name" not in icu  # the list carries no contact


def test_each_filter_narrows_the_list(uow, country: Country) -> None:
    c = country
    with uow() as session:
        ccs = make_actor(session, "ccs")
        assert ids(session, ccs, ars_code="52") == [c.icu, c.ward, c.ehpad]
        assert ids(session, ccs, department_code="49") == [c.ehpad]
        assert ids(session, ccs, establishment_id=c.nantes) == [c.icu, c.ward]
        assert ids(session, ccs, profession_code="aide_soignant") == [c.ehpad]
        assert ids(session, ccs, category_code="sociaux_hebergement") == [c.ehpad]
        assert ids(session, ccs, category_code="loi_hospitaliere", ars_code="53") == [c.rennes]
        # dates overlapping the period, its bounds included: « ward » ends on J+5, « ehpad » starts on J+5
        assert ids(session, ccs, period_start=TODAY + timedelta(days=5), period_end=TODAY + timedelta(days=5)) == [
            c.ward, c.ehpad]
        assert ids(session, ccs, period_start=TODAY + timedelta(days=25)) == [c.rennes]
        assert ids(session, ccs, period_end=TODAY + timedelta(days=1)) == [c.icu]
        assert ids(session, ccs, urgency_levels=("urgente",)) == [c.ward]  # 50: the lowest score of its level
        assert ids(session, ccs, urgency_levels=("a_surveiller",)) == [c.ehpad, c.rennes]
        assert ids(session, ccs, urgency_levels=("tres_urgente", "peu_urgente")) == [c.icu]
        assert ids(session, ccs, alert="open") == [c.icu]
        assert ids(session, ccs, alert="none") == [c.ward, c.ehpad, c.rennes]  # a closed alert is no open alert
        assert ids(session, ccs, crisis=True) == [c.rennes]
        assert ids(session, ccs, crisis=False) == [c.icu, c.ward, c.ehpad]
        assert ids(session, ccs, statuses=("filled",)) == [c.filled]
        assert ids(session, ccs, ars_code="53", crisis=False) == []


def test_the_list_is_paged_in_the_database_with_its_total(uow, country: Country) -> None:
    with uow() as session:
        ccs = make_actor(session, "ccs")
        first = national_missions(session, actor=ccs, limit=3, now=NOW)
        second = national_missions(session, actor=ccs, offset=3, limit=3, now=NOW)
        with pytest.raises(ValidationError) as too_many:
            national_missions(session, actor=ccs, limit=MAX_LIMIT + 1, now=NOW)
    assert [r["id"] for r in first.rows] == [country.icu, country.ward, country.ehpad]
    assert [r["id"] for r in second.rows] == [country.rennes]
    assert (first.total, second.total, second.offset) == (4, 4, 3)
    assert (first.posts, first.unfilled, second.posts, second.unfilled) == (10, 9, 10, 9)
    assert too_many.value.field == "page"


def test_the_place_of_the_filters_is_resolved_upwards_for_the_breadcrumbs(uow, country: Country) -> None:
    with uow() as session:
        ccs = make_actor(session, "ccs")
        by_establishment = national_missions(session, actor=ccs, filters=NationalFilters(establishment_id=country.angers),
                                             now=NOW).place
        by_department = national_missions(session, actor=ccs, filters=NationalFilters(department_code="35"), now=NOW).place
        with pytest.raises(NotFound) as unknown_department:
            national_missions(session, actor=ccs, filters=NationalFilters(department_code="00"), now=NOW)
        with pytest.raises(NotFound):
            national_missions(session, actor=ccs, filters=NationalFilters(establishment_id=999_999), now=NOW)
        with pytest.raises(ValidationError) as backwards:
            national_missions(session, actor=ccs, filters=NationalFilters(period_start=TODAY, period_end=TODAY - timedelta(days=1)),
                              now=NOW)
    assert by_establishment == Place("52", "Pays de la Loire", "49", "Maine-et-Loire", country.angers, "EHPAD des Lices")
    assert by_department == Place("53", "Bretagne", "35", "Ille-et-Vilaine")
    assert unknown_department.value.message == "Le département « 00 » n'existe pas."
    assert backwards.value.field == "period"


@pytest.mark.parametrize("role", ["etablissement", "professionnel", "ars", "anonyme"])
def test_only_the_national_roles_read_the_national_list(uow, country: Country, role: str) -> None:
    with uow() as session:
        actor = None if role == "anonyme" else make_actor(session, role)
        for call in (lambda: national_missions(session, actor=actor, now=NOW),
                     lambda: national_breakdown(session, actor=actor, level="region", now=NOW),
                     lambda: national_mission(session, actor=actor, mission_id=country.icu, now=NOW)):
            with pytest.raises(PermissionDenied):
                call()


# ---------------------------------------------------------------- the levels


def test_each_level_counts_the_filtered_missions_and_adds_up_to_its_parent(uow, country: Country) -> None:
    with uow() as session:
        ccs = make_actor(session, "ministere")
        regions = national_breakdown(session, actor=ccs, level="region", now=NOW)
        departments = national_breakdown(session, actor=ccs, level="department", filters=NationalFilters(ars_code="52"),
                                         now=NOW)
        establishments = national_breakdown(session, actor=ccs, level="establishment",
                                            filters=NationalFilters(ars_code="52"), now=NOW)
        nurses = national_breakdown(session, actor=ccs, level="department",
                                    filters=NationalFilters(ars_code="52", profession_code="infirmier_de"), now=NOW)
        second_page = national_breakdown(session, actor=ccs, level="establishment", offset=1, limit=1,
                                         filters=NationalFilters(ars_code="52"), now=NOW)
    figures = ("code", "name", "missions", "posts", "unfilled", "alerts", "top_urgency")
    assert len(regions.rows) == 18 and regions.total == 18
    assert [tuple(r[k] for k in figures) + (r["crisis"],) for r in regions.rows[:2]] == [
        ("52", "Pays de la Loire", 3, 9, 8, 1, 90, None),
        ("53", "Bretagne", 1, 1, 1, 0, 30, "Infirmier diplômé d'État")]
    assert all(r["missions"] == 0 for r in regions.rows[2:])
    assert [tuple(r[k] for k in figures) for r in departments.rows] == [
        ("44", "Loire-Atlantique", 2, 7, 6, 1, 90), ("49", "Maine-et-Loire", 1, 2, 2, 0, 40),
        ("53", "Mayenne", 0, 0, 0, 0, None), ("72", "Sarthe", 0, 0, 0, 0, None), ("85", "Vendée", 0, 0, 0, 0, None)]
    assert departments.place == Place("52", "Pays de la Loire")
    assert [tuple(r[k] for k in figures) + (r["city"], r["category"]) for r in establishments.rows] == [
        (country.nantes, "CHU de Nantes", 2, 7, 6, 1, 90, "NANTES", "Établissements relevant de la loi hospitalière"),
        (country.angers, "EHPAD des Lices", 1, 2, 2, 0, 40, "ANGERS",
         "Établissements et services sociaux d'accueil, hébergement, assistance, réadaptation")]
    assert [(r["code"], r["missions"]) for r in nurses.rows[:2]] == [("44", 2), ("49", 0)]
    assert (second_page.total, [r["code"] for r in second_page.rows]) == (2, [country.angers])


def test_an_unknown_level_is_refused(uow, country: Country) -> None:
    with uow() as session, pytest.raises(ValidationError):
        national_breakdown(session, actor=make_actor(session, "ccs"), level="commune", now=NOW)


# ---------------------------------------------------------------- one mission


def test_a_missions_detail_shows_its_contact_to_the_ccs_and_never_to_the_ministry(uow, country: Country) -> None:
    with uow() as session:
        for_ccs = national_mission(session, actor=make_actor(session, "ccs"), mission_id=country.icu, now=NOW)
        for_ministry = national_mission(session, actor=make_actor(session, "ministere"), mission_id=country.icu, now=NOW)
        for_admin = national_mission(session, actor=make_actor(session, "admin"), mission_id=country.icu, now=NOW)
        filled = national_mission(session, actor=make_actor(session, "ccs"), mission_id=country.filled, now=NOW)
        with pytest.raises(NotFound):
            national_mission(session, actor=make_actor(session, "ccs"), mission_id=999_999, now=NOW)
    assert (for_ccs["contact_name"], for_ccs["contact_phone"], for_ccs["contact_hidden"]) == (
        "Dr Lucie Martin", "0240000000", False)
    assert (for_ministry["contact_name"], for_ministry["contact_phone"], for_ministry["contact_hidden"]) == (
        None, None, True)
    assert for_admin["contact_name"] == "Dr Lucie Martin"
    assert for_ccs["place"] == Place("52", "Pays de la Loire", "44", "Loire-Atlantique", country.nantes, "CHU de Nantes")
    assert (for_ccs["urgency"], for_ccs["ccs_alert_message"], for_ccs["status_label"]) == (90, "Aucun candidat.", "Ouverte")
    # The CCS may propose candidates to an open mission short of people; the ministry and an admin only read.
    assert (for_ccs["actions"], for_ministry["actions"], for_admin["actions"]) == (
        frozenset({Action.PROPOSE}), frozenset(), frozenset())
    assert (filled["status_label"], filled["actions"]) == ("Pourvue", frozenset())
