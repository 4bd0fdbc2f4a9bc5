"""Regulation by the ARS and the CCS (DESIGN §3, §4, §6): crisis mode, pushes, alerts and national pools,
the region's missions as a priority queue, and the region's volunteers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.mail.outbox import send_pending
from core.shared.actions import Action
from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.staffing.matching import LIVE, CandidatePage, find_candidates
from core.staffing.regulation import (
    U_CCS_ALERT,
    U_EHPAD,
    U_MAX_UNFILLED,
    U_MAX_WAITING,
    U_PER_DAY_UNFILLED,
    U_PER_UNFILLED_POST,
    U_REANIMATION,
    U_STARTS_WITHIN_3_DAYS,
    U_STARTS_WITHIN_7_DAYS,
    U_STARTS_WITHIN_14_DAYS,
    CrisisState,
    MissionFilters,
    ProfessionalFilters,
    alert_ccs,
    assign_on_behalf,
    ccs_alerts,
    crisis_history,
    crisis_state,
    open_national_pools,
    push,
    region_missions,
    region_professionals,
    set_crisis_mode,
    set_manual_priority,
    set_unavailable_by_ars,
    set_verified,
)
from core.staffing.workflow import REBOOKED, close_mission, contact, validate
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
)
from tests.readers import events, name_of, outbox, proposals, status_of

PERIOD = "du 25/11/2026 au 08/12/2026"
NURSE = "Infirmier diplômé d'État"
CRISIS_MESSAGE = (f"L'ARS Pays de la Loire a activé le mode gestion de crise pour la profession « {NURSE} » : "
                  "c'est elle qui propose les candidats. Ceux qu'elle vous proposera apparaîtront ici.")
OTHER_REGION = "Cette demande relève d'une autre ARS : vous ne pouvez pas la traiter."


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Place:
    """An establishment with one mission and the signed-in account of its HR office, who filed it."""

    establishment_id: int
    establishment_name: str
    mission_id: int
    hr: SessionUser


def place(session: so.Session, postal_code: str = "44000", **mission: Any) -> Place:
    establishment = make_establishment(session, postal_code=postal_code)
    user = make_user(session, establishment=establishment, first_name="Hélène")
    row = make_mission(session, establishment, user, **{"start_date": START, "end_date": END, "created_at": NOW,
                                                        **mission})
    return Place(establishment.id, establishment.name, row.id, to_session_user(session, user=user))


def ars(session: so.Session, code: str = "52", **overrides: Any) -> SessionUser:
    return make_actor(session, "ars", ars_code=code, **overrides)


def page_of(session: so.Session, who: SessionUser, mission_id: int, *, now: datetime = NOW) -> CandidatePage:
    return find_candidates(session, actor=who, mission_id=mission_id, limit=100, now=now)


def candidate_ids(session: so.Session, who: SessionUser, mission_id: int, *, now: datetime = NOW) -> list[int]:
    return [row["id"] for row in page_of(session, who, mission_id, now=now).rows]


def link(session: so.Session, mission_id: int, professional: m.Professional, state: str,
         origin: str = "direct") -> m.Proposal:
    """A live proposal, the volunteer's status mirroring it (as the workflow would leave them)."""
    proposal = m.Proposal(mission_id=mission_id, professional_id=professional.id, origin=origin, state=state,
                          created_at=NOW - timedelta(days=1))
    session.add(proposal)
    if state in LIVE:
        professional.status = state
    session.flush()
    return proposal


def mission_of(session: so.Session, mission_id: int) -> m.Mission:
    return session.get(m.Mission, mission_id, populate_existing=True)


def queue_ids(session: so.Session, who: SessionUser, filters: MissionFilters | None = None, **kwargs: Any) -> list[int]:
    kwargs.setdefault("now", NOW)
    return [row["id"] for row in region_missions(session, actor=who, ars_code="52", filters=filters, **kwargs).rows]


# ---------------------------------------------------------------- crisis mode


def test_crisis_mode_for_one_profession_leaves_the_establishment_only_the_volunteers_pushed_to_its_mission(uow) -> None:
    with uow() as session:
        nurses, care = place(session), place(session, profession_code="aide_soignant")
        rennes = place(session, postal_code="35000")
        free, proposed = make_available_nurse(session), make_available_nurse(session)
        care_assistant = make_available_nurse(session, profession_code="aide_soignant")
        breton = make_available_nurse(session, postal_code="35000")
        regulator = ars(session)
        state = set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True, professions=["infirmier_de"],
                                now=NOW - timedelta(hours=2))
        empty = page_of(session, nurses.hr, nurses.mission_id)
        push(session, actor=regulator, mission_id=nurses.mission_id, professional_ids=[proposed.id], now=NOW - timedelta(hours=1))
        crisis_view = page_of(session, nurses.hr, nurses.mission_id)
        regulator_view = candidate_ids(session, regulator, nurses.mission_id)
        other_profession = page_of(session, care.hr, care.mission_id)
        other_region = page_of(session, rennes.hr, rennes.mission_id)
    assert state == CrisisState(all_professions=False, professions=("infirmier_de",)) and state.active
    assert (empty.crisis, empty.rows, empty.message) == (True, [], CRISIS_MESSAGE)
    assert crisis_view.crisis and [row["id"] for row in crisis_view.rows] == [proposed.id]
    assert sorted(regulator_view) == sorted([free.id, proposed.id])  # the ARS still sees everyone
    assert (other_profession.crisis, [row["id"] for row in other_profession.rows]) == (False, [care_assistant.id])
    assert (other_region.crisis, [row["id"] for row in other_region.rows]) == (False, [breton.id])


def test_crisis_mode_for_all_professions_covers_the_whole_region_until_it_is_switched_off(uow) -> None:
    with uow() as session:
        nurses, care = place(session), place(session, profession_code="aide_soignant")
        rennes = place(session, postal_code="35000")
        free, care_assistant = make_available_nurse(session), make_available_nurse(session, profession_code="aide_soignant")
        breton = make_available_nurse(session, postal_code="35000")
        regulator = ars(session)
        state = set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True, now=NOW - timedelta(hours=2))
        during = {key: page_of(session, where.hr, where.mission_id)
                  for key, where in (("nurses", nurses), ("care", care), ("rennes", rennes))}
        off = set_crisis_mode(session, actor=regulator, ars_code="52", enabled=False, now=NOW - timedelta(hours=1))
        after = {key: candidate_ids(session, where.hr, where.mission_id)
                 for key, where in (("nurses", nurses), ("care", care), ("rennes", rennes))}
        read_back = crisis_state(session, actor=regulator, ars_code="52")
    assert state == CrisisState(all_professions=True, professions=())
    assert {key: (page.crisis, len(page.rows)) for key, page in during.items()} == {
        "nurses": (True, 0), "care": (True, 0), "rennes": (False, 1)}
    assert during["care"].message.startswith("L'ARS Pays de la Loire a activé le mode gestion de crise")
    assert off == read_back == CrisisState(all_professions=False, professions=()) and not off.active
    assert after == {"nurses": [free.id], "care": [care_assistant.id], "rennes": [breton.id]}


def test_enabling_crisis_mode_twice_adds_no_row_and_each_switch_writes_an_event(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True, professions=["infirmier_de"], now=NOW)
        set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True, professions=["infirmier_de"], now=NOW)
        state = set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True,
                                professions=["aide_soignant", "infirmier_de", "aide_soignant"], now=NOW)
        rows = list(session.scalars(sa.select(m.CrisisMode).order_by(m.CrisisMode.id)))
        enabled = events(session, "enabled")
        after_off = set_crisis_mode(session, actor=regulator, ars_code="52", enabled=False, professions=["infirmier_de"],
                                    now=NOW + timedelta(hours=1))
        disabled = events(session, "disabled")
    assert state == CrisisState(all_professions=False, professions=("aide_soignant", "infirmier_de"))
    assert [(r.ars_code, r.profession_code, r.enabled_by, r.enabled_at) for r in rows] == [
        ("52", "infirmier_de", regulator.id, NOW), ("52", "aide_soignant", regulator.id, NOW)]
    assert [(e.entity, e.entity_id, e.actor_user_id, e.after, e.details) for e in enabled] == [
        ("crisis_mode", str(rows[0].id), regulator.id, "on", {"ars_code": "52", "profession": "infirmier_de"}),
        ("crisis_mode", str(rows[1].id), regulator.id, "on", {"ars_code": "52", "profession": "aide_soignant"})]
    assert after_off == CrisisState(all_professions=False, professions=("aide_soignant",))
    assert [(e.entity_id, e.before, e.after, e.at, e.details) for e in disabled] == [
        (str(rows[0].id), "on", "off", NOW + timedelta(hours=1), {"ars_code": "52", "profession": "infirmier_de"})]


def test_the_crisis_history_lists_the_switches_newest_first_with_who_switched(uow) -> None:
    with uow() as session:
        regulator = ars(session, first_name="Yann", last_name="Le Goff")
        centre = make_actor(session, "ccs", first_name="Nadia", last_name="Benali")
        set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True, professions=["infirmier_de"], now=NOW)
        set_crisis_mode(session, actor=centre, ars_code="52", enabled=True, now=NOW + timedelta(hours=1))
        set_crisis_mode(session, actor=regulator, ars_code="52", enabled=False, now=NOW + timedelta(hours=2))
        set_crisis_mode(session, actor=make_actor(session, "ars", ars_code="11"), ars_code="11", enabled=True, now=NOW)
        history = crisis_history(session, actor=regulator, ars_code="52")
        read_by_ministry = crisis_history(session, actor=make_actor(session, "ministere"), ars_code="52")
    assert [(h["profession_code"], h["enabled_at"], h["enabled_by"], h["disabled_at"], h["disabled_by"])
            for h in history] == [
        (None, NOW + timedelta(hours=1), "Nadia Benali", NOW + timedelta(hours=2), "Yann Le Goff"),
        ("infirmier_de", NOW, "Yann Le Goff", NOW + timedelta(hours=2), "Yann Le Goff")]
    assert read_by_ministry == history


def test_only_the_regions_ars_and_the_ccs_can_switch_crisis_mode(uow) -> None:
    with uow() as session:
        here = place(session)
        professional = make_available_nurse(session)
        outsiders = [ars(session, "11"), here.hr, make_actor(session, "ministere"),
                     make_actor(session, "professionnel", professional_id=professional.id), None]
        for outsider in outsiders:
            with pytest.raises(PermissionDenied):
                set_crisis_mode(session, actor=outsider, ars_code="52", enabled=True, now=NOW)
        assert session.scalar(sa.select(sa.func.count()).select_from(m.CrisisMode)) == 0
        with pytest.raises(PermissionDenied) as denied:
            set_crisis_mode(session, actor=ars(session, "11"), ars_code="52", enabled=False, now=NOW)
        with pytest.raises(PermissionDenied):
            crisis_history(session, actor=ars(session, "11"), ars_code="52")
        centre = make_actor(session, "ccs")
        assert set_crisis_mode(session, actor=centre, ars_code="52", enabled=True, now=NOW).all_professions
        assert [row["enabled_by"] for row in crisis_history(session, actor=centre, ars_code="52")] == [centre.display_name]
    assert denied.value.message == OTHER_REGION


def test_an_empty_or_unknown_list_of_professions_is_refused(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        for professions in ([], ["plombier"]):
            with pytest.raises(ValidationError) as error:
                set_crisis_mode(session, actor=regulator, ars_code="52", enabled=True, professions=professions, now=NOW)
            assert (error.value.field, error.value.message) == (
                "professions", "Choisissez au moins une profession, ou « toutes les professions ».")
        with pytest.raises(NotFound):
            set_crisis_mode(session, actor=make_actor(session, "ccs"), ars_code="99", enabled=True, now=NOW)
        assert session.scalar(sa.select(sa.func.count()).select_from(m.CrisisMode)) == 0
        assert events(session, "enabled") == []


# ---------------------------------------------------------------- push


def test_pushing_makes_volunteers_en_cours_for_the_mission_and_emails_them_and_the_requester(uow) -> None:
    with uow() as session:
        here = place(session)
        first, second = make_available_nurse(session, first_name="Inès"), make_available_nurse(session, first_name="Paul")
        regulator = ars(session)
        requester = session.get(m.User, here.hr.id)
    with uow() as session:
        assert push(session, actor=regulator, mission_id=here.mission_id, professional_ids=[first.id, second.id, first.id], now=NOW) == 2
    with uow() as session:
        for professional in (first, second):
            [proposal] = proposals(session, professional.id)
            assert (proposal.mission_id, proposal.origin, proposal.state, proposal.by_user_id, proposal.created_at) == (
                here.mission_id, "push", "en_cours", regulator.id, NOW)
            assert status_of(session, professional.id) == "en_cours"
        pushed_events = events(session, "pushed")
        mails = outbox(session)
    assert [(e.entity, e.actor_user_id, e.before, e.after, e.details) for e in pushed_events] == [
        ("proposal", regulator.id, "disponible", "en_cours", {"mission_id": here.mission_id, "professional_id": p.id})
        for p in (first, second)]
    assert [(mail.to, mail.subject) for mail in mails] == [
        (first.email, "Renfort RH — l'ARS vous propose à un établissement"),
        (requester.email, "Renfort RH — l'ARS vous propose un renfort"),
        (second.email, "Renfort RH — l'ARS vous propose à un établissement"),
        (requester.email, "Renfort RH — l'ARS vous propose un renfort")]
    assert "Bonjour Inès," in mails[0].body_text
    assert (f"L'ARS vous a proposé(e) à « {here.establishment_name} » pour la mission « {NURSE} » {PERIOD}."
            in mails[0].body_text)
    assert "Bonjour Hélène," in mails[1].body_text
    assert f"L'ARS vous propose {name_of(first)} pour votre mission « {NURSE} » {PERIOD}." in mails[1].body_text


def test_the_push_emails_are_delivered_by_a_real_smtp_server(uow, db_url, smtp_server) -> None:
    with uow() as session:
        here = place(session)
        professional = make_available_nurse(session)
        requester = session.get(m.User, here.hr.id).email
        push(session, actor=ars(session), mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)

    report = send_pending(db_url, now=NOW)

    assert (report.sent, report.failed, report.waiting) == (2, 0, 0)
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [(professional.email,), (requester,)]
    assert smtp_server.subjects() == ["Renfort RH — l'ARS vous propose à un établissement",
                                      "Renfort RH — l'ARS vous propose un renfort"]
    text = smtp_server.messages[1].get_body(preferencelist=("plain",)).get_content()
    assert f"L'ARS vous propose {name_of(professional)} pour votre mission « {NURSE} » {PERIOD}." in text
    with uow() as session:
        assert all(mail.sent_at == NOW for mail in outbox(session))


def test_a_pushed_volunteer_is_reserved_for_the_target_establishment_which_contacts_and_validates_them(uow) -> None:
    with uow() as session:
        here, rival = place(session), place(session)
        professional = make_available_nurse(session)
        push(session, actor=ars(session), mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
    with uow() as session:
        [row] = page_of(session, here.hr, here.mission_id, now=NOW + timedelta(hours=1)).rows
        elsewhere = page_of(session, rival.hr, rival.mission_id, now=NOW + timedelta(hours=1))
    assert (row["id"], row["status"], row["proposal_state"], row["proposal_origin"]) == (
        professional.id, "en_cours", "en_cours", "push")
    assert (elsewhere.rows, elsewhere.reserved_elsewhere) == ([], 1)
    with pytest.raises(Conflict) as error, uow() as session:
        contact(session, actor=rival.hr, mission_id=rival.mission_id, professional_id=professional.id, now=NOW + timedelta(hours=1))
    assert error.value.message == REBOOKED
    with uow() as session:
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW + timedelta(hours=2))
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW + timedelta(hours=3))
    with uow() as session:
        [proposal] = proposals(session, professional.id)
        assert (proposal.origin, proposal.state, proposal.by_user_id) == ("push", "affecte", here.hr.id)
        assert (status_of(session, professional.id), mission_of(session, here.mission_id).status) == (
            "affecte", "filled")


def test_pushing_a_volunteer_already_solicited_or_not_matching_is_refused_and_nothing_changes(uow) -> None:
    with uow() as session:
        here, elsewhere = place(session), place(session)
        regulator = ars(session)
        free = make_available_nurse(session)
        reserved = make_available_nurse(session)
        link(session, elsewhere.mission_id, reserved, "contacte")
        already = make_available_nurse(session)
        link(session, here.mission_id, already, "en_cours", origin="push")
        paused = make_available_nurse(session, status="indisponible")
        care_assistant = make_available_nurse(session, profession_code="aide_soignant")
        too_far = make_available_nurse(session, postal_code="75001")
    for refused in (reserved, already, paused, care_assistant, too_far):
        with pytest.raises(Conflict) as error, uow() as session:
            push(session, actor=regulator, mission_id=here.mission_id, professional_ids=[free.id, refused.id], now=NOW)
        assert error.value.message == (f"{name_of(refused)} ne peut pas être proposé(e) : déjà sollicité(e), "
                                       "indisponible ou hors critères.")
    with pytest.raises(ValidationError), uow() as session:
        push(session, actor=regulator, mission_id=here.mission_id, professional_ids=[], now=NOW)
    with uow() as session:
        assert (status_of(session, free.id), proposals(session, free.id)) == ("disponible", [])
        assert [(p.mission_id, p.state) for p in proposals(session, reserved.id)] == [(elsewhere.mission_id, "contacte")]
        assert [p.state for p in proposals(session, already.id)] == ["en_cours"]
        assert (outbox(session), events(session, "pushed")) == ([], [])


def test_nobody_can_be_pushed_to_a_mission_that_is_not_open(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        professional = make_available_nurse(session)
        places = [place(session, **overrides) for overrides in
                  ({"status": "filled"}, {"status": "closed"}, {"status": "pending"}, {"count": 0})]
        for here in places:
            with pytest.raises(Conflict) as error:
                push(session, actor=regulator, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
            assert error.value.message == "Cette mission n'est pas ouverte : aucun professionnel ne peut lui être proposé."
        with pytest.raises(NotFound):
            push(session, actor=regulator, mission_id=999_999, professional_ids=[professional.id], now=NOW)
        assert (status_of(session, professional.id), proposals(session, professional.id)) == ("disponible", [])


def test_an_ars_of_another_region_cannot_push_but_the_ccs_can(uow) -> None:
    with uow() as session:
        here = place(session)
        first, second = make_available_nurse(session), make_available_nurse(session)
        for outsider in (ars(session, "11"), here.hr, make_actor(session, "ministere")):
            with pytest.raises(PermissionDenied):
                push(session, actor=outsider, mission_id=here.mission_id, professional_ids=[first.id], now=NOW)
        assert proposals(session, first.id) == []
        centre = make_actor(session, "ccs")
        assert push(session, actor=centre, mission_id=here.mission_id, professional_ids=[second.id], now=NOW) == 1
        [proposal] = proposals(session, second.id)
        assert (proposal.origin, proposal.state, proposal.by_user_id) == ("push", "en_cours", centre.id)


# ---------------------------------------------------------------- alerts and national pools


def test_opening_the_national_pools_adds_exactly_the_national_volunteers_of_other_regions(uow) -> None:
    with uow() as session:
        here = place(session)
        centre = make_actor(session, "ccs")
        national_rennes = make_available_nurse(session, postal_code="35000", mobility="nationale")
        national_paris = make_available_nurse(session, postal_code="75001", mobility="nationale")
        make_available_nurse(session, postal_code="35000", mobility="regionale")
        make_available_nurse(session, postal_code="35000", mobility="departementale")
        make_available_nurse(session, postal_code="35000", mobility="nationale", profession_code="aide_soignant")
        make_available_nurse(session, postal_code="35000", mobility="nationale", status="indisponible")
        region = {make_available_nurse(session, postal_code="44300", mobility="locale").id,
                  make_available_nurse(session, postal_code="49000", mobility="regionale").id,
                  make_available_nurse(session, postal_code="53000", mobility="nationale").id}
        before = set(candidate_ids(session, here.hr, here.mission_id))
        open_national_pools(session, actor=centre, mission_id=here.mission_id, now=NOW)
        after = set(candidate_ids(session, here.hr, here.mission_id))
        seen_by_the_ars = set(candidate_ids(session, ars(session), here.mission_id))
        opened_at = mission_of(session, here.mission_id).pools_opened_at
        [event] = events(session, "pools_opened")
    assert before == region
    assert after - before == {national_rennes.id, national_paris.id} and before <= after
    assert seen_by_the_ars == after
    assert opened_at == NOW
    assert (event.entity, event.entity_id, event.actor_user_id) == ("mission", str(here.mission_id), centre.id)


def test_only_the_ccs_opens_the_pools_once_and_the_regions_ars_accounts_are_emailed(uow) -> None:
    with uow() as session:
        here = place(session)
        first = make_user(session, "ars", ars_code="52", first_name="Yann")
        second = make_user(session, "ars", ars_code="52", first_name="Nina")
        make_user(session, "ars", ars_code="52", status="disabled")
        make_user(session, "ars", ars_code="53")
        for outsider in (to_session_user(session, user=first), here.hr, make_actor(session, "ministere")):
            with pytest.raises(PermissionDenied):
                open_national_pools(session, actor=outsider, mission_id=here.mission_id, now=NOW)
        assert mission_of(session, here.mission_id).pools_opened_at is None
        centre = make_actor(session, "ccs")
        open_national_pools(session, actor=centre, mission_id=here.mission_id, now=NOW)
        with pytest.raises(Conflict) as twice:
            open_national_pools(session, actor=centre, mission_id=here.mission_id, now=NOW + timedelta(hours=1))
        mails = outbox(session)
    assert twice.value.message == "Les viviers nationaux sont déjà ouverts pour cette mission."
    assert sorted((mail.to, mail.subject) for mail in mails) == sorted(
        (user.email, "Renfort RH — viviers nationaux ouverts") for user in (first, second))
    to_yann = next(mail for mail in mails if mail.to == first.email)
    assert "Bonjour Yann," in to_yann.body_text
    assert f"pour la mission « {NURSE} » de « {here.establishment_name} »" in to_yann.body_text


def test_alerting_the_ccs_flags_the_mission_and_emails_every_active_ccs_account(uow) -> None:
    with uow() as session:
        here = place(session)
        regulator = ars(session)
        first = make_user(session, "ccs", first_name="Nadia")
        second = make_user(session, "ccs")
        make_user(session, "ccs", status="disabled")
        make_user(session, "ministere")
        alert_ccs(session, actor=regulator, mission_id=here.mission_id, message="  Aucun   volontaire dans la région.  ", now=NOW)
        mission = mission_of(session, here.mission_id)
        [event] = events(session, "ccs_alerted")
        mails = outbox(session)
    assert (mission.ccs_alert_at, mission.ccs_alert_message) == (NOW, "Aucun volontaire dans la région.")
    assert (event.entity, event.entity_id, event.actor_user_id) == ("mission", str(here.mission_id), regulator.id)
    assert sorted((mail.to, mail.subject) for mail in mails) == sorted(
        (user.email, "Renfort RH — alerte de l'ARS Pays de la Loire") for user in (first, second))
    to_nadia = next(mail for mail in mails if mail.to == first.email)
    assert "Bonjour Nadia," in to_nadia.body_text
    assert f"« {NURSE} » pour « {here.establishment_name} »" in to_nadia.body_text
    assert "Message de l'ARS : Aucun volontaire dans la région." in to_nadia.body_text


def test_an_alert_needs_a_message_and_only_the_regions_ars_sends_it(uow) -> None:
    with uow() as session:
        here, closed = place(session), place(session, status="closed")
        regulator = ars(session)
        make_actor(session, "ccs")
        with pytest.raises(ValidationError) as blank:
            alert_ccs(session, actor=regulator, mission_id=here.mission_id, message="   ", now=NOW)
        for outsider in (ars(session, "11"), make_actor(session, "ccs"), make_actor(session, "ministere"), here.hr):
            with pytest.raises(PermissionDenied):
                alert_ccs(session, actor=outsider, mission_id=here.mission_id, message="Au secours", now=NOW)
        with pytest.raises(Conflict):
            alert_ccs(session, actor=regulator, mission_id=closed.mission_id, message="Au secours", now=NOW)
        assert mission_of(session, here.mission_id).ccs_alert_at is None
        assert (outbox(session), events(session, "ccs_alerted")) == ([], [])
    assert (blank.value.field, blank.value.message) == ("message", "Le champ « Message au CCS » est obligatoire.")


def test_the_ccs_alert_list_keeps_alerted_open_missions_until_their_pools_are_opened(uow) -> None:
    with uow() as session:
        regulator, centre = ars(session), make_actor(session, "ccs")
        first, second = place(session, count=2), place(session, postal_code="49000", profession_code="aide_soignant")
        filled, closed, quiet = place(session), place(session), place(session)
        professional = make_available_nurse(session)
        for at, where in ((NOW - timedelta(hours=3), second), (NOW - timedelta(hours=2), first),
                          (NOW - timedelta(hours=2), filled), (NOW - timedelta(hours=2), closed)):
            alert_ccs(session, actor=regulator, mission_id=where.mission_id, message="Personne à proposer", now=at)
        assign_on_behalf(session, actor=regulator, mission_id=filled.mission_id, professional_id=professional.id, now=NOW - timedelta(hours=1))
        close_mission(session, actor=closed.hr, mission_id=closed.mission_id, now=NOW - timedelta(hours=1))
        listed = ccs_alerts(session, actor=centre)
        ministry_view = ccs_alerts(session, actor=make_actor(session, "ministere"))
        with pytest.raises(PermissionDenied):
            ccs_alerts(session, actor=regulator)
        open_national_pools(session, actor=centre, mission_id=second.mission_id, now=NOW)
        after = [row["id"] for row in ccs_alerts(session, actor=centre)]
    assert quiet.mission_id not in after
    assert [(row["id"], row["region"], row["profession"], row["ccs_alert_message"], row["ccs_alert_at"], row["count"],
             row["assigned"], row["establishment"]) for row in listed] == [
        (second.mission_id, "Pays de la Loire", "Aide-soignant", "Personne à proposer", NOW - timedelta(hours=3), 1, 0,
         second.establishment_name),
        (first.mission_id, "Pays de la Loire", NURSE, "Personne à proposer", NOW - timedelta(hours=2), 2, 0,
         first.establishment_name)]
    # The same alerts; only the CCS may act on them.
    assert [{**row, "actions": None} for row in ministry_view] == [{**row, "actions": None} for row in listed]
    assert [row["actions"] for row in listed] == [{Action.OPEN_POOLS, Action.PROPOSE, Action.CLOSE_ALERT}] * 2
    assert [row["actions"] for row in ministry_view] == [set()] * 2
    assert after == [first.mission_id]


# ---------------------------------------------------------------- the region's missions: a priority queue


def _queue_mission(session: so.Session, establishment: m.Establishment, creator: m.User, start_in: int,
                   **overrides: Any) -> int:
    start = TODAY + timedelta(days=start_in)
    values = {"start_date": start, "end_date": max(start, TODAY) + timedelta(days=10), "created_at": NOW, **overrides}
    return make_mission(session, establishment, creator, **values).id


def test_the_region_queue_puts_manual_priorities_first_then_the_documented_urgency_then_the_start_date(uow) -> None:
    with uow() as session:
        nantes = make_establishment(session, postal_code="44000")
        creator = make_user(session, establishment=nantes)
        missions = {
            "second": _queue_mission(session, nantes, creator, 60, manual_priority=2),
            "first": _queue_mission(session, nantes, creator, 60, manual_priority=1),
            # start in 2 days, 10 posts capped at 25, ICU, created 3 days ago, alerted
            "icu": _queue_mission(session, nantes, creator, 2, count=10, exp_reanimation=True,
                                  created_at=NOW - timedelta(days=3), ccs_alert_at=NOW - timedelta(hours=1),
                                  ccs_alert_message="Personne"),
            # starts in 10 days, 3 posts with 1 assigned, created 15 days ago (waiting capped at 20)
            "waiting": _queue_mission(session, nantes, creator, 10, count=3, created_at=NOW - timedelta(days=15)),
            "started": _queue_mission(session, nantes, creator, -2),  # already started: the most urgent band
            "ehpad": _queue_mission(session, nantes, creator, 5, exp_ehpad=True),
            "in_7_days": _queue_mission(session, nantes, creator, 7),
            "in_14_days": _queue_mission(session, nantes, creator, 14),
            # created at 00:30 in Paris yesterday (23:30 UTC the day before): one day of waiting, not two
            "later": _queue_mission(session, nantes, creator, 15, count=2,
                                    created_at=datetime(2026, 11, 21, 23, 30, tzinfo=timezone.utc)),
        }
        link(session, missions["waiting"], make_available_nurse(session), "affecte")
        link(session, missions["waiting"], make_available_nurse(session), "contacte")
        link(session, missions["waiting"], make_available_nurse(session), "refuse")  # history: counts for nothing
        queue = region_missions(session, actor=ars(session), ars_code="52", now=NOW)
    by_name = {mission_id: key for key, mission_id in missions.items()}
    assert [by_name[row["id"]] for row in queue.rows] == [
        "first", "second", "icu", "waiting", "started", "ehpad", "in_7_days", "in_14_days", "later"]
    assert queue.total == 9
    urgency = {by_name[row["id"]]: row["urgency"] for row in queue.rows}
    assert urgency["icu"] == U_STARTS_WITHIN_3_DAYS + U_MAX_UNFILLED + U_REANIMATION + 3 * U_PER_DAY_UNFILLED + U_CCS_ALERT
    assert urgency["icu"] == 30 + 25 + 15 + 6 + 25
    assert urgency["waiting"] == U_STARTS_WITHIN_14_DAYS + 2 * U_PER_UNFILLED_POST + U_MAX_WAITING == 40
    assert urgency["started"] == U_STARTS_WITHIN_3_DAYS + U_PER_UNFILLED_POST == 35
    assert urgency["ehpad"] == U_STARTS_WITHIN_7_DAYS + U_PER_UNFILLED_POST + U_EHPAD == 35
    assert urgency["in_7_days"] == U_STARTS_WITHIN_7_DAYS + U_PER_UNFILLED_POST == 25
    assert urgency["in_14_days"] == U_STARTS_WITHIN_14_DAYS + U_PER_UNFILLED_POST == 15
    assert urgency["later"] == 2 * U_PER_UNFILLED_POST + U_PER_DAY_UNFILLED == 12
    assert urgency["first"] == urgency["second"] == U_PER_UNFILLED_POST
    waiting = next(row for row in queue.rows if row["id"] == missions["waiting"])
    assert (waiting["assigned"], waiting["waiting"], waiting["profession"]) == (1, 1, NURSE)
    icu = next(row for row in queue.rows if row["id"] == missions["icu"])
    assert (icu["establishment"], icu["postal_code"], icu["department_code"], icu["manual_priority"]) == (
        nantes.name, "44000", "44", None)


def test_the_region_queue_filters_by_department_profession_status_period_and_unfilled_posts(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        nantes, angers = place(session, count=2), place(session, postal_code="49000", start_date=date(2026, 12, 20),
                                                        end_date=date(2026, 12, 31))
        care = place(session, profession_code="aide_soignant")
        filled, closed = place(session, status="filled"), place(session, postal_code="72000", status="closed")
        link(session, nantes.mission_id, make_available_nurse(session), "affecte")
        link(session, filled.mission_id, make_available_nurse(session), "affecte")
        place(session, count=0)  # the placeholder of an account request: never listed
        place(session, postal_code="35000")  # another region
        everything = (nantes, angers, care, filled, closed)

        def listed(**filters: Any) -> set[int]:
            return set(queue_ids(session, regulator, MissionFilters(**filters)))

        def ids_of(*places: Place) -> set[int]:
            return {p.mission_id for p in places}

        assert listed() == ids_of(nantes, angers, care)
        assert listed(department_code="44") == ids_of(nantes, care)
        assert listed(profession_code="infirmier_de") == ids_of(nantes, angers)
        assert listed(statuses=("filled", "closed")) == ids_of(filled, closed)
        assert listed(statuses=()) == ids_of(*everything)
        assert listed(period_start=date(2026, 12, 9)) == ids_of(angers)
        assert listed(period_end=date(2026, 12, 19)) == ids_of(nantes, care)
        assert listed(period_start=date(2026, 12, 8), period_end=date(2026, 12, 20)) == ids_of(nantes, angers, care)
        assert listed(statuses=("open", "filled")) == ids_of(nantes, angers, care, filled)
        assert listed(statuses=("open", "filled"), unfilled_only=True) == ids_of(nantes, angers, care)
        assert listed(department_code="49", profession_code="aide_soignant") == set()


def test_the_region_queue_is_paged_in_sql_with_its_total(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        nantes = make_establishment(session, postal_code="44000")
        creator = make_user(session, establishment=nantes)
        ordered = [_queue_mission(session, nantes, creator, start_in) for start_in in (1, 5, 10, 20, 30)]
        page = region_missions(session, actor=regulator, ars_code="52", offset=2, limit=2, now=NOW)
        last = region_missions(session, actor=regulator, ars_code="52", offset=4, limit=2, now=NOW)
    assert ([row["id"] for row in page.rows], page.total, page.offset) == (ordered[2:4], 5, 2)
    assert ([row["id"] for row in last.rows], last.total) == (ordered[4:], 5)


def test_only_the_regions_ars_the_ccs_and_the_ministry_read_the_region_queue(uow) -> None:
    with uow() as session:
        here, rennes = place(session), place(session, postal_code="35000")
        for reader in (ars(session), make_actor(session, "ccs"), make_actor(session, "ministere")):
            assert queue_ids(session, reader) == [here.mission_id]
        for reader in (ars(session, "53"), make_actor(session, "ccs"), make_actor(session, "ministere")):
            assert [row["id"] for row in region_missions(session, actor=reader, ars_code="53", now=NOW).rows] == [rennes.mission_id]
        for outsider in (ars(session, "11"), here.hr, make_actor(session, "professionnel"), None):
            with pytest.raises(PermissionDenied):
                region_missions(session, actor=outsider, ars_code="52", now=NOW)
        with pytest.raises(PermissionDenied) as error:
            region_missions(session, actor=ars(session, "11"), ars_code="52", now=NOW)
        with pytest.raises(NotFound):
            region_missions(session, actor=make_actor(session, "ccs"), ars_code="99", now=NOW)
    assert error.value.message == "Ces informations concernent une autre région."


def test_a_manual_priority_goes_from_1_to_9_and_is_set_by_the_regions_regulators_only(uow) -> None:
    with uow() as session:
        urgent = place(session, start_date=TODAY + timedelta(days=1))
        calm = place(session, start_date=date(2026, 12, 13), end_date=date(2026, 12, 20))
        regulator = ars(session)
        for wrong in (0, 10, -1):
            with pytest.raises(ValidationError) as error:
                set_manual_priority(session, actor=regulator, mission_id=calm.mission_id, priority=wrong, now=NOW)
            assert (error.value.field, error.value.message) == (
                "priority", "La priorité manuelle va de 1 (la plus urgente) à 9.")
        for outsider in (make_actor(session, "ministere"), ars(session, "11"), calm.hr):
            with pytest.raises(PermissionDenied):
                set_manual_priority(session, actor=outsider, mission_id=calm.mission_id, priority=1, now=NOW)
        assert queue_ids(session, regulator) == [urgent.mission_id, calm.mission_id]
        set_manual_priority(session, actor=regulator, mission_id=calm.mission_id, priority=9, now=NOW)
        assert queue_ids(session, regulator) == [calm.mission_id, urgent.mission_id]
        set_manual_priority(session, actor=make_actor(session, "ccs"), mission_id=calm.mission_id, priority=1, now=NOW)
        set_manual_priority(session, actor=regulator, mission_id=calm.mission_id, priority=None, now=NOW)
        assert queue_ids(session, regulator) == [urgent.mission_id, calm.mission_id]
        assert mission_of(session, calm.mission_id).manual_priority is None
        assert [(e.entity_id, e.before, e.after) for e in events(session, "priority_set")] == [
            (str(calm.mission_id), "None", "9"), (str(calm.mission_id), "9", "1"), (str(calm.mission_id), "1", "None")]


# ---------------------------------------------------------------- the region's volunteers


def test_the_region_volunteers_are_filtered_and_paged_in_sql_without_deleted_volunteers(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        dupont = make_available_nurse(session, postal_code="44000", last_name="Dupont", first_name="Marie", verified=True)
        martin = make_available_nurse(session, postal_code="49000", last_name="Martin", profession_code="aide_soignant",
                           status="indisponible")
        durand = make_available_nurse(session, postal_code="53000", last_name="Durand", possible_duplicate_of=dupont.id,
                           status="contacte")
        make_available_nurse(session, postal_code="44000", last_name="Dupond", status="supprime")  # deleted: never listed
        make_available_nurse(session, postal_code="35000", last_name="Dubois")  # Bretagne

        def listed(**filters: Any) -> list[int]:
            rows, total = region_professionals(session, actor=regulator, ars_code="52", filters=ProfessionalFilters(**filters))
            assert total == len(rows)
            return [row["id"] for row in rows]

        assert listed() == [dupont.id, durand.id, martin.id]  # by name
        assert listed(text="  DUP ") == [dupont.id]
        assert listed(text="angers") == [martin.id]
        assert listed(text="53000") == [durand.id]
        assert listed(text=durand.email) == [durand.id]
        assert listed(profession_code="aide_soignant") == [martin.id]
        assert listed(statuses=("contacte", "indisponible")) == [durand.id, martin.id]
        assert listed(verified=True) == [dupont.id]
        assert listed(verified=False) == [durand.id, martin.id]
        assert listed(duplicates_only=True) == [durand.id]
        rows, total = region_professionals(session, actor=regulator, ars_code="52", offset=1, limit=1)
        assert ([row["id"] for row in rows], total) == ([durand.id], 3)
        assert (rows[0]["profession"], rows[0]["possible_duplicate_of"]) == (NURSE, dupont.id)
        rows, total = region_professionals(session, actor=make_actor(session, "ccs"), ars_code="53")
        assert ([row["last_name"] for row in rows], total) == (["Dubois"], 1)
        with pytest.raises(PermissionDenied):
            region_professionals(session, actor=ars(session, "11"), ars_code="52")


def test_verifying_a_volunteer_toggles_the_badge_with_an_event_each_time(uow) -> None:
    with uow() as session:
        regulator = ars(session)
        professional = make_available_nurse(session)
        set_verified(session, actor=regulator, professional_id=professional.id, verified=True, now=NOW)
        set_verified(session, actor=regulator, professional_id=professional.id, verified=True, now=NOW)  # already verified: nothing new
        assert session.get(m.Professional, professional.id).verified is True
        set_verified(session, actor=make_actor(session, "ccs"), professional_id=professional.id, verified=False, now=NOW + timedelta(hours=1))
        assert session.get(m.Professional, professional.id).verified is False
        for outsider in (ars(session, "11"), make_actor(session, "ministere")):
            with pytest.raises(PermissionDenied):
                set_verified(session, actor=outsider, professional_id=professional.id, verified=True, now=NOW)
        with pytest.raises(NotFound):
            set_verified(session, actor=regulator, professional_id=make_available_nurse(session, status="supprime").id, verified=True, now=NOW)
        changes = [(e.action, e.entity, e.entity_id, e.at) for e in session.scalars(
            sa.select(m.Event).where(m.Event.action.in_(["verified", "unverified"])).order_by(m.Event.id))]
    assert changes == [("verified", "professional", str(professional.id), NOW),
                       ("unverified", "professional", str(professional.id), NOW + timedelta(hours=1))]


def test_the_ars_makes_an_available_volunteer_unavailable_with_a_reason_only(uow) -> None:
    with uow() as session:
        here = place(session)
        regulator = ars(session)
        free, contacted, assigned = make_available_nurse(session), make_available_nurse(session), make_available_nurse(session)
        link(session, here.mission_id, contacted, "contacte")
        link(session, place(session).mission_id, assigned, "affecte")
        with pytest.raises(ValidationError) as blank:
            set_unavailable_by_ars(session, actor=regulator, professional_id=free.id, reason="  ", now=NOW)
        for busy in (contacted, assigned):
            with pytest.raises(Conflict):
                set_unavailable_by_ars(session, actor=regulator, professional_id=busy.id, reason="Diplôme non conforme", now=NOW)
        with pytest.raises(PermissionDenied):
            set_unavailable_by_ars(session, actor=ars(session, "11"), professional_id=free.id, reason="Diplôme non conforme", now=NOW)
        set_unavailable_by_ars(session, actor=regulator, professional_id=free.id, reason="Diplôme non conforme", now=NOW)
        assert [status_of(session, p.id) for p in (free, contacted, assigned)] == ["indisponible", "contacte", "affecte"]
        assert free.id not in candidate_ids(session, here.hr, here.mission_id)
        with pytest.raises(Conflict):  # already out of the pool
            set_unavailable_by_ars(session, actor=regulator, professional_id=free.id, reason="Encore", now=NOW)
        [event] = events(session, "made_unavailable")
    assert blank.value.field == "reason"
    assert (event.entity_id, event.actor_user_id, event.before, event.after, event.details) == (
        str(free.id), regulator.id, "disponible", "indisponible", {"by": "ars"})


def test_assigning_on_behalf_of_an_establishment_assigns_a_free_volunteer_and_fills_the_mission(uow) -> None:
    with uow() as session:
        here = place(session)
        professional = make_available_nurse(session, first_name="Inès")
        waiting = make_available_nurse(session)
        link(session, here.mission_id, waiting, "contacte")
        regulator = ars(session, email="ars-pdl@example.org")
    with uow() as session:
        assign_on_behalf(session, actor=regulator, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
    with uow() as session:
        [proposal] = proposals(session, professional.id)
        assert (proposal.mission_id, proposal.state, proposal.by_user_id, proposal.created_at, proposal.decided_at) == (
            here.mission_id, "affecte", regulator.id, NOW, NOW)
        assert status_of(session, professional.id) == "affecte"
        mission = mission_of(session, here.mission_id)
        assert (mission.status, mission.filled_at) == ("filled", NOW)
        assert status_of(session, waiting.id) == "disponible"  # the mission is filled: the others are released
        [event] = events(session, "assigned_on_behalf")
        assert (event.entity, event.entity_id, event.actor_user_id, event.before, event.after) == (
            "proposal", str(proposal.id), regulator.id, "disponible", "affecte")
        [mail] = outbox(session)
    assert (mail.to, mail.subject) == (professional.email, "Renfort RH — votre affectation est confirmée")
    assert "Bonjour Inès," in mail.body_text
    assert f"- Établissement : {here.establishment_name}" in mail.body_text
    assert f"- Période : {PERIOD}" in mail.body_text
    assert "- Contact : ars-pdl@example.org" in mail.body_text


@pytest.mark.parametrize("state", ["en_cours", "contacte"])
def test_assigning_on_behalf_takes_over_a_volunteer_pushed_or_contacted_for_this_mission(uow, state) -> None:
    with uow() as session:
        here = place(session, count=2)
        professional = make_available_nurse(session)
        regulator = ars(session)
        proposal_id = link(session, here.mission_id, professional, state, origin="push").id
        assign_on_behalf(session, actor=regulator, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        [proposal] = proposals(session, professional.id)
        assert (proposal.id, proposal.state, proposal.decided_at) == (proposal_id, "affecte", NOW)
        assert status_of(session, professional.id) == "affecte"
        assert mission_of(session, here.mission_id).status == "open"  # one post of two
        [event] = events(session, "assigned_on_behalf")
        assert (event.before, event.after, event.actor_user_id) == (state, "affecte", regulator.id)
        assert [mail.to for mail in outbox(session)] == [professional.email]


def test_assigning_on_behalf_is_refused_for_another_profession_a_filled_mission_or_a_busy_volunteer(uow) -> None:
    with uow() as session:
        here, filled = place(session), place(session, status="filled")
        regulator = ars(session)
        care_assistant = make_available_nurse(session, profession_code="aide_soignant")
        busy, free = make_available_nurse(session), make_available_nurse(session)
        link(session, place(session).mission_id, busy, "contacte")
        with pytest.raises(Conflict) as other_profession:
            assign_on_behalf(session, actor=regulator, mission_id=here.mission_id, professional_id=care_assistant.id, now=NOW)
        with pytest.raises(Conflict):
            assign_on_behalf(session, actor=regulator, mission_id=filled.mission_id, professional_id=free.id, now=NOW)
        with pytest.raises(Conflict) as reserved:
            assign_on_behalf(session, actor=regulator, mission_id=here.mission_id, professional_id=busy.id, now=NOW)
        assign_on_behalf(session, actor=regulator, mission_id=here.mission_id, professional_id=free.id, now=NOW)
        with pytest.raises(Conflict):  # now filled
            assign_on_behalf(session, actor=regulator, mission_id=here.mission_id, professional_id=make_available_nurse(session).id, now=NOW)
        assert [status_of(session, p.id) for p in (care_assistant, busy, free)] == ["disponible", "contacte", "affecte"]
    assert other_profession.value.message == "Ce professionnel n'exerce pas la profession demandée par la mission."
    assert reserved.value.message == f"{name_of(busy)} est déjà sollicité(e) ou indisponible."


def test_only_the_regions_ars_assigns_on_behalf_of_an_establishment(uow) -> None:
    with uow() as session:
        here = place(session)
        professional = make_available_nurse(session)
        with pytest.raises(PermissionDenied) as centre:
            assign_on_behalf(session, actor=make_actor(session, "ccs"), mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        for outsider in (ars(session, "11"), here.hr, make_actor(session, "ministere")):
            with pytest.raises(PermissionDenied):
                assign_on_behalf(session, actor=outsider, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        assert (status_of(session, professional.id), proposals(session, professional.id)) == ("disponible", [])
        assert mission_of(session, here.mission_id).status == "open"
    assert centre.value.message == "L'affectation pour le compte d'un établissement est réservée à son ARS."
