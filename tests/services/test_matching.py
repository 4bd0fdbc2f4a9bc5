"""Matching (DESIGN §4): who is a candidate for a mission of a Nantes establishment, in which order, and why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import PermissionDenied
from core.staffing.matching import (
    CandidateFilters,
    CandidatePage,
    find_candidates,
    load_mission_context,
    score_in_python,
)
from db import models as m
from tests.factories import (
    END,
    NOW,
    START,
    TODAY,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_user,
    with_luhn_key,
)

volunteer = partial(make_available_nurse, postal_code="44000")  # in the mission's own town unless told

NURSE = "Infirmier diplômé d'État"


# ---------------------------------------------------------------- helpers


def nantes_mission(session: so.Session, **overrides: Any) -> tuple[m.Mission, SessionUser]:
    """A mission of an establishment in Nantes (44000, ARS 52) and the signed-in account of its HR office."""
    establishment = make_establishment(session, postal_code="44000")
    user = make_user(session, establishment=establishment)
    mission = make_mission(session, establishment, user, **{"start_date": START, "end_date": END, **overrides})
    return mission, to_session_user(session, user=user)


def page_of(session: so.Session, who: SessionUser, mission: m.Mission, filters: CandidateFilters | None = None,
            **kwargs: Any) -> CandidatePage:
    kwargs.setdefault("limit", 100)
    kwargs.setdefault("now", NOW)
    return find_candidates(session, actor=who, mission_id=mission.id, filters=filters, **kwargs)


def ids(session: so.Session, who: SessionUser, mission: m.Mission, filters: CandidateFilters | None = None,
        **kwargs: Any) -> list[int]:
    return [row["id"] for row in page_of(session, who, mission, filters, **kwargs).rows]


def other_mission(session: so.Session, postal_code: str = "44000", **overrides: Any) -> m.Mission:
    """A mission of another establishment."""
    establishment = make_establishment(session, postal_code=postal_code)
    user = make_user(session, establishment=establishment)
    return make_mission(session, establishment, user, **{"start_date": START, "end_date": END, **overrides})


def solicit(session: so.Session, professional: m.Professional, days_ago: float, times: int = 1,
            mission: m.Mission | None = None) -> None:
    """Past solicitations (refused proposals) `days_ago` days before NOW."""
    mission = mission or other_mission(session)
    for _ in range(times):
        session.add(m.Proposal(mission_id=mission.id, professional_id=professional.id, origin="direct",
                               state="refuse", created_at=NOW - timedelta(days=days_ago),
                               decided_at=NOW - timedelta(days=days_ago)))
    session.flush()


def link(session: so.Session, mission: m.Mission, professional: m.Professional, state: str,
         origin: str = "direct") -> m.Proposal:
    """A live proposal, with the volunteer's status mirroring it (as the workflow would leave them)."""
    proposal = m.Proposal(mission_id=mission.id, professional_id=professional.id, origin=origin, state=state,
                          created_at=NOW - timedelta(hours=2))
    session.add(proposal)
    professional.status = state
    session.flush()
    return proposal


def crisis(session: so.Session, ars_code: str = "52", profession_code: str | None = "infirmier_de",
           **overrides: Any) -> m.CrisisMode:
    row = m.CrisisMode(ars_code=ars_code, profession_code=profession_code, enabled_at=NOW - timedelta(days=1),
                       enabled_by=make_user(session, "ars", ars_code=ars_code).id, **overrides)
    session.add(row)
    session.flush()
    return row


def columns(professional: m.Professional) -> dict[str, Any]:
    return {c.key: getattr(professional, c.key) for c in m.Professional.__table__.columns}


# ---------------------------------------------------------------- rule 1: profession, vaccination


def test_only_volunteers_of_the_missions_profession_are_candidates(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        nurse = volunteer(session)
        volunteer(session, profession_code="aide_soignant")
        volunteer(session, profession_code="infirmier_bloc")
        assert ids(session, hr, mission) == [nurse.id]


def test_a_vaccination_mission_only_lists_volunteers_for_vaccination(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, vaccination=True)
        vaccinator = volunteer(session, volunteer_vaccination=True)
        volunteer(session, volunteer_vaccination=False, exp_vaccination=True)
        volunteer(session, profession_code="aide_soignant", volunteer_vaccination=True)
        assert ids(session, hr, mission) == [vaccinator.id]


def test_a_vaccination_mission_of_a_profession_not_allowed_to_vaccinate_has_no_candidate(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, vaccination=True, profession_code="psychologue")
        volunteer(session, profession_code="psychologue", volunteer_vaccination=True)
        page = page_of(session, hr, mission)
    assert (page.rows, page.total) == ([], 0)
    assert page.message.startswith("Aucun professionnel disponible ne correspond : profession « Psychologue », "
                                   "volontaire pour la vaccination, dans la zone de mobilité")


# ---------------------------------------------------------------- rule 2: vehicle and weekend


def test_a_mission_needing_a_vehicle_only_lists_volunteers_with_one(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, needs_vehicle=True)
        no_car_needed = other_mission(session)
        driver = volunteer(session, has_vehicle=True)
        walker = volunteer(session, has_vehicle=False)
        assert ids(session, hr, mission) == [driver.id]
        assert sorted(ids(session, make_actor(session, "ccs"), no_car_needed)) == [driver.id, walker.id]


def test_a_mission_needing_weekends_only_lists_volunteers_available_at_weekends(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, needs_weekend=True)
        weekender = volunteer(session, available_weekend=True)
        volunteer(session, available_weekend=False)
        assert ids(session, hr, mission) == [weekender.id]


def test_the_empty_list_explains_the_criteria_of_the_mission(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, needs_vehicle=True, needs_weekend=True)
        volunteer(session, has_vehicle=False, available_weekend=True)
        page = page_of(session, hr, mission)
    assert page.message == (f"Aucun professionnel disponible ne correspond : profession « {NURSE} », avec véhicule, "
                            "disponible le week-end, dans la zone de mobilité déclarée par chaque volontaire. "
                            "Vous pouvez alerter votre ARS.")


def test_the_empty_list_message_of_a_plain_mission(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        page = page_of(session, hr, mission)
    assert (page.rows, page.total, page.reserved_elsewhere, page.map_points) == ([], 0, 0, [])
    assert page.message == (f"Aucun professionnel disponible ne correspond : profession « {NURSE} », dans la zone "
                            "de mobilité déclarée par chaque volontaire. Vous pouvez alerter votre ARS.")


# ---------------------------------------------------------------- rule 3: availability


def test_an_unavailable_volunteer_is_never_a_candidate(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        volunteer(session, status="indisponible", verified=True, exp_reanimation=True)
        ccs = make_actor(session, "ccs")
        assert ids(session, hr, mission) == []
        assert ids(session, ccs, mission) == []


def test_a_volunteer_whose_availability_has_ended_is_never_a_candidate(uow) -> None:
    just_after_midnight_in_paris = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)  # 24/11 00:30 in Paris
    with uow() as session:
        mission, hr = nantes_mission(session)
        volunteer(session, available_from=TODAY - timedelta(days=20), available_to=TODAY - timedelta(days=1))
        until_today = volunteer(session, available_from=TODAY - timedelta(days=20), available_to=TODAY)
        assert ids(session, hr, mission) == [until_today.id]
        # "Today" is a date in Paris: at 00:30 on the 24th in Paris, an availability ending on the 23rd is over.
        assert ids(session, hr, mission, now=just_after_midnight_in_paris) == []


def test_a_volunteer_available_only_after_the_mission_is_still_listed_but_lower(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        later = volunteer(session, available_from=END + timedelta(days=1))
        whole = volunteer(session)
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [whole.id, later.id]
    assert rows[1]["overlap_days"] == 0 and " · 0/14 j 0 · " in rows[1]["reasons"]
    assert " · toute la période +30 · " in rows[0]["reasons"]


# ---------------------------------------------------------------- rule 4: mobility


@pytest.mark.parametrize(("mobility", "inside", "outside"), [
    # Nantes 0 km, Rezé 6 km | Saint-Nazaire (same department, 53 km), Angers 80 km
    ("locale", ["44300", "44400"], ["44600", "49000"]),
    # Loire-Atlantique | Maine-et-Loire, Vendée, Rennes
    ("departementale", ["44300", "44600"], ["49000", "85000", "35000"]),
    # Pays de la Loire (ARS 52), Le Mans at 156 km included | Rennes (ARS Bretagne, 53), Paris
    ("regionale", ["44600", "49000", "72000"], ["35000", "75001"]),
    # the region, until the CCS opens the other regions' pools
    ("nationale", ["44300", "49000", "72000"], ["35000", "75001"]),
])
def test_each_mobility_level_is_measured_from_the_establishment(uow, mobility: str, inside: list[str],
                                                                outside: list[str]) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        where = {volunteer(session, postal_code=code, mobility=mobility).id: code for code in inside + outside}
        listed = sorted(where[pid] for pid in ids(session, hr, mission))
    assert listed == sorted(inside)


def test_national_volunteers_of_other_regions_appear_once_the_ccs_opens_the_pools(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        rennes = volunteer(session, postal_code="35000", mobility="nationale")
        paris = volunteer(session, postal_code="75001", mobility="nationale")
        volunteer(session, postal_code="35000", mobility="regionale")
        volunteer(session, postal_code="35000", mobility="departementale")
        assert ids(session, hr, mission) == []
        mission.pools_opened_at = NOW - timedelta(hours=1)
        session.flush()
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [rennes.id, paris.id]
    assert rows[0]["distance_km"] == pytest.approx(98.4, abs=0.1)


# ---------------------------------------------------------------- rule 5: reserved by others


def test_volunteers_reserved_by_other_establishments_are_hidden_and_counted(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        elsewhere = other_mission(session)
        free = volunteer(session)
        mine = volunteer(session)
        link(session, mission, mine, "contacte")  # reserved here: listed, not counted
        link(session, elsewhere, volunteer(session), "contacte")
        link(session, elsewhere, volunteer(session), "en_cours", origin="push")
        link(session, other_mission(session), volunteer(session), "affecte")
        link(session, other_mission(session), volunteer(session, profession_code="aide_soignant"), "contacte")
        page = page_of(session, hr, mission)
    assert [row["id"] for row in page.rows] == [free.id, mine.id]
    assert page.reserved_elsewhere == 3  # the reserved care assistant would not match anyway


def test_beyond_the_maps_cap_the_totals_and_every_page_stay_those_of_the_whole_list(uow, monkeypatch) -> None:
    import core.staffing.matching as matching

    with uow() as session:
        mission, hr = nantes_mission(session)
        for _ in range(7):
            volunteer(session)
        for state in ("contacte", "affecte"):
            link(session, other_mission(session), volunteer(session), state)
        whole = ids(session, hr, mission)
        monkeypatch.setattr(matching, "MAP_LIMIT", 3)
        first = page_of(session, hr, mission, limit=2)
        later = ids(session, hr, mission, offset=4, limit=2)
        beyond_the_cap = ids(session, hr, mission, offset=2, limit=4)
    assert len(whole) == 7
    assert (first.total, first.reserved_elsewhere, len(first.map_points)) == (7, 2, 3)
    assert [row["id"] for row in first.rows] == whole[:2]
    assert later == whole[4:6] and beyond_the_cap == whole[2:6]


def test_the_empty_list_says_how_many_are_reserved_elsewhere(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        link(session, other_mission(session), volunteer(session), "contacte")
        page = page_of(session, hr, mission)
    assert page.total == 0 and page.reserved_elsewhere == 1
    assert page.message.endswith("dans la zone de mobilité déclarée par chaque volontaire. 1 professionnel(s) "
                                 "correspondant(s) sont déjà réservés par d'autres établissements. "
                                 "Vous pouvez alerter votre ARS.")


def test_volunteers_waiting_on_this_mission_stay_listed_and_those_assigned_to_it_leave_the_table(uow) -> None:
    """Issue 13: the AFFECTÉ of this mission are in « Voir affectation professionnels », not among candidates."""
    with uow() as session:
        mission, hr = nantes_mission(session, count=3)
        contacted, pushed, assigned = volunteer(session), volunteer(session), volunteer(session)
        link(session, mission, contacted, "contacte")
        link(session, mission, pushed, "en_cours", origin="push")
        link(session, mission, assigned, "affecte")
        page = page_of(session, hr, mission)
    rows = {row["id"]: row for row in page.rows}
    assert {pid: (row["proposal_state"], row["proposal_origin"], row["status"]) for pid, row in rows.items()} == {
        contacted.id: ("contacte", "direct", "contacte"),
        pushed.id: ("en_cours", "push", "en_cours"),
    }
    assert page.total == 2 and assigned.id not in {point["id"] for point in page.map_points}


# ---------------------------------------------------------------- rule 6: crisis mode


@pytest.mark.parametrize("profession_code", ["infirmier_de", None], ids=["profession", "all-professions"])
def test_in_crisis_mode_the_establishment_only_sees_the_volunteers_pushed_to_it(uow, profession_code) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        crisis(session, profession_code=profession_code)
        free = volunteer(session)
        pushed = volunteer(session, postal_code="49000", mobility="regionale")
        link(session, mission, pushed, "en_cours", origin="push")
        page = page_of(session, hr, mission)
        ccs_page = page_of(session, make_actor(session, "ccs"), mission)
        ars_page = page_of(session, make_actor(session, "ars"), mission)
    assert page.crisis and [row["id"] for row in page.rows] == [pushed.id]
    assert ccs_page.crisis and [row["id"] for row in ccs_page.rows] == [free.id, pushed.id]
    assert [row["id"] for row in ars_page.rows] == [free.id, pushed.id]


def test_in_crisis_mode_a_pushed_volunteer_once_contacted_stays_visible(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        crisis(session)
        pushed = volunteer(session)
        link(session, mission, pushed, "contacte", origin="push")
        assert ids(session, hr, mission) == [pushed.id]


def test_in_crisis_mode_volunteers_contacted_before_the_switch_stay_visible_for_a_decision(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        contacted = volunteer(session)
        link(session, mission, contacted, "contacte", origin="direct")
        volunteer(session)  # free: hidden by the crisis
        crisis(session)
        assert ids(session, hr, mission) == [contacted.id]


def test_in_crisis_mode_the_empty_list_names_the_ars_that_proposes(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        crisis(session)
        volunteer(session)
        page = page_of(session, hr, mission)
    assert page.total == 0 and page.crisis
    assert page.message == (f"L'ARS Pays de la Loire a activé le mode gestion de crise pour la profession « {NURSE} » : "
                            "c'est elle qui propose les candidats. Ceux qu'elle vous proposera apparaîtront ici.")


def test_crisis_mode_elsewhere_for_another_profession_or_switched_off_hides_nobody(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        free = volunteer(session)
        row = crisis(session, profession_code="aide_soignant")
        seen = {}
        for case, change in [("another-profession", {}),
                             ("another-region", {"ars_code": "53", "profession_code": None}),
                             ("switched-off", {"ars_code": "52", "disabled_at": NOW - timedelta(hours=1)}),
                             ("not-yet", {"disabled_at": None, "enabled_at": NOW + timedelta(hours=1)})]:
            for name, value in change.items():
                setattr(row, name, value)
            session.flush()
            page = page_of(session, hr, mission)
            seen[case] = (page.crisis, [r["id"] for r in page.rows])
    assert seen == dict.fromkeys(["another-profession", "another-region", "switched-off", "not-yet"],
                                 (False, [free.id]))


# ---------------------------------------------------------------- rule 7: missions without candidates


def test_a_mission_that_is_not_looking_for_anyone_has_no_candidate(uow) -> None:
    expected = {
        "filled": "Cette mission est pourvue : elle n'a plus de candidats.",
        "closed": "Cette mission est clôturée : elle n'a plus de candidats.",
        "archived": "Cette mission est archivée.",
        "pending": "Cette mission attend la validation du compte par l'ARS : pas encore de candidats.",
        "zero": "Cette mission ne recherche personne (0 poste).",
    }
    with uow() as session:
        volunteer(session)
        pages = {}
        for case in expected:
            overrides = {"count": 0} if case == "zero" else {"status": case}
            mission, hr = nantes_mission(session, **overrides)
            pages[case] = page_of(session, hr, mission)
    assert {case: (p.rows, p.total, p.map_points, p.message) for case, p in pages.items()} == {
        case: ([], 0, [], message) for case, message in expected.items()}


# ---------------------------------------------------------------- who may look


def test_only_the_establishment_its_ars_and_the_ccs_see_the_candidates(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        professional = volunteer(session)
        stranger_place = make_establishment(session, postal_code="44000")
        intruders = [
            make_actor(session, establishment=stranger_place),
            make_actor(session, "ars", ars_code="11"),
            make_actor(session, "professionnel", professional_id=professional.id),
            make_actor(session, "ministere"),
            make_actor(session, "admin"),
        ]
        for intruder in intruders:
            with pytest.raises(PermissionDenied) as error:
                page_of(session, intruder, mission)
            assert error.value.message == "Vous n'avez pas accès aux candidats de cette mission.", intruder.role
        with pytest.raises(PermissionDenied):
            page_of(session, None, mission)
        for regulator in (make_actor(session, "ars"), make_actor(session, "ccs")):
            assert ids(session, regulator, mission) == [professional.id]


# ---------------------------------------------------------------- ranking


def test_the_sql_order_is_the_documented_score_computed_in_python(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, specialty="Urgences", exp_reanimation=True, exp_ehpad=True)
        pool = [
            volunteer(session, verified=True, exp_reanimation=True, exp_ehpad=True, specialty=" urgences "),
            volunteer(session, verified=True, exp_reanimation=True, exp_ehpad=True, specialty="Urgences"),  # a tie
            volunteer(session, postal_code="44400", available_from=START + timedelta(days=7)),
            volunteer(session, postal_code="44600", verified=True, available_to=END - timedelta(days=3)),
            volunteer(session, postal_code="49000", mobility="regionale", exp_ehpad=True, too_far_dm=2000),
            volunteer(session, postal_code="85000", mobility="regionale", too_far_dm=300,
                      availability_confirmed_at=NOW - timedelta(days=40)),
            volunteer(session, postal_code="53000", mobility="regionale", exp_reanimation=True),
            volunteer(session, postal_code="72000", mobility="nationale", verified=True),
            volunteer(session, postal_code="44100", available_from=END + timedelta(days=2)),
            volunteer(session, postal_code="44300", availability_confirmed_at=NOW - timedelta(days=30)),
            volunteer(session, postal_code="44400", mobility="locale", specialty="Gériatrie", exp_reanimation=True),
            volunteer(session, postal_code="44600", available_from=TODAY - timedelta(days=3),
                      available_to=START + timedelta(days=1)),
        ]
        solicitations = {pool[6].id: 3, pool[7].id: 12, pool[10].id: 1, pool[2].id: 2}
        for professional in pool:
            if professional.id in solicitations:
                solicit(session, professional, days_ago=2, times=solicitations[professional.id])
        solicit(session, pool[0], days_ago=31)  # too old to count
        context = load_mission_context(session, mission_id=mission.id)
        expected = {p.id: score_in_python(context, columns(p), solicitations.get(p.id, 0), NOW) for p in pool}
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == sorted(expected, key=lambda pid: (-expected[pid], pid))
    assert {row["id"]: row["score"] for row in rows} == expected
    # « Pourquoi ce rang » shows parts that add up to the very score the SQL ranked by
    assert all(sum(row["score_parts"].values()) == row["score"] for row in rows)
    assert all(row["reasons"].endswith(f" = {row['score'] / 100:.1f} pts".replace(".", ",").replace(",0 pts", " pts")
                                       .replace("-", "−")) for row in rows)
    assert min(row["score"] for row in rows) < 0  # « trop loin » and a stale profile: a total below zero
    assert {row["id"]: row["solicitations"] for row in rows} == {p.id: solicitations.get(p.id, 0) for p in pool}
    assert len(set(expected.values())) >= 10  # a varied set, not a dozen equal scores
    assert rows[0]["id"] == pool[0].id and rows[1]["id"] == pool[1].id  # equal scores: the smaller id first


def test_the_closer_volunteer_ranks_first_with_its_distance_in_tenths_of_a_kilometre(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        far = volunteer(session, postal_code="44600")
        near = volunteer(session, postal_code="44400")
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [near.id, far.id]
    assert (rows[0]["distance_dm"], rows[0]["distance_km"]) == (62, 6.2)
    assert rows[0]["reasons"] == ("6,2 km +24,2 · toute la période +30 · critères — 0 · non vérifié 0 · "
                                  "0 sollicitation en 30 j 0 · profil confirmé 0 = 54,2 pts")
    assert rows[1]["reasons"].startswith("53,5 km +18,3 · ")


def test_a_verified_volunteer_ranks_above_one_not_verified(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        unverified = volunteer(session, verified=False)
        verified = volunteer(session, verified=True)
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [verified.id, unverified.id]
    assert " · vérifié +10 · " in rows[0]["reasons"] and " · non vérifié 0 · " in rows[1]["reasons"]


def test_a_volunteer_solicited_five_times_this_month_ranks_below_an_identical_one(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        busy = volunteer(session)
        rested = volunteer(session)
        solicit(session, busy, days_ago=10, times=5)
        solicit(session, rested, days_ago=31, times=5)  # older than 30 days: forgotten
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [rested.id, busy.id]
    assert [row["solicitations"] for row in rows] == [0, 5]
    assert rows[0]["score"] - rows[1]["score"] == 5 * 4 * 100
    assert " · 5 sollicitations en 30 j −20 · " in rows[1]["reasons"]
    assert " · 0 sollicitation en 30 j 0 · " in rows[0]["reasons"]


def test_a_volunteer_who_said_too_far_ranks_lower_for_missions_at_least_as_far_only(uow) -> None:
    """« Trop loin » for a mission 53,5 km away: this one (53,5 km) ranks after an identical volunteer, by 30
    points; a volunteer who said it of a farther mission (60 km) keeps their rank, and « Pourquoi ce rang » says
    which it is."""
    with uow() as session:
        mission, hr = nantes_mission(session)
        said_here = volunteer(session, postal_code="44600", too_far_dm=535)
        silent = volunteer(session, postal_code="44600")
        said_farther = volunteer(session, postal_code="44600", too_far_dm=600)
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [silent.id, said_farther.id, said_here.id]
    assert rows[0]["score"] - rows[2]["score"] == 30 * 100 and rows[0]["score"] == rows[1]["score"]
    assert rows[2]["reasons"].endswith(" · « trop loin » dit à 53,5 km −30 = 18,3 pts")
    assert rows[1]["reasons"].endswith(" · moins loin que 60,0 km 0 = 48,3 pts")
    assert "trop loin" not in rows[0]["reasons"] and "moins loin" not in rows[0]["reasons"]


def test_a_stale_profile_ranks_lower_and_is_flagged(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        stale = volunteer(session, availability_confirmed_at=NOW - timedelta(days=40))
        fresh = volunteer(session, availability_confirmed_at=NOW - timedelta(days=29))
        rows = page_of(session, hr, mission).rows
    assert [(row["id"], row["stale"]) for row in rows] == [(fresh.id, False), (stale.id, True)]
    assert " · non confirmé depuis 30 j −20 = " in rows[1]["reasons"]


def test_the_missions_criteria_weigh_more_than_the_verified_badge_at_comparable_distance(uow) -> None:
    """Issue 13: for a mission asking for EHPAD experience, the candidate who has it ranks above a verified one
    without it, though a little farther; the verified badge still separates two otherwise equal candidates."""
    with uow() as session:
        mission, hr = nantes_mission(session, exp_ehpad=True)
        verified = volunteer(session, postal_code="44400", verified=True)  # Rezé, 6,2 km
        experienced = volunteer(session, postal_code="44600", exp_ehpad=True)  # Saint-Nazaire, 53,5 km
        both = volunteer(session, postal_code="44600", exp_ehpad=True, verified=True)
        rows = page_of(session, hr, mission).rows
    assert [row["id"] for row in rows] == [both.id, experienced.id, verified.id]
    parts = {row["id"]: row["score_parts"] for row in rows}
    assert parts[experienced.id]["criteria"] == 2000 > parts[verified.id]["verified"] == 1000
    assert " · critères EHPAD +20 · " in rows[1]["reasons"] and " · critères — 0 · " in rows[2]["reasons"]


def test_a_missing_icu_experience_is_a_warning_not_a_filter(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session, exp_reanimation=True)
        novice = volunteer(session)
        expert = volunteer(session, postal_code="44600", exp_reanimation=True)
        rows = page_of(session, hr, mission).rows
    assert [(row["id"], row["warnings"]) for row in rows] == [(expert.id, []),
                                                              (novice.id, ["sans expérience en réanimation"])]
    assert " · critères réanimation +20 · " in rows[0]["reasons"]


def test_both_missing_experiences_are_warned_and_none_when_the_mission_asks_for_none(uow) -> None:
    with uow() as session:
        demanding, hr = nantes_mission(session, exp_reanimation=True, exp_ehpad=True)
        plain = other_mission(session)
        volunteer(session)
        assert page_of(session, hr, demanding).rows[0]["warnings"] == [
            "sans expérience en réanimation", "sans expérience en EHPAD"]
        assert page_of(session, make_actor(session, "ccs"), plain).rows[0]["warnings"] == []


# ---------------------------------------------------------------- filters, paging and map


def _filter_pool(session: so.Session) -> tuple[m.Mission, SessionUser, dict[str, m.Professional]]:
    mission, hr = nantes_mission(session)
    pool = {
        "nantes": volunteer(session, postal_code="44300", last_name="Durand", mobility="locale"),
        "reze": volunteer(session, postal_code="44400", last_name="Martin", verified=True, mobility="locale"),
        "nazaire": volunteer(session, postal_code="44600", last_name="Bernard", exp_ehpad=True),
        "angers": volunteer(session, postal_code="49000", last_name="Petit", mobility="regionale", verified=True,
                            available_from=START + timedelta(days=3)),
        "laval": volunteer(session, postal_code="53000", last_name="Robert", mobility="nationale",
                           exp_reanimation=True),
    }
    return mission, hr, pool


FILTER_CASES = [
    (CandidateFilters(text="durand"), ["nantes"]),
    (CandidateFilters(text="  ANGERS "), ["angers"]),
    (CandidateFilters(text="444"), ["reze"]),
    (CandidateFilters(max_distance_km=60), ["nantes", "reze", "nazaire"]),
    (CandidateFilters(max_distance_km=6.2), ["nantes", "reze"]),
    (CandidateFilters(verified_only=True), ["reze", "angers"]),
    (CandidateFilters(whole_period=True), ["nantes", "reze", "nazaire", "laval"]),
    (CandidateFilters(mobilities=("locale", "nationale")), ["nantes", "reze", "laval"]),
    (CandidateFilters(exp_ehpad=True), ["nazaire"]),
    (CandidateFilters(exp_reanimation=True), ["laval"]),
    (CandidateFilters(statuses=("disponible",), verified_only=True, max_distance_km=50), ["reze"]),
]


def test_each_filter_narrows_the_table_and_the_map(uow) -> None:
    with uow() as session:
        mission, hr, pool = _filter_pool(session)
        name = {p.id: key for key, p in pool.items()}
        assert page_of(session, hr, mission).total == 5
        for filters, expected in FILTER_CASES:
            page = page_of(session, hr, mission, filters)
            assert sorted(name[row["id"]] for row in page.rows) == sorted(expected), filters
            assert page.total == len(expected), filters
            assert [point["id"] for point in page.map_points] == [row["id"] for row in page.rows], filters


def test_filters_that_leave_nobody_say_so(uow) -> None:
    with uow() as session:
        mission, hr, _ = _filter_pool(session)
        page = page_of(session, hr, mission, CandidateFilters(text="personne"))
    assert (page.rows, page.total, page.map_points) == ([], 0, [])
    assert page.message == "Aucun professionnel ne correspond à ces filtres : élargissez-les (distance, statut, expériences…)."


def test_paging_gives_one_slice_of_the_ranked_list_and_the_map_covers_them_all(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        ranked = [volunteer(session, postal_code=code, mobility="regionale")
                  for code in ("44300", "44400", "44600", "85000", "49000", "53000", "72000")]
        page = page_of(session, hr, mission, offset=2, limit=3)
        last = page_of(session, hr, mission, offset=6, limit=3)
        beyond = page_of(session, hr, mission, offset=10, limit=3)
    assert [row["id"] for row in page.rows] == [p.id for p in ranked[2:5]]
    assert (page.total, page.offset) == (7, 2)
    assert [point["id"] for point in page.map_points] == [p.id for p in ranked]
    assert {"lat", "lon", "first_name", "last_name", "distance_dm", "city"} <= set(page.map_points[0])
    assert [row["id"] for row in last.rows] == [ranked[6].id] and last.total == 7
    assert beyond.rows == [] and beyond.total == 7 and beyond.message is None


def test_a_filtered_map_only_covers_the_filtered_set_beyond_the_page(uow) -> None:
    with uow() as session:
        mission, hr = nantes_mission(session)
        near = [volunteer(session, postal_code=code) for code in ("44300", "44400", "44600")]
        volunteer(session, postal_code="49000", mobility="regionale")
        page = page_of(session, hr, mission, CandidateFilters(max_distance_km=60), limit=1)
    assert [row["id"] for row in page.rows] == [near[0].id]
    assert page.total == 3 and [point["id"] for point in page.map_points] == [p.id for p in near]


def test_a_candidate_row_holds_only_the_public_fields(uow) -> None:
    """DESIGN §4: the list shows no RPPS/ADELI, message or contact — the sheet gives them to those linked."""
    with uow() as session:
        establishment = make_establishment(session, postal_code="44000")
        creator = make_user(session, establishment=establishment)
        mission = make_mission(session, establishment, creator, start_date=START, end_date=END)
        volunteer(session, id_type="rpps", id_number=with_luhn_key("1000000000"), message="Appelez-moi le soir.")
        [row] = find_candidates(session, actor=to_session_user(session, user=creator), mission_id=mission.id,
                                now=NOW).rows
        assert not {"id_type", "id_number", "message", "phone", "email"} & set(row)
