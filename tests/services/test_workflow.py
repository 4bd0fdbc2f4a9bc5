"""The volunteer's status machine (DESIGN §3): contact, validate, refuse, close, cancel, withdraw, and who may."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.staffing.workflow import (
    REBOOKED,
    cancel_assignment,
    close_mission,
    contact,
    express_interest,
    refresh_mission_status,
    refuse,
    validate,
    withdraw,
)
from db import models as m
from tests.factories import (
    END,
    NOW,
    START,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_user,
)
from tests.readers import events, name_of, outbox, proposals, status_of

LATER = NOW + timedelta(hours=3)
PERIOD = "du 25/11/2026 au 08/12/2026"


@dataclass(frozen=True)
class Place:
    """An establishment in Nantes with one mission and the signed-in account that filed it."""

    establishment_id: int
    establishment_name: str
    mission_id: int
    hr: SessionUser


def place(session: so.Session, **mission: Any) -> Place:
    establishment = make_establishment(session, postal_code="44000")
    user = make_user(session, establishment=establishment, first_name="Hélène")
    row = make_mission(session, establishment, user, **{"start_date": START, "end_date": END, **mission})
    return Place(establishment.id, establishment.name, row.id, to_session_user(session, user=user))


def account_of(session: so.Session, professional: m.Professional) -> SessionUser:
    return make_actor(session, "professionnel", professional_id=professional.id, email=professional.email)


def pushed(session: so.Session, where: Place, professional: m.Professional, *, at: datetime = NOW) -> m.Proposal:
    """What the ARS's push leaves behind: a live proposal of origin push, the volunteer en_cours."""
    ars = make_user(session, "ars")
    proposal = m.Proposal(mission_id=where.mission_id, professional_id=professional.id, origin="push",
                          state="en_cours", by_user_id=ars.id, created_at=at)
    session.add(proposal)
    professional.status = "en_cours"
    session.flush()
    return proposal


def mission_of(session: so.Session, where: Place) -> m.Mission:
    return session.get(m.Mission, where.mission_id, populate_existing=True)


# ---------------------------------------------------------------- contact


def test_contacting_an_available_volunteer_reserves_them_for_the_mission(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
    with uow() as session:
        proposal = contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
    with uow() as session:
        row = session.get(m.Professional, professional.id)
        assert (row.status, row.status_since) == ("contacte", NOW)
        [stored] = proposals(session, professional.id)
        assert stored.id == proposal.id
        assert (stored.mission_id, stored.origin, stored.state, stored.by_user_id, stored.created_at) == (
            here.mission_id, "direct", "contacte", here.hr.id, NOW)
        [event] = events(session, "contacted")
        assert (event.entity, event.entity_id, event.actor_user_id, event.before, event.after, event.at) == (
            "proposal", str(proposal.id), here.hr.id, "disponible", "contacte", NOW)
        assert event.details == {"mission_id": here.mission_id, "professional_id": professional.id}
        [mail] = outbox(session)
    assert (mail.to, mail.dedup_key, mail.created_at) == (professional.email, f"contacted:{proposal.id}", NOW)
    assert mail.subject == "Renfort RH — un établissement vous a réservé(e) pour une mission"
    assert (f"« {here.establishment_name} » (NANTES) vous a réservé(e) pour la mission « Infirmier diplômé d'État » "
            f"{PERIOD} et va vous appeler.") in mail.body_text
    assert "/mes-missions" in mail.body_text and "/mes-missions" in mail.body_html


def test_contacting_a_volunteer_pushed_to_the_mission_turns_the_same_proposal_to_contacted(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        push_id = pushed(session, here, professional).id
    with uow() as session:
        assert contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=LATER).id == push_id
    with uow() as session:
        [proposal] = proposals(session, professional.id)
        assert (proposal.id, proposal.origin, proposal.state, proposal.by_user_id, proposal.decided_at) == (
            push_id, "push", "contacte", here.hr.id, LATER)
        assert status_of(session, professional.id) == "contacte"
        assert [(e.before, e.after) for e in events(session, "contacted")] == [("en_cours", "contacte")]
        assert outbox(session) == []  # the push's e-mail told the volunteer already


def test_a_second_establishment_contacting_the_same_volunteer_is_told_they_were_just_booked(uow) -> None:
    with uow() as session:
        first, second, professional = place(session), place(session), make_available_nurse(session)
    with uow() as session:
        contact(session, actor=first.hr, mission_id=first.mission_id, professional_id=professional.id, now=NOW)
    with pytest.raises(Conflict) as error, uow() as session:
        contact(session, actor=second.hr, mission_id=second.mission_id, professional_id=professional.id, now=LATER)
    assert error.value.message == "Ce professionnel vient d'être réservé par un autre établissement."
    with uow() as session:
        assert [(p.mission_id, p.state) for p in proposals(session, professional.id)] == [(first.mission_id, "contacte")]


def test_a_volunteer_pushed_to_another_mission_cannot_be_contacted(uow) -> None:
    with uow() as session:
        first, second, professional = place(session), place(session), make_available_nurse(session)
        pushed(session, first, professional)
    with pytest.raises(Conflict) as error, uow() as session:
        contact(session, actor=second.hr, mission_id=second.mission_id, professional_id=professional.id, now=NOW)
    assert error.value.message == REBOOKED


def test_when_two_establishments_click_at_the_same_instant_exactly_one_wins(uow) -> None:
    with uow() as session:
        first, second, professional = place(session), place(session), make_available_nurse(session)
    outcome: dict[str, str] = {}

    def second_click() -> None:
        try:
            with uow() as session:
                contact(session, actor=second.hr, mission_id=second.mission_id, professional_id=professional.id, now=NOW)
            outcome["second"] = "réservé"
        except Conflict as error:
            outcome["second"] = error.message

    with uow() as session:
        contact(session, actor=first.hr, mission_id=first.mission_id, professional_id=professional.id, now=NOW)
        rival = threading.Thread(target=second_click)
        rival.start()
        rival.join(0.3)
        waited = rival.is_alive()  # the second click waits for the first transaction…
    rival.join(15)
    assert waited and not rival.is_alive()
    assert outcome == {"second": REBOOKED}  # …then loses, cleanly
    with uow() as session:
        assert [(p.mission_id, p.state) for p in proposals(session, professional.id)] == [(first.mission_id, "contacte")]
        assert status_of(session, professional.id) == "contacte"


def test_the_one_live_proposal_index_is_the_last_guard_against_double_booking(uow) -> None:
    with uow() as session:
        first, second, professional = place(session), place(session), make_available_nurse(session)
        contact(session, actor=first.hr, mission_id=first.mission_id, professional_id=professional.id, now=NOW)
        professional.status = "disponible"  # a status out of step with the proposals: the index still holds
    with pytest.raises(Conflict) as error, uow() as session:
        contact(session, actor=second.hr, mission_id=second.mission_id, professional_id=professional.id, now=LATER)
    assert error.value.message == REBOOKED
    with uow() as session:
        assert [(p.mission_id, p.state) for p in proposals(session, professional.id)] == [(first.mission_id, "contacte")]


def test_contacting_the_same_volunteer_twice_for_the_mission_is_refused(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        with pytest.raises(Conflict) as error:
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=LATER)
    assert error.value.message == f"{name_of(professional)} est déjà contacté(e) ou affecté(e) pour cette mission."


def test_contacting_a_volunteer_who_does_not_match_is_refused_with_the_reason(uow) -> None:
    with uow() as session:
        here = place(session)
        paused = make_available_nurse(session, status="indisponible")
        care_assistant = make_available_nurse(session, profession_code="aide_soignant")
        with pytest.raises(Conflict) as unavailable:
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=paused.id, now=NOW)
        with pytest.raises(Conflict) as mismatch:
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=care_assistant.id, now=NOW)
        with pytest.raises(NotFound):
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=999_999, now=NOW)
    assert unavailable.value.message == f"{name_of(paused)} s'est déclaré(e) indisponible."
    assert mismatch.value.message == (f"{name_of(care_assistant)} ne correspond pas à cette mission (profession, zone ou "
                                      "disponibilité).")


def test_nobody_can_be_contacted_for_a_mission_that_is_not_open(uow) -> None:
    cases = [({"status": "filled"}, "Cette mission est déjà pourvue."),
             ({"status": "closed"}, "Cette mission est clôturée."),
             ({"status": "pending"}, "Cette mission attend la validation de votre compte."),
             ({"count": 0}, "Cette mission ne recherche personne (0 poste).")]
    with uow() as session:
        professional = make_available_nurse(session)
        places = [place(session, **overrides) for overrides, _ in cases]
    for here, (_, message) in zip(places, cases):
        with pytest.raises(Conflict) as error, uow() as session:
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        assert error.value.message == message
    with uow() as session:
        assert (status_of(session, professional.id), proposals(session, professional.id)) == ("disponible", [])


def test_in_crisis_mode_only_volunteers_pushed_by_the_ars_can_be_contacted(uow) -> None:
    with uow() as session:
        here, free, proposed = place(session), make_available_nurse(session), make_available_nurse(session)
        session.add(m.CrisisMode(ars_code="52", profession_code="infirmier_de", enabled_at=NOW - timedelta(days=1),
                                 enabled_by=make_user(session, "ars").id))
        pushed(session, here, proposed)
    with pytest.raises(Conflict) as error, uow() as session:
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=free.id, now=NOW)
    assert error.value.message == ("Le mode gestion de crise est actif : seuls les professionnels proposés par l'ARS "
                                   "peuvent être contactés.")
    with uow() as session:
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=proposed.id, now=NOW)
    with uow() as session:
        assert (status_of(session, free.id), status_of(session, proposed.id)) == ("disponible", "contacte")


# ---------------------------------------------------------------- validate


def test_validating_assigns_the_volunteer_fills_the_mission_and_emails_the_dates_and_the_validator(uow) -> None:
    with uow() as session:
        here, professional = place(session, contact_name=None), make_available_nurse(session, first_name="Inès")
        colleague = to_session_user(session, user=make_user(session, establishment=session.get(
            m.Establishment, here.establishment_id), email="cadre.sante@chu-test.fr"))
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
    with uow() as session:
        assert validate(session, actor=colleague, mission_id=here.mission_id, professional_ids=[professional.id], now=LATER) == 1
    with uow() as session:
        [proposal] = proposals(session, professional.id)
        assert (proposal.state, proposal.decided_at, status_of(session, professional.id)) == ("affecte", LATER, "affecte")
        mission = mission_of(session, here)
        assert (mission.status, mission.filled_at) == ("filled", LATER)
        [mail] = outbox(session, contacts=False)
        assert [(e.before, e.after, e.actor_user_id) for e in events(session, "validated")] == [
            ("contacte", "affecte", colleague.id)]
        assert [(e.before, e.after) for e in events(session, "status_refreshed")] == [("open", "filled")]
    assert (mail.to, mail.subject, mail.dedup_key) == (professional.email, "Renfort RH — votre affectation est confirmée",
                                                       f"assigned:{proposal.id}")
    assert "Bonjour Inès," in mail.body_text
    assert f"- Période : {PERIOD}" in mail.body_text
    assert f"- Établissement : {here.establishment_name}" in mail.body_text
    assert "Pour toute question avant votre arrivée, écrivez à cadre.sante@chu-test.fr." in mail.body_text
    assert "- Contact : cadre.sante@chu-test.fr" in mail.body_text


def test_filling_the_mission_releases_the_volunteers_still_contacted_for_it(uow) -> None:
    with uow() as session:
        here = place(session, count=1)
        chosen, other, pushed_one = make_available_nurse(session), make_available_nurse(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=chosen.id, now=NOW)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=other.id, now=NOW)
        pushed(session, here, pushed_one)
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[chosen.id], now=LATER)
        assert [status_of(session, p.id) for p in (chosen, other, pushed_one)] == ["affecte", "disponible", "disponible"]
        released = proposals(session, other.id)[0]
        assert (released.state, released.reason) == ("libere", "mission pourvue")


def test_validating_part_of_the_posts_keeps_the_mission_open(uow) -> None:
    with uow() as session:
        here, professional = place(session, count=2), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
        mission = mission_of(session, here)
        assert (mission.status, mission.filled_at) == ("open", None)


def test_validating_more_volunteers_than_remaining_posts_is_refused_and_nothing_changes(uow) -> None:
    with uow() as session:
        here = place(session, count=2)
        first, second, third = make_available_nurse(session), make_available_nurse(session), make_available_nurse(session)
        for professional in (first, second, third):
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[first.id], now=NOW)
    with pytest.raises(Conflict) as error, uow() as session:
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[second.id, third.id], now=LATER)
    assert error.value.message == ("Il ne reste que 1 poste(s) à pourvoir sur cette mission : sélectionnez au plus "
                                   "1 professionnel(s).")
    with uow() as session:
        assert [status_of(session, p.id) for p in (first, second, third)] == ["affecte", "contacte", "contacte"]
        assert mission_of(session, here).status == "open" and len(outbox(session, contacts=False)) == 1


def test_validating_a_batch_with_someone_not_contacted_validates_nobody(uow) -> None:
    with uow() as session:
        here = place(session, count=3)
        contacted, stranger = make_available_nurse(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=contacted.id, now=NOW)
    with pytest.raises(Conflict) as error, uow() as session:
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[contacted.id, stranger.id], now=LATER)
    assert error.value.message == f"{name_of(stranger)} n'est pas (ou plus) contacté(e) pour cette mission."
    with uow() as session:
        assert (status_of(session, contacted.id), status_of(session, stranger.id)) == ("contacte", "disponible")
        assert outbox(session, contacts=False) == []


def test_a_filled_mission_accepts_no_more_validation(uow) -> None:
    with uow() as session:
        here, professional = place(session, count=1), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
        with pytest.raises(Conflict) as error:
            validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=LATER)
    assert error.value.message == "Cette mission est déjà pourvue."


# ---------------------------------------------------------------- refuse


def test_refusing_frees_contacted_and_pushed_volunteers_without_any_email(uow) -> None:
    with uow() as session:
        here = place(session)
        contacted, proposed = make_available_nurse(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=contacted.id, now=NOW)
        pushed(session, here, proposed)
    with uow() as session:
        assert refuse(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[contacted.id, proposed.id], now=LATER) == 2
    with uow() as session:
        for professional in (contacted, proposed):
            [proposal] = proposals(session, professional.id)
            assert (proposal.state, proposal.decided_at, status_of(session, professional.id)) == (
                "refuse", LATER, "disponible")
        assert outbox(session, contacts=False) == []
        assert len(events(session, "refused")) == 2


def test_refusing_counts_each_volunteer_once(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        assert refuse(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id, professional.id], now=LATER) == 1
        assert [p.state for p in proposals(session, professional.id)] == ["refuse"]


def test_refusing_someone_not_contacted_is_refused(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        with pytest.raises(Conflict) as error:
            refuse(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
    assert error.value.message == f"{name_of(professional)} n'est pas (ou plus) contacté(e) pour cette mission."


def test_a_refused_volunteer_is_never_contacted_again_for_that_mission_but_may_be_for_another(uow) -> None:
    """Issue 13: a refusal is final for the mission; the volunteer stays a candidate elsewhere."""
    with uow() as session:
        here, professional = place(session), make_available_nurse(session, first_name="Inès", last_name="Garnier")
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        refuse(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
        with pytest.raises(Conflict) as error:
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=LATER)
        assert error.value.message == ("Inès Garnier a été refusé(e) pour cette mission le 23/11/2026 à 10:00 : "
                                       "elle ne peut plus lui être proposée.")
        other = make_mission(session, session.get(m.Establishment, here.establishment_id), session.get(m.User, here.hr.id),
                             start_date=START, end_date=END)
        contact(session, actor=here.hr, mission_id=other.id, professional_id=professional.id, now=LATER)
        assert [p.state for p in proposals(session, professional.id)] == ["refuse", "contacte"]


# ---------------------------------------------------------------- close


def test_closing_releases_contacted_and_pushed_volunteers_but_keeps_the_assigned_ones(uow) -> None:
    with uow() as session:
        here = place(session, count=3)
        assigned, contacted, proposed = make_available_nurse(session), make_available_nurse(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=assigned.id, now=NOW)
        validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[assigned.id], now=NOW)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=contacted.id, now=NOW)
        pushed(session, here, proposed)
    with uow() as session:
        assert close_mission(session, actor=here.hr, mission_id=here.mission_id, now=LATER) == 2
    with uow() as session:
        mission = mission_of(session, here)
        assert (mission.status, mission.closed_at) == ("closed", LATER)
        states = {p.professional_id: (p.state, p.reason) for p in session.scalars(sa.select(m.Proposal))}
        assert states == {assigned.id: ("affecte", None), contacted.id: ("libere", "mission clôturée"),
                          proposed.id: ("libere", "mission clôturée")}
        assert [status_of(session, p.id) for p in (assigned, contacted, proposed)] == [
            "affecte", "disponible", "disponible"]
        [closed] = events(session, "closed")
        assert (closed.before, closed.after, closed.details) == ("open", "closed", {"released": 2})


def test_a_closed_mission_cannot_be_closed_again_nor_contacted(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        close_mission(session, actor=here.hr, mission_id=here.mission_id, now=NOW)
        with pytest.raises(Conflict) as twice:
            close_mission(session, actor=here.hr, mission_id=here.mission_id, now=LATER)
        with pytest.raises(Conflict) as contacted:
            contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=LATER)
    assert twice.value.message == "Cette mission est déjà clôturée."
    assert contacted.value.message == "Cette mission est clôturée."


# ---------------------------------------------------------------- cancel an assignment


def _assigned(session: so.Session, **mission: Any) -> tuple[Place, m.Professional]:
    here, professional = place(session, **mission), make_available_nurse(session, first_name="Inès")
    contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
    validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[professional.id], now=NOW)
    return here, professional


def test_cancelling_an_assignment_needs_a_reason(uow) -> None:
    with uow() as session:
        here, professional = _assigned(session)
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error, uow() as session:
            cancel_assignment(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, reason=reason, now=LATER)
        assert (error.value.field, error.value.message) == ("reason",
                                                            "Le champ « Motif de l'annulation » est obligatoire.")
    with uow() as session:
        assert status_of(session, professional.id) == "affecte" and mission_of(session, here).status == "filled"


def test_cancelling_an_assignment_reopens_the_mission_and_tells_the_volunteer(uow) -> None:
    with uow() as session:
        here, professional = _assigned(session)
    with uow() as session:
        cancel_assignment(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, reason="  Absente le premier jour ", now=LATER)
    with uow() as session:
        [proposal] = proposals(session, professional.id)
        assert (proposal.state, proposal.reason, proposal.decided_at) == ("annule", "Absente le premier jour", LATER)
        assert status_of(session, professional.id) == "disponible"
        mission = mission_of(session, here)
        assert (mission.status, mission.filled_at) == ("open", None)
        mail = outbox(session)[-1]
    assert (mail.to, mail.subject) == (professional.email, "Renfort RH — votre affectation est annulée")
    assert f"L'établissement « {here.establishment_name} » a annulé votre affectation {PERIOD}." in mail.body_text
    assert "Motif indiqué : Absente le premier jour" in mail.body_text


def test_cancelling_someone_who_is_not_assigned_is_refused(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
        with pytest.raises(Conflict) as error:
            cancel_assignment(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, reason="Erreur", now=LATER)
    assert error.value.message == f"{name_of(professional)} n'est pas affecté(e) à cette mission."


# ---------------------------------------------------------------- the volunteer withdraws


def _reserved(session: so.Session) -> tuple[Place, m.Professional, m.Proposal, SessionUser]:
    here, professional = place(session), make_available_nurse(session, first_name="Inès", last_name="Garnier")
    proposal = contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
    return here, professional, proposal, account_of(session, professional)


@pytest.mark.parametrize(("pause", "status"), [(True, "indisponible"), (False, "disponible")])
def test_a_volunteer_who_declines_a_reservation_is_freed_and_the_requester_told(uow, pause: bool, status: str) -> None:
    with uow() as session:
        here, professional, proposal, me = _reserved(session)
    with uow() as session:
        withdraw(session, actor=me, proposal_id=proposal.id, pause=pause, now=LATER)
    with uow() as session:
        row = session.get(m.Proposal, proposal.id)
        assert (row.state, row.reason_code, row.decided_at) == ("decline", None, LATER)
        assert status_of(session, professional.id) == status
        [mail] = outbox(session, contacts=False)
        assert [(e.actor_user_id, e.before, e.after) for e in events(session, "declined")] == [
            (me.id, "contacte", "decline")]
    assert (mail.to, mail.subject) == (here.hr.email, "Renfort RH — un professionnel a décliné votre demande")
    assert "Bonjour Hélène," in mail.body_text
    assert f"Inès Garnier a décliné votre demande pour la mission « Infirmier diplômé d'État » {PERIOD}." in mail.body_text


def test_a_volunteer_can_decline_a_push(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        proposal = pushed(session, here, professional)
        me = account_of(session, professional)
        withdraw(session, actor=me, proposal_id=proposal.id, now=LATER)
        assert (proposal.state, status_of(session, professional.id)) == ("decline", "disponible")
        pusher = session.get(m.User, proposal.by_user_id)
        # The establishment, whose mission it is, and the ARS that made the push are both told.
        assert sorted(mail.to for mail in outbox(session)) == sorted([here.hr.email, pusher.email])


def test_a_volunteer_who_says_interested_is_announced_with_a_link_to_validate_on_the_mission(uow) -> None:
    """The establishment learns of a « oui » as it learns of a « non »: by e-mail, to the requester and to the
    colleague who made the contact, with a link that opens « Choisir des renforts » on this mission."""
    with uow() as session:
        here = place(session)
        establishment = session.get(m.Establishment, here.establishment_id)
        colleague = to_session_user(session, user=make_user(session, establishment=establishment, first_name="Paul"))
        professional = make_available_nurse(session, first_name="Inès", last_name="Garnier")
        proposal = contact(session, actor=colleague, mission_id=here.mission_id, professional_id=professional.id,
                           now=NOW)
        me = account_of(session, professional)
        express_interest(session, actor=me, proposal_id=proposal.id, now=LATER)
        express_interest(session, actor=me, proposal_id=proposal.id, now=LATER)  # said twice: told once
        mails = outbox(session, contacts=False)
        assert sorted(mail.to for mail in mails) == sorted([here.hr.email, colleague.email])
        assert {mail.created_at for mail in mails} == {LATER}
    mail = next(mail for mail in mails if mail.to == here.hr.email)
    assert mail.subject == "Renfort RH — un professionnel est intéressé par votre mission"
    assert "Bonjour Hélène," in mail.body_text
    assert (f"Inès Garnier s'est dit(e) intéressé(e) par votre mission « Infirmier diplômé d'État » {PERIOD}."
            in mail.body_text)
    assert "Validez sa candidature depuis « Choisir des renforts »" in mail.body_text
    assert f"/choisir?mission={here.mission_id}" in mail.body_text and f"/choisir?mission={here.mission_id}" in mail.body_html


def test_a_pushed_volunteer_who_says_interested_is_announced_to_the_establishment_only(uow) -> None:
    with uow() as session:
        here, professional = place(session), make_available_nurse(session)
        proposal = pushed(session, here, professional)
        express_interest(session, actor=account_of(session, professional), proposal_id=proposal.id, now=LATER)
        [mail] = outbox(session)  # the ARS that pushed has nothing to validate: not told
        assert mail.to == here.hr.email
        assert "Réservez-le puis validez sa candidature depuis « Choisir des renforts »" in mail.body_text


def test_a_volunteer_cannot_withdraw_from_an_assignment(uow) -> None:
    with uow() as session:
        here, professional = _assigned(session)
        [proposal] = proposals(session, professional.id)
        me = account_of(session, professional)
    with pytest.raises(Conflict) as error, uow() as session:
        withdraw(session, actor=me, proposal_id=proposal.id, now=LATER)
    assert error.value.message == ("Vous êtes affecté(e) à cette mission : prévenez l'établissement, qui annulera "
                                   "l'affectation.")
    with uow() as session:
        assert status_of(session, professional.id) == "affecte"
        assert session.get(m.Proposal, proposal.id).state == "affecte"


def test_a_volunteer_can_only_withdraw_their_own_live_proposal(uow) -> None:
    with uow() as session:
        here, professional, proposal, me = _reserved(session)
        someone_else = account_of(session, make_available_nurse(session))
        with pytest.raises(NotFound) as other:
            withdraw(session, actor=someone_else, proposal_id=proposal.id, now=LATER)
        with pytest.raises(PermissionDenied):
            withdraw(session, actor=here.hr, proposal_id=proposal.id, now=LATER)
        withdraw(session, actor=me, proposal_id=proposal.id, now=LATER)
        with pytest.raises(Conflict) as again:
            withdraw(session, actor=me, proposal_id=proposal.id, now=LATER)
    assert other.value.message == "Cette proposition n'existe pas."
    assert again.value.message == "Cette demande n'est plus en cours."


# ---------------------------------------------------------------- the mission's status


def test_the_mission_status_follows_the_number_of_assignments_but_closed_stays_closed(uow) -> None:
    with uow() as session:
        here, professional = _assigned(session, count=1)
        mission = mission_of(session, here)
        assert refresh_mission_status(session, mission=mission, now=LATER) == "filled"
        mission.count = 2
        assert refresh_mission_status(session, mission=mission, now=LATER) == "open"
        mission.count = 1
        assert refresh_mission_status(session, mission=mission, now=LATER) == "filled"
        close_mission(session, actor=here.hr, mission_id=here.mission_id, now=LATER)
        assert refresh_mission_status(session, mission=mission, now=LATER) == "closed"
        mission.count = 5
        assert refresh_mission_status(session, mission=mission, now=LATER) == "closed"
        cancel_assignment(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, reason="Changement de planning", now=LATER)
        assert mission_of(session, here).status == "closed"


def test_pending_and_placeholder_missions_are_never_filled(uow) -> None:
    with uow() as session:
        pending = mission_of(session, place(session, status="pending"))
        placeholder = mission_of(session, place(session, count=0))
        assert refresh_mission_status(session, mission=pending, now=NOW) == "pending"
        assert refresh_mission_status(session, mission=placeholder, now=NOW) == "open"


# ---------------------------------------------------------------- who may do what


@dataclass
class Scene:
    here: Place
    available: int
    contacted: int
    assigned: int


def _scene(session: so.Session) -> Scene:
    here = place(session, count=3)
    available, contacted, assigned = make_available_nurse(session), make_available_nurse(session), make_available_nurse(session)
    for professional in (contacted, assigned):
        contact(session, actor=here.hr, mission_id=here.mission_id, professional_id=professional.id, now=NOW)
    validate(session, actor=here.hr, mission_id=here.mission_id, professional_ids=[assigned.id], now=NOW)
    return Scene(here, available.id, contacted.id, assigned.id)


ACTIONS: dict[str, Callable[[so.Session, SessionUser | None, Scene], Any]] = {
    "contact": lambda s, who, x: contact(s, actor=who, mission_id=x.here.mission_id, professional_id=x.available, now=LATER),
    "validate": lambda s, who, x: validate(s, actor=who, mission_id=x.here.mission_id, professional_ids=[x.contacted], now=LATER),
    "refuse": lambda s, who, x: refuse(s, actor=who, mission_id=x.here.mission_id, professional_ids=[x.contacted], now=LATER),
    "close_mission": lambda s, who, x: close_mission(s, actor=who, mission_id=x.here.mission_id, now=LATER),
    "cancel_assignment": lambda s, who, x: cancel_assignment(s, actor=who, mission_id=x.here.mission_id, professional_id=x.assigned, reason="Absent",
                                                             now=LATER),
}
ESTABLISHMENT_ONLY = ("contact", "validate", "refuse")


@pytest.mark.parametrize("action", list(ACTIONS))
def test_outsiders_may_not_act_on_a_mission(uow, action: str) -> None:
    with uow() as session:
        scene = _scene(session)
        professional = session.get(m.Professional, scene.available)
        intruders = {
            "another establishment": to_session_user(session, user=make_user(
                session, establishment=make_establishment(session, postal_code="44000"))),
            "another region's ARS": make_actor(session, "ars", ars_code="11"),
            "a volunteer": account_of(session, professional),
            "the ministry": make_actor(session, "ministere"),
            "nobody signed in": None,
        }
        messages = {}
        for who, intruder in intruders.items():
            with pytest.raises(PermissionDenied) as error:
                ACTIONS[action](session, intruder, scene)
            messages[who] = error.value.message
        statuses = [status_of(session, pid) for pid in (scene.available, scene.contacted, scene.assigned)]
        assert (mission_of(session, scene.here).status, statuses) == ("open", ["disponible", "contacte", "affecte"])
    assert messages["another establishment"] == "Cette mission appartient à un autre établissement."
    assert messages["nobody signed in"] == "Connectez-vous pour effectuer cette action."
    denied = ("Vous n'avez pas les droits pour cette action." if action in ESTABLISHMENT_ONLY
              else "Vous ne pouvez pas agir sur cette mission.")
    assert {messages[who] for who in ("another region's ARS", "a volunteer", "the ministry")} == {denied}


def test_only_the_volunteer_may_decline_their_own_reservation(uow) -> None:
    with uow() as session:
        scene = _scene(session)
        proposal_id = session.scalar(sa.select(m.Proposal.id).where(m.Proposal.professional_id == scene.contacted))
        hr = scene.here.hr
        others = {"the establishment": hr, "the region's ARS": make_actor(session, "ars"), "the CCS": make_actor(session, "ccs"),
                  "the ministry": make_actor(session, "ministere"), "nobody signed in": None}
        for intruder in others.values():
            with pytest.raises(PermissionDenied):
                withdraw(session, actor=intruder, proposal_id=proposal_id, now=LATER)
        another_volunteer = account_of(session, session.get(m.Professional, scene.available))
        with pytest.raises(NotFound):  # someone else's proposal: as if it did not exist
            withdraw(session, actor=another_volunteer, proposal_id=proposal_id, now=LATER)
        assert session.get(m.Proposal, proposal_id).state == "contacte"
        assert status_of(session, scene.contacted) == "contacte"
        withdraw(session, actor=account_of(session, session.get(m.Professional, scene.contacted)), proposal_id=proposal_id, now=LATER)
        assert session.get(m.Proposal, proposal_id).state == "decline"


@pytest.mark.parametrize("role", ["ars", "ccs"])
def test_the_regions_ars_and_the_ccs_may_close_and_cancel_but_not_pick_volunteers(uow, role: str) -> None:
    with uow() as session:
        scene = _scene(session)
        regulator = make_actor(session, role)
        for action in ("contact", "validate"):
            with pytest.raises(PermissionDenied):
                ACTIONS[action](session, regulator, scene)
        ACTIONS["cancel_assignment"](session, regulator, scene)
        assert ACTIONS["close_mission"](session, regulator, scene) == 1
        assert mission_of(session, scene.here).status == "closed"
        assert [status_of(session, pid) for pid in (scene.available, scene.contacted, scene.assigned)] == [
            "disponible"] * 3
        assert [e.actor_user_id for e in events(session, "assignment_cancelled")] == [regulator.id]


def test_a_colleague_of_the_same_establishment_may_act_on_its_missions(uow) -> None:
    with uow() as session:
        scene = _scene(session)
        colleague = to_session_user(session, user=make_user(
            session, establishment=session.get(m.Establishment, scene.here.establishment_id)))
        assert validate(session, actor=colleague, mission_id=scene.here.mission_id, professional_ids=[scene.contacted], now=LATER) == 1

