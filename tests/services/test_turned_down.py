"""Issue 13: a volunteer whose proposal for a mission ended refused, declined or cancelled is never offered that
mission again — not in « Choisir », not in « Proposer », and every service that would offer it refuses with a
French sentence saying who turned it down and when; a reservation that merely expired may be offered again.
The volunteer's answers: « Décliner » with a reason from the short list, « Je suis intéressé(e) »."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, ValidationError
from core.staffing.jobs import run_jobs
from core.staffing.matching import find_candidates
from core.staffing.regulation import assign_on_behalf, push
from core.staffing.workflow import cancel_assignment, contact, express_interest, refuse, validate, withdraw
from core.volunteers.professionals import my_missions
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
from tests.readers import events

LATER = NOW + timedelta(hours=2)
AT = "23/11/2026 à 10:00"  # NOW in Paris


class Scene:
    """A Nantes mission for two, its establishment's HR, the region's ARS and one available nurse with her own
    account."""

    def __init__(self, session: so.Session) -> None:
        establishment = make_establishment(session, postal_code="44000")
        self.hr_user = make_user(session, establishment=establishment)
        self.hr = to_session_user(session, user=self.hr_user)
        self.establishment = establishment
        self.mission = make_mission(session, establishment, self.hr_user, start_date=START, end_date=END, count=2)
        self.ars = make_actor(session, "ars", ars_code="52")
        self.nurse = make_available_nurse(session, first_name="Inès", last_name="Garnier")
        self.me = make_actor(session, "professionnel", professional_id=self.nurse.id, email=self.nurse.email)

    def candidates(self, session: so.Session, who: SessionUser, now=LATER) -> list[int]:  # noqa: ANN001
        return [row["id"] for row in find_candidates(session, actor=who, mission_id=self.mission.id, now=now).rows]


def _declined(session: so.Session, scene: Scene, reason_code: str | None = "trop_loin") -> m.Proposal:
    proposal = contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id, now=NOW)
    withdraw(session, actor=scene.me, proposal_id=proposal.id, reason_code=reason_code, now=NOW)
    return proposal


def _refused(session: so.Session, scene: Scene) -> None:
    contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id, now=NOW)
    refuse(session, actor=scene.hr, mission_id=scene.mission.id, professional_ids=[scene.nurse.id], now=NOW)


def _cancelled(session: so.Session, scene: Scene) -> None:
    contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id, now=NOW)
    validate(session, actor=scene.hr, mission_id=scene.mission.id, professional_ids=[scene.nurse.id], now=NOW)
    cancel_assignment(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id,
                      reason="Changement de planning", now=NOW)


ENDINGS = {
    "decline": (_declined, f"Inès Garnier a décliné cette mission le {AT} : elle ne peut plus lui être proposée."),
    "refuse": (_refused, f"Inès Garnier a été refusé(e) pour cette mission le {AT} : elle ne peut plus lui être "
                         "proposée."),
    "annule": (_cancelled, f"L'affectation de Inès Garnier à cette mission a été annulée le {AT} : elle ne peut plus "
                           "lui être proposée."),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_turned_down_volunteer_leaves_both_candidate_lists_and_is_shown_apart_with_the_date(uow, ending) -> None:
    with uow() as session:
        scene = Scene(session)
        assert scene.nurse.id in scene.candidates(session, scene.hr, now=NOW)
        ENDINGS[ending][0](session, scene)
        assert scene.nurse.status == "disponible"  # free for every other mission
        for who in (scene.hr, scene.ars):
            page = find_candidates(session, actor=who, mission_id=scene.mission.id, now=LATER)
            assert scene.nurse.id not in [row["id"] for row in page.rows]
            assert scene.nurse.id not in [point["id"] for point in page.map_points]
            assert [(row["professional_id"], row["state"]) for row in page.turned_down] == [(scene.nurse.id, ending)]
            assert page.turned_down[0]["sentence"] + " : elle ne peut plus lui être proposée." == ENDINGS[ending][1]


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_contact_push_and_assignment_of_a_turned_down_volunteer_are_refused_with_who_and_when(uow, ending) -> None:
    offers = {
        "contact": lambda s, sc: contact(s, actor=sc.hr, mission_id=sc.mission.id, professional_id=sc.nurse.id,
                                         now=LATER),
        "push": lambda s, sc: push(s, actor=sc.ars, mission_id=sc.mission.id, professional_ids=[sc.nurse.id],
                                   now=LATER),
        "assign_on_behalf": lambda s, sc: assign_on_behalf(s, actor=sc.ars, mission_id=sc.mission.id,
                                                           professional_id=sc.nurse.id, now=LATER),
    }
    for name, offer in offers.items():
        with uow() as session:
            scene = Scene(session)
            ENDINGS[ending][0](session, scene)
            with pytest.raises(Conflict) as error:
                offer(session, scene)
            assert error.value.message == ENDINGS[ending][1], name
            assert session.get(m.Professional, scene.nurse.id).status == "disponible"


def test_a_reservation_that_merely_expired_may_be_offered_again(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id,
                now=NOW - timedelta(days=8))
        assert run_jobs(session, now=NOW).released == 1
        assert scene.nurse.id in scene.candidates(session, scene.hr)
        assert find_candidates(session, actor=scene.hr, mission_id=scene.mission.id, now=LATER).turned_down == []
        contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id, now=LATER)


def test_a_decline_keeps_its_reason_code_and_a_reason_off_the_list_is_refused(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        proposal = contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id,
                           now=NOW)
        with pytest.raises(ValidationError) as error:
            withdraw(session, actor=scene.me, proposal_id=proposal.id, reason_code="pas envie", now=NOW)
        assert error.value.message == "Choisissez la raison dans la liste proposée."
        assert proposal.state == "contacte"
        withdraw(session, actor=scene.me, proposal_id=proposal.id, reason_code="deja_engage", now=NOW)
        assert (proposal.state, proposal.reason_code, proposal.reason) == ("decline", "deja_engage",
                                                                           "Déjà engagé(e) ailleurs")
        [mine] = my_missions(session, actor=scene.me)
        assert mine["declined"] and not mine["live"] and not mine["actions"]


def test_i_am_interested_is_recorded_once_shown_with_the_proposal_and_changes_no_state(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        proposal = contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id,
                           now=NOW)
        [mine] = my_missions(session, actor=scene.me)
        assert {action.value for action in mine["actions"]} == {"decline", "interest"}
        express_interest(session, actor=scene.me, proposal_id=proposal.id, now=LATER)
        express_interest(session, actor=scene.me, proposal_id=proposal.id, now=LATER + timedelta(hours=1))
        assert (proposal.state, proposal.interested_at) == ("contacte", LATER)
        assert len(events(session, "interested")) == 1
        [mine] = my_missions(session, actor=scene.me)
        assert {action.value for action in mine["actions"]} == {"decline"} and mine["interested_at"] == LATER
        [row] = [r for r in find_candidates(session, actor=scene.hr, mission_id=scene.mission.id, now=LATER).rows
                 if r["id"] == scene.nurse.id]
        assert row["interested_at"] == LATER


def test_the_candidate_list_names_who_said_interested_and_what_to_do_until_a_decision(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        pushed_nurse = make_available_nurse(session, first_name="Marc", last_name="Royer")
        pushed_me = make_actor(session, "professionnel", professional_id=pushed_nurse.id, email=pushed_nurse.email)
        proposal = contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id,
                           now=NOW)
        push(session, actor=scene.ars, mission_id=scene.mission.id, professional_ids=[pushed_nurse.id], now=NOW)
        [pushed] = session.scalars(sa.select(m.Proposal).where(m.Proposal.professional_id == pushed_nurse.id))
        assert find_candidates(session, actor=scene.hr, mission_id=scene.mission.id, now=LATER).interested == []
        express_interest(session, actor=pushed_me, proposal_id=pushed.id, now=LATER + timedelta(minutes=5))
        express_interest(session, actor=scene.me, proposal_id=proposal.id, now=LATER)
        page = find_candidates(session, actor=scene.hr, mission_id=scene.mission.id, now=LATER)
        assert [row["sentence"] for row in page.interested] == [
            "Inès Garnier, le 23/11/2026 à 12:00 : cochez sa ligne puis « Valider les candidatures »",
            "Marc Royer, le 23/11/2026 à 12:05, proposé(e) par l'ARS : cochez sa ligne, « Contacter », puis "
            "« Valider les candidatures »"]
        refuse(session, actor=scene.hr, mission_id=scene.mission.id, professional_ids=[scene.nurse.id], now=LATER)
        page = find_candidates(session, actor=scene.hr, mission_id=scene.mission.id, now=LATER)
        assert [row["professional_id"] for row in page.interested] == [pushed_nurse.id]


def test_only_the_volunteer_says_they_are_interested_and_only_while_the_proposal_waits(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        proposal = _declined(session, scene)
        with pytest.raises(Conflict) as error:
            express_interest(session, actor=scene.me, proposal_id=proposal.id, now=LATER)
        assert error.value.message == "Cette demande n'est plus en cours."
        assert proposal.interested_at is None


@pytest.mark.parametrize("answer", ["interest", "decline"])
def test_an_answer_to_a_request_confirms_the_availability_of_a_stale_profile(uow, answer: str) -> None:
    """Whoever answers reads the platform: matching stops ranking them among the stale profiles."""
    with uow() as session:
        scene = Scene(session)
        scene.nurse.availability_confirmed_at = NOW - timedelta(days=45)
        other = make_mission(session, scene.establishment, scene.hr_user, start_date=START, end_date=END)
        [row] = [r for r in find_candidates(session, actor=scene.hr, mission_id=other.id, now=NOW).rows
                 if r["id"] == scene.nurse.id]
        assert row["stale"]
        proposal = contact(session, actor=scene.hr, mission_id=scene.mission.id, professional_id=scene.nurse.id,
                           now=NOW)
        if answer == "interest":
            express_interest(session, actor=scene.me, proposal_id=proposal.id, now=LATER)
        else:
            withdraw(session, actor=scene.me, proposal_id=proposal.id, reason_code="dates", now=LATER)
        session.expire_all()
        assert session.get(m.Professional, scene.nurse.id).availability_confirmed_at == LATER
        if answer == "decline":  # free again: seen in another mission's list, no longer flagged
            [row] = [r for r in find_candidates(session, actor=scene.hr, mission_id=other.id, now=LATER).rows
                     if r["id"] == scene.nurse.id]
            assert not row["stale"] and row["score_parts"]["freshness"] == 0 and "profil confirmé" in row["reasons"]
