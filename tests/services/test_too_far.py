"""Issue 17: the platform uses the reasons volunteers give. A « Décliner — trop loin » keeps the mission's distance
(the shortest one said too far); matching then ranks the missions at least as far lower for this volunteer, and
« Mon profil » says so, with a way back: moving, changing one's mobility, or « Me proposer de nouveau les missions
lointaines »."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy.orm as so

from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict
from core.staffing.matching import W_SOLICITATION, W_TOO_FAR, find_candidates
from core.staffing.workflow import TOO_FAR_NOTE, contact, withdraw
from core.volunteers.professionals import AvailabilityInput, forget_too_far, my_profile, update_professional
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
SAINT_NAZAIRE_DM = 535  # Nantes (44300) → Saint-Nazaire (44600), as matching measures it
ANGERS = "49000"


class Scene:
    """A nurse of Nantes (44300) with her account, and the HR of establishments where missions are filed."""

    def __init__(self, session: so.Session) -> None:
        self.nurse = make_available_nurse(session, mobility="regionale")
        self.me = make_actor(session, "professionnel", professional_id=self.nurse.id, email=self.nurse.email)
        self.places: dict[str, tuple[m.Establishment, m.User]] = {}

    def place(self, session: so.Session, postal_code: str) -> tuple[m.Establishment, m.User]:
        if postal_code not in self.places:
            establishment = make_establishment(session, postal_code=postal_code)
            self.places[postal_code] = (establishment, make_user(session, establishment=establishment))
        return self.places[postal_code]

    def mission(self, session: so.Session, postal_code: str) -> tuple[m.Mission, SessionUser]:
        establishment, hr = self.place(session, postal_code)
        mission = make_mission(session, establishment, hr, start_date=START, end_date=END)
        return mission, to_session_user(session, user=hr)

    def decline(self, session: so.Session, postal_code: str, reason_code: str = "trop_loin") -> str | None:
        mission, hr = self.mission(session, postal_code)
        proposal = contact(session, actor=hr, mission_id=mission.id, professional_id=self.nurse.id, now=NOW)
        return withdraw(session, actor=self.me, proposal_id=proposal.id, reason_code=reason_code, now=NOW)

    def row(self, session: so.Session, postal_code: str) -> dict:
        mission, hr = self.mission(session, postal_code)
        [row] = [r for r in find_candidates(session, actor=hr, mission_id=mission.id, now=LATER).rows
                 if r["id"] == self.nurse.id]
        return row

    def too_far_dm(self, session: so.Session) -> int | None:
        session.flush()
        session.expire_all()
        return session.get(m.Professional, self.nurse.id).too_far_dm


def test_a_decline_as_too_far_keeps_the_distance_and_ranks_missions_as_far_lower(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        before = scene.row(session, "44600")
        scene.decline(session, "44600")
        assert scene.too_far_dm(session) == SAINT_NAZAIRE_DM
        after = scene.row(session, "44600")  # another mission of the same establishment
        assert after["score"] == before["score"] - (W_TOO_FAR + W_SOLICITATION) * 100  # the decline counts as asked
        assert after["score_parts"]["too_far"] == -W_TOO_FAR * 100
        assert " · « trop loin » dit à 53,5 km −30 = " in after["reasons"]
        closer = scene.row(session, "44000")  # Nantes: closer than what she declined
        assert closer["score_parts"]["too_far"] == 0 and " · moins loin que 53,5 km 0 = " in closer["reasons"]


def test_too_far_for_a_mission_in_her_own_town_keeps_no_distance_and_the_answer_says_what_changed(uow) -> None:
    """Distances run between postal-code centres: a « trop loin » under 10 km says nothing of a distance to avoid
    (kept, it would push every mission down); over it, « Mes missions » is told what the reason changes."""
    with uow() as session:
        scene = Scene(session)
        assert scene.decline(session, "44300") is None
        assert scene.too_far_dm(session) is None
        assert scene.decline(session, "44600") == TOO_FAR_NOTE
        assert scene.decline(session, "44600", reason_code="dates") is None


def test_the_shortest_distance_said_too_far_is_kept_and_other_reasons_change_nothing(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        scene.decline(session, "44600", reason_code="dates")
        scene.decline(session, ANGERS, reason_code="deja_engage")
        assert scene.too_far_dm(session) is None
        scene.decline(session, ANGERS)
        angers = scene.too_far_dm(session)
        assert angers > SAINT_NAZAIRE_DM
        scene.decline(session, "44600")
        assert scene.too_far_dm(session) == SAINT_NAZAIRE_DM
        scene.decline(session, ANGERS)  # farther again: the shorter distance stays
        assert scene.too_far_dm(session) == SAINT_NAZAIRE_DM


def test_my_profile_says_which_distance_and_the_volunteer_can_take_it_back(uow) -> None:
    with uow() as session:
        scene = Scene(session)
        assert my_profile(session, actor=scene.me, now=LATER).too_far is None
        scene.decline(session, "44600")
        assert my_profile(session, actor=scene.me, now=LATER).too_far == "53,5 km"
        forget_too_far(session, actor=scene.me, now=LATER)
        assert scene.too_far_dm(session) is None and my_profile(session, actor=scene.me, now=LATER).too_far is None
        assert scene.row(session, "44600")["score_parts"]["too_far"] == 0
        [event] = events(session, "too_far_forgotten")
        assert (event.entity_id, event.before, event.at) == (str(scene.nurse.id), "53,5 km", LATER)
        with pytest.raises(Conflict, match="aucune mission comme trop lointaine"):
            forget_too_far(session, actor=scene.me, now=LATER)


def _profile(nurse: m.Professional, **overrides: object) -> AvailabilityInput:
    values = {"phone": "06 12 34 56 78", "postal_code": nurse.postal_code, "city": nurse.city,
              "available_week": True, "mobility": nurse.mobility, **overrides}
    return AvailabilityInput(**values)


@pytest.mark.parametrize(("change", "forgotten"), [
    ({"postal_code": "44600", "city": ""}, True),  # she moved: distances are measured from elsewhere
    ({"mobility": "nationale"}, True),  # she says she goes farther now
    ({"message": "Disponible aussi de nuit."}, False),
])
def test_moving_or_changing_mobility_forgets_the_too_far_and_other_changes_keep_it(uow, change: dict,
                                                                                     forgotten: bool) -> None:
    with uow() as session:
        scene = Scene(session)
        scene.decline(session, "44600")
        update_professional(session, actor=scene.me, data=_profile(scene.nurse, **change), now=LATER)
        assert scene.too_far_dm(session) == (None if forgotten else SAINT_NAZAIRE_DM)
