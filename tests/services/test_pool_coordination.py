"""The territorial pool's coordinator (issue 14): its queue of the member establishments' missions, its pushes of
roster members up to the establishment's validation, « Choisir » listing the roster first, and the pool's
indicators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.pools.coordination import pool_indicators, pool_queue, push_roster_members
from core.shared.actions import Action
from core.shared.errors import Conflict, PermissionDenied, ValidationError
from core.staffing.matching import ROSTER_FIRST, find_candidates
from core.staffing.regulation import MissionFilters, region_missions
from core.staffing.workflow import contact, refuse, validate
from core.volunteers.professionals import professional_sheet
from db import models as m
from ops import bench
from tests.factories import (
    END,
    NOW,
    START,
    TODAY,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_pool_member,
    make_pool_setting,
    make_proposal,
    make_roster_entry,
    make_user,
)
from tests.readers import events, outbox, proposals, status_of

NOT_A_MEMBER = ("Cette mission n'est pas celle d'un établissement membre de votre plateforme territoriale : vous ne "
                "pouvez pas lui proposer de candidats.")


def _page(session, actor, mission_id: int):  # noqa: ANN001, ANN202
    return find_candidates(session, actor=actor, mission_id=mission_id, now=NOW)


# ---------------------------------------------------------------- the queue


def test_the_queue_lists_the_member_establishments_missions_to_staff_most_urgent_first(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        second = make_establishment(session, postal_code="44300", finess_category_code="354")
        make_pool_member(session, setting.pool, second)
        hr = make_user(session, establishment=second)
        urgent = make_mission(session, second, hr, start_date=TODAY + timedelta(days=1), end_date=END,
                              exp_ehpad=True, created_at=NOW - timedelta(days=3))
        filled = make_mission(session, second, hr, start_date=START, end_date=END, status="filled")
        make_mission(session, second, hr, start_date=START, end_date=END, status="pending")
        roster_nurse = make_available_nurse(session)
        make_roster_entry(session, setting.pool, roster_nurse)
        make_available_nurse(session)  # not on the roster: no candidate of the pool
        queue = pool_queue(session, actor=setting.coordinator, now=NOW)
        assert [row["id"] for row in queue.rows] == [urgent.id, setting.member_mission.id]
        assert queue.total == 2 and filled.id not in {row["id"] for row in queue.rows}
        regional = region_missions(session, actor=setting.ars, ars_code="52", filters=MissionFilters(
            unfilled_only=True), now=NOW).rows
        urgency = {row["id"]: row["urgency"] for row in regional}
        assert [row["urgency"] for row in queue.rows] == [urgency[urgent.id], urgency[setting.member_mission.id]]
        assert [(row["roster_candidates"], row["actions"]) for row in queue.rows] == [
            (1, {Action.PROPOSE}), (1, {Action.PROPOSE})]
        with pytest.raises(PermissionDenied):
            pool_queue(session, actor=setting.ars, now=NOW)


def test_a_coordinator_sees_its_roster_only_among_a_member_missions_candidates(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        roster_nurse, other = make_available_nurse(session), make_available_nurse(session)
        make_roster_entry(session, setting.pool, roster_nurse)
        page = _page(session, setting.coordinator, setting.member_mission.id)
        assert [row["id"] for row in page.rows] == [roster_nurse.id]
        assert page.rows[0]["actions"] == {Action.SHEET, Action.PUSH}
        with pytest.raises(PermissionDenied) as error:
            _page(session, setting.coordinator, setting.outsider_mission.id)
        assert error.value.message == NOT_A_MEMBER
        assert other.id in {row["id"] for row in _page(session, setting.member_hr, setting.member_mission.id).rows}


# ---------------------------------------------------------------- pushes


def test_a_pushed_roster_member_is_contacted_then_validated_by_the_member_establishment(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session, first_name="Inès", last_name="Garnier")
        make_roster_entry(session, setting.pool, nurse)
        mission_id = setting.member_mission.id
        assert push_roster_members(session, actor=setting.coordinator, mission_id=mission_id,
                                   professional_ids=[nurse.id], now=NOW) == 1
        [proposal] = proposals(session, nurse.id)
        assert (proposal.state, proposal.origin, proposal.by_user_id) == ("en_cours", "pool", setting.coordinator.id)
        assert status_of(session, nurse.id) == "en_cours"
        [event] = events(session, "pool_pushed")
        assert (event.entity, event.after, event.ars_code) == ("proposal", "en_cours", "52")
        mails = {mail.to: mail for mail in outbox(session)}
        sender = f"la plateforme territoriale « {setting.pool.name} »"
        assert mails[nurse.email].subject == f"Renfort RH — {sender} vous propose à un établissement"
        assert mails[setting.member_hr.email].subject == f"Renfort RH — {sender} vous propose un renfort"
        assert "Inès Garnier" in mails[setting.member_hr.email].body_text
        [row] = [r for r in _page(session, setting.member_hr, mission_id).rows if r["id"] == nurse.id]
        assert (row["proposal_state"], row["proposal_origin"], row["pool_roster"]) == ("en_cours", "pool", True)
        contact(session, actor=setting.member_hr, mission_id=mission_id, professional_id=nurse.id, now=NOW)
        assert validate(session, actor=setting.member_hr, mission_id=mission_id, professional_ids=[nurse.id],
                        now=NOW) == 1
        assert (proposal.state, status_of(session, nurse.id)) == ("affecte", "affecte")
        assert session.get(m.Mission, mission_id).status == "filled"
        assert pool_queue(session, actor=setting.coordinator, now=NOW).rows == []


def test_the_coordinator_pushes_only_its_roster_to_its_members_missions(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        member_nurse, stranger = make_available_nurse(session), make_available_nurse(session, last_name="Petit")
        make_roster_entry(session, setting.pool, member_nurse)
        make_roster_entry(session, setting.pool, stranger, state="invite")  # invited, not yet a member
        with pytest.raises(PermissionDenied) as error:
            push_roster_members(session, actor=setting.coordinator, mission_id=setting.outsider_mission.id,
                                professional_ids=[member_nurse.id], now=NOW)
        assert error.value.message == NOT_A_MEMBER
        with pytest.raises(Conflict) as error:
            push_roster_members(session, actor=setting.coordinator, mission_id=setting.member_mission.id,
                                professional_ids=[member_nurse.id, stranger.id], now=NOW)
        assert error.value.message == ("Alex Petit n'est pas membre du vivier de la plateforme : la plateforme ne "
                                       "propose que ses membres.")
        with pytest.raises(PermissionDenied):
            push_roster_members(session, actor=setting.member_hr, mission_id=setting.member_mission.id,
                                professional_ids=[member_nurse.id], now=NOW)
        assert proposals(session, member_nurse.id) == [] and outbox(session) == []


def test_an_unavailable_or_turned_down_roster_member_is_not_pushed(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        paused = make_available_nurse(session, last_name="Lemoine", status="indisponible")
        refused = make_available_nurse(session, last_name="Marchand")
        for nurse in (paused, refused):
            make_roster_entry(session, setting.pool, nurse)
        mission_id = setting.member_mission.id
        with pytest.raises(Conflict) as error:
            push_roster_members(session, actor=setting.coordinator, mission_id=mission_id,
                                professional_ids=[paused.id], now=NOW)
        assert error.value.message == ("Alex Lemoine ne peut pas être proposé(e) : déjà sollicité(e), indisponible ou "
                                       "hors critères.")
        push_roster_members(session, actor=setting.coordinator, mission_id=mission_id, professional_ids=[refused.id],
                            now=NOW)
        refuse(session, actor=setting.member_hr, mission_id=mission_id, professional_ids=[refused.id], now=NOW)
        with pytest.raises(Conflict) as error:
            push_roster_members(session, actor=setting.coordinator, mission_id=mission_id,
                                professional_ids=[refused.id], now=NOW + timedelta(hours=1))
        assert error.value.message == ("Alex Marchand a été refusé(e) pour cette mission le 23/11/2026 à 10:00 : elle "
                                       "ne peut plus lui être proposée.")


# ---------------------------------------------------------------- « Choisir »: the roster first


def test_a_member_establishment_sees_its_pools_roster_first_and_the_fairness_rule_within_it(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        # At the door (Nantes) and verified: the best score of all, but not on the roster.
        best = make_available_nurse(session, postal_code="44000", verified=True)
        # On the roster, farther (Saint-Nazaire), one of them solicited twice in the last 30 days.
        solicited = make_available_nurse(session, postal_code="44600")
        fresh = make_available_nurse(session, postal_code="44600")
        for nurse in (solicited, fresh):
            make_roster_entry(session, setting.pool, nurse)
        hr = make_user(session, establishment=setting.outsider)
        for days in (2, 5):
            old = make_mission(session, setting.outsider, hr, start_date=TODAY - timedelta(days=20),
                               end_date=TODAY - timedelta(days=15), status="closed")
            make_proposal(session, old, solicited, state="libere", created_at=NOW - timedelta(days=days))
        rows = _page(session, setting.member_hr, setting.member_mission.id).rows
        assert [row["id"] for row in rows] == [fresh.id, solicited.id, best.id]
        assert rows[0]["score"] > rows[1]["score"] and rows[2]["score"] > rows[0]["score"]
        assert [row["pool_roster"] for row in rows] == [True, True, False]
        assert rows[0]["reasons"].startswith(ROSTER_FIRST + " · ") and ROSTER_FIRST not in rows[2]["reasons"]
        outside = _page(session, setting.outsider_hr, setting.outsider_mission.id).rows
        assert [row["pool_roster"] for row in outside] == [False, False, False]
        assert outside[-1]["id"] == solicited.id  # outside the pool, the score alone ranks


def test_the_naive_reference_of_the_bench_orders_and_hides_as_matching_does(uow, db_url) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurses = [make_available_nurse(session, postal_code=code) for code in ("44000", "44600", "44300", "44100")]
        make_roster_entry(session, setting.pool, nurses[1])
        make_roster_entry(session, setting.pool, nurses[2], origin="inscription")  # pool-only
        missions = {setting.member_mission.id: setting.member_hr, setting.outsider_mission.id: setting.outsider_hr}
    for mission_id, hr in missions.items():
        with uow() as session:
            page = find_candidates(session, actor=hr, mission_id=mission_id, limit=1000, now=NOW)
        assert [row["id"] for row in page.rows] == bench.naive_candidates(db_url, mission_id, NOW)
    assert nurses[2].id not in {row["id"] for row in page.rows}  # the outsider does not see the pool-only one


# ---------------------------------------------------------------- the roster member's sheet


def test_a_coordinator_reads_its_roster_members_contact_and_nobody_elses_sheet(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        member, other = make_available_nurse(session), make_available_nurse(session)
        make_roster_entry(session, setting.pool, member)
        sheet = professional_sheet(session, actor=setting.coordinator, professional_id=member.id, now=NOW)
        assert (sheet.contact_visible, sheet.file_visible, sheet.documents) == (True, False, [])
        assert sheet.professional["email"] == member.email and "id_number" not in sheet.professional
        with pytest.raises(PermissionDenied):
            professional_sheet(session, actor=setting.coordinator, professional_id=other.id, now=NOW)


# ---------------------------------------------------------------- indicators


def test_the_pools_indicators_on_a_small_hand_made_set(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)  # the pool starts on TODAY (23/11/2026)
        pool, member = setting.pool, setting.member
        ssiad = make_establishment(session, postal_code="44300", name="SSIAD de Rezé", finess_category_code="354")
        make_pool_member(session, pool, ssiad)
        ssiad_hr = make_user(session, establishment=ssiad)
        nurses = [make_available_nurse(session) for _ in range(4)]
        # The member EHPAD's open mission (25/11 → 08/12, 14 days, 1 post): filled by a roster member the pool pushed.
        make_proposal(session, setting.member_mission, nurses[0], state="affecte", origin="pool")
        # An aide-soignant mission begun before the pool (20/11 → 26/11, 2 posts): one direct assignment ended;
        # 4 days counted from the pool's start (23 → 26).
        early = make_mission(session, member, make_user(session, establishment=member),
                             profession_code="aide_soignant", count=2, start_date=date(2026, 11, 20),
                             end_date=date(2026, 11, 26), status="open")
        make_proposal(session, early, nurses[1], state="termine", origin="direct")
        # The SSIAD: 3 posts (01/12 → 10/12, 10 days), one assigned by an ARS push, one cancelled (not counted).
        home = make_mission(session, ssiad, ssiad_hr, count=3, start_date=date(2026, 12, 1), end_date=date(2026, 12, 10))
        make_proposal(session, home, nurses[2], state="affecte", origin="push")
        make_proposal(session, home, nurses[3], state="annule", origin="pool")
        # Not counted: a mission over before the pool began, a pending one, a 0-post one, the outsider's.
        make_mission(session, ssiad, ssiad_hr, start_date=date(2026, 11, 1), end_date=date(2026, 11, 20),
                     status="closed")
        make_mission(session, ssiad, ssiad_hr, start_date=START, end_date=END, status="pending")
        make_mission(session, ssiad, ssiad_hr, count=0, start_date=START, end_date=END)
        figures = pool_indicators(session, actor=setting.coordinator)
        assert (figures.pool_name, figures.since) == (pool.name, TODAY)
        assert figures.totals == {"needs": 6, "filled": 3, "by_pool": 1, "days": 14 + 4 + 10}
        assert figures.by_establishment == [
            {"establishment": member.name, "needs": 3, "filled": 2, "by_pool": 1, "days": 18},
            {"establishment": "SSIAD de Rezé", "needs": 3, "filled": 1, "by_pool": 0, "days": 10}]
        assert figures.by_profession == [
            {"profession": "Infirmier diplômé d'État", "needs": 4, "filled": 2, "by_pool": 1, "days": 24},
            {"profession": "Aide-soignant", "needs": 2, "filled": 1, "by_pool": 0, "days": 4}]
        assert pool_indicators(session, actor=setting.ars, pool_id=pool.id).totals == figures.totals
        with pytest.raises(PermissionDenied):
            pool_indicators(session, actor=make_actor(session, "ars", ars_code="53"), pool_id=pool.id)
        # A period: the missions that meet it, their days within it (01/12 → 05/12: 5 days of each).
        december = pool_indicators(session, actor=setting.coordinator, start=date(2026, 12, 1), end=date(2026, 12, 5))
        assert (december.since, december.until) == (date(2026, 12, 1), date(2026, 12, 5))
        assert december.totals == {"needs": 4, "filled": 2, "by_pool": 1, "days": 5 + 5}
        # Never before the pool's start: from 01/11 reads as from 23/11; to 24/11 keeps the early mission only.
        early = pool_indicators(session, actor=setting.coordinator, start=date(2026, 11, 1), end=date(2026, 11, 24))
        assert (early.since, early.totals) == (TODAY, {"needs": 2, "filled": 1, "by_pool": 0, "days": 2})
        before = pool_indicators(session, actor=setting.coordinator, end=date(2026, 11, 20))
        assert before.totals == {"needs": 0, "filled": 0, "by_pool": 0, "days": 0}
        with pytest.raises(ValidationError, match="La date de fin de la période précède sa date de début"):
            pool_indicators(session, actor=setting.coordinator, start=date(2026, 12, 5), end=date(2026, 12, 1))
