"""« Mes missions »: the volunteer answers a reservation « Je suis intéressé(e) » or « Décliner » with a reason;
the establishment sees the answer in « Choisir » (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.actor import to_session_user
from core.shared.clock import paris_today
from core.staffing.missions import MissionInput, create_missions
from core.staffing.workflow import contact, withdraw
from db import models as m
from db.session import session_scope
from tests.ui.conftest import open_page, sign_in_as, tick
from tests.ui.readers import button

VOLUNTEER = "benevole@example.org"  # the demo volunteer, reserved by the demo CHU for one of its missions
ESTABLISHMENT = "etablissement@example.org"


def _reservation(url: str) -> m.Proposal:
    """The demo volunteer's reservation by the demo CHU (made here for a new mission of the CHU, the volunteer
    first freed of whatever the seed left them in)."""
    with session_scope(url) as session:
        user = session.scalars(sa.select(m.User).where(m.User.email == VOLUNTEER)).one()
        me = to_session_user(session, user=user)
        for proposal_id in session.scalars(sa.select(m.Proposal.id).where(
                m.Proposal.professional_id == user.professional_id, m.Proposal.state.in_(["contacte", "en_cours"]))):
            withdraw(session, actor=me, proposal_id=proposal_id)
        professional = session.get(m.Professional, user.professional_id)
        professional.status = "disponible"
        hr = session.scalars(sa.select(m.User).where(m.User.email == ESTABLISHMENT)).one()
        chu = to_session_user(session, user=hr)
        start = paris_today() + timedelta(days=10)
        [mission_id] = create_missions(session, actor=chu, establishment_id=chu.establishment_ids[0], missions=[
            MissionInput(profession_code=professional.profession_code, count=1, start_date=start,
                         end_date=start + timedelta(days=4))])
        proposal = contact(session, actor=chu, mission_id=mission_id, professional_id=professional.id)
        session.flush()
        session.expunge(proposal)
        return proposal


def _proposal(url: str, proposal_id: int) -> m.Proposal:
    with session_scope(url, read_only=True) as session:
        return session.get(m.Proposal, proposal_id)


def _my_missions(app: AppTest) -> AppTest:
    sign_in_as(app, VOLUNTEER, "professionnel").run()
    return open_page(app, "mes-missions")


def test_i_say_i_am_interested_and_the_establishment_sees_when(app: AppTest, demo_url: str) -> None:
    reservation = _reservation(demo_url)
    _my_missions(app)
    assert not app.exception
    button(app, "Je suis intéressé(e)").click()
    app.run()
    assert [s.value for s in app.success] == [
        "C'est noté : l'établissement voit que vous êtes intéressé(e). Il vous confirmera la mission."]
    assert not [b for b in app.button if b.label == "Je suis intéressé(e)"]
    assert any(c.value.startswith("Vous avez répondu « intéressé(e) » le ") for c in app.caption)
    answered = _proposal(demo_url, reservation.id)
    assert answered.interested_at is not None and answered.state == "contacte"

    establishment = AppTest.from_file(app._script_path, default_timeout=30)
    sign_in_as(establishment, ESTABLISHMENT, "etablissement").run()
    establishment.session_state["chosen_mission"] = reservation.mission_id
    open_page(establishment, "choisir")
    frame = establishment.dataframe[0].value
    [row] = frame[frame["id"] == reservation.professional_id].to_dict("records")
    assert row["Statut"] == "CONTACTÉ" and row["Intéressé(e)"].startswith("oui, le ")


def test_i_decline_with_a_reason_and_the_mission_is_never_offered_to_me_again(app: AppTest, demo_url: str) -> None:
    reservation = _reservation(demo_url)
    _my_missions(app)
    app.selectbox(key=f"decline_reason_{reservation.id}").set_value("trop_loin")
    button(app, "Confirmer : je décline").click()
    app.run()
    assert [s.value for s in app.success] == [  # the CHU is in her own town: no distance to keep (under 10 km)
        "Demande déclinée : l'établissement est prévenu ; cette mission ne vous sera plus proposée."]
    assert any("Déclinée par vous (trop loin)" in md.value for md in app.markdown)
    row = _proposal(demo_url, reservation.id)
    assert (row.state, row.reason_code) == ("decline", "trop_loin")
    with session_scope(demo_url, read_only=True) as session:
        assert session.get(m.Professional, reservation.professional_id).too_far_dm is None

    establishment = AppTest.from_file(app._script_path, default_timeout=30)
    sign_in_as(establishment, ESTABLISHMENT, "etablissement").run()
    establishment.session_state["chosen_mission"] = reservation.mission_id
    open_page(establishment, "choisir")
    assert reservation.professional_id not in set(establishment.dataframe[0].value["id"])
    [notice] = [e for e in establishment.expander if e.label.startswith("Écartés pour cette mission")]
    assert notice.label == "Écartés pour cette mission (1)"
    assert any(" a décliné cette mission le " in c.value and c.value.endswith("(trop loin).") for c in notice.caption)


def test_my_profile_names_the_distance_i_said_too_far_and_one_click_takes_it_back(app: AppTest, demo_url: str) -> None:
    with session_scope(demo_url) as session:
        user = session.scalars(sa.select(m.User).where(m.User.email == VOLUNTEER)).one()
        professional_id = user.professional_id
        session.get(m.Professional, professional_id).too_far_dm = 535  # a mission 53,5 km away declined so
    sign_in_as(app, VOLUNTEER, "professionnel").run()
    open_page(app, "mon-profil")
    assert [i.value for i in app.info if "trop loin" in i.value] == [
        "Vous avez décliné une mission à 53,5 km de chez vous comme « trop loin » : les missions au moins aussi "
        "lointaines vous sont proposées après les autres candidats. Un changement d'adresse ou de mobilité l'annule."]
    button(app, "Me proposer de nouveau les missions lointaines").click()
    app.run()
    assert [s.value for s in app.success] == [
        "C'est noté : les missions lointaines vous sont de nouveau proposées comme les autres."]
    assert not [i.value for i in app.info if "trop loin" in i.value]
    assert not [b for b in app.button if b.label == "Me proposer de nouveau les missions lointaines"]
    with session_scope(demo_url, read_only=True) as session:
        assert session.get(m.Professional, professional_id).too_far_dm is None


def test_ticking_a_candidate_shows_the_whole_reason_of_its_rank_with_points(app: AppTest, demo_url: str) -> None:
    reservation = _reservation(demo_url)
    sign_in_as(app, ESTABLISHMENT, "etablissement").run()
    app.session_state["chosen_mission"] = reservation.mission_id
    open_page(app, "choisir")
    frame = app.dataframe[0].value
    assert list(frame.columns[:5]) == ["id", "Nom", "Prénom", "Statut", "Pourquoi ce rang"]
    tick(app, 0)
    [why] = [c.value for c in app.caption if c.value.startswith("Pourquoi ce rang — ")]
    first = frame.iloc[0]
    assert why.startswith(f"Pourquoi ce rang — {first['Prénom']} {first['Nom']} : ")
    assert why.endswith(first["Pourquoi ce rang"]) and why.endswith(" pts")
