"""A territorial pool's roster, by consent only (issue 14): invitations answered from « Mon profil », registration
with the pool's code, release to the national pool, departures — and who sees a pool-only member among the
candidates of a mission."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.pools.roster import (
    UNKNOWN_CODE,
    VolunteerSearch,
    answer_invitation,
    invite,
    leave_pool,
    my_pools,
    register_with_pool_code,
    release_member,
    remove_member,
    roster,
    search_volunteers,
)
from core.shared.actions import Action
from core.shared.errors import Conflict, FormErrors, NotFound, PermissionDenied
from core.staffing.matching import find_candidates
from core.volunteers.privacy import my_data_archive
from core.volunteers.professionals import delete_professional
from db import models as m
from tests.factories import (
    END,
    NOW,
    START,
    make_actor,
    make_available_nurse,
    make_establishment,
    make_mission,
    make_pool,
    make_pool_setting,
    make_roster_entry,
    make_user,
)
from tests.readers import count, events, outbox, status_of
from tests.services.test_professionals import registration


def _volunteer(session, professional: m.Professional):  # noqa: ANN001, ANN202
    """The volunteer's own signed-in account."""
    return make_actor(session, "professionnel", professional_id=professional.id)


def _candidate_ids(session, actor, mission_id: int) -> list[int]:  # noqa: ANN001
    return [row["id"] for row in find_candidates(session, actor=actor, mission_id=mission_id, now=NOW).rows]


# ---------------------------------------------------------------- invitations


def test_an_invitation_is_mailed_and_accepted_from_the_volunteers_profile(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session, first_name="Inès", last_name="Garnier")
        entry = invite(session, actor=setting.coordinator, professional_id=nurse.id, now=NOW)
        assert (entry.state, entry.origin, entry.pool_only) == ("invite", "invitation", False)
        [mail] = outbox(session)
        assert mail.to == nurse.email
        assert mail.subject == "Renfort RH — invitation à rejoindre une plateforme territoriale"
        assert setting.pool.name in mail.body_text and "/mon-profil" in mail.body_text
        volunteer = _volunteer(session, nurse)
        [invitation] = my_pools(session, actor=volunteer).invitations
        assert (invitation["pool"], invitation["department"]) == (setting.pool.name, "Loire-Atlantique (44)")
        assert invitation["coordinator"] == setting.coordinator.display_name
        assert invitation["actions"] == {Action.ACCEPT_INVITATION, Action.DECLINE_INVITATION}
        assert answer_invitation(session, actor=volunteer, entry_id=entry.id, accept=True,
                                 now=NOW) == setting.pool.name
        mine = my_pools(session, actor=volunteer)
        assert mine.invitations == []
        [membership] = mine.memberships
        assert membership["actions"] == {Action.LEAVE_POOL}
        assert membership["visibility"].startswith("Vous restez dans le vivier national")
        assert [e.action for e in session.scalars(sa.select(m.Event).where(m.Event.entity == "pool_roster"))] == [
            "roster_invited", "roster_accepted"]
        assert {e.ars_code for e in events(session, "roster_accepted")} == {"52"}


def test_a_declined_invitation_is_final(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session, last_name="Roux")
        entry = invite(session, actor=setting.coordinator, professional_id=nurse.id, now=NOW)
        answer_invitation(session, actor=_volunteer(session, nurse), entry_id=entry.id, accept=False, now=NOW)
        assert session.get(m.PoolRosterEntry, entry.id).state == "decline"
        with pytest.raises(Conflict) as error:
            invite(session, actor=setting.coordinator, professional_id=nurse.id, now=NOW + timedelta(days=1))
        assert error.value.message == ("Alex Roux : a décliné votre invitation le 23/11/2026 à 10:00 : elle ne peut "
                                       "pas être renouvelée.")
        [row] = search_volunteers(session, actor=setting.coordinator, search=VolunteerSearch(text="roux"))[0]
        assert row["actions"] == frozenset() and row["why_not"].startswith("A décliné votre invitation")


def test_the_coordinator_invites_only_volunteers_of_its_region_not_yet_on_the_roster(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        breton = make_available_nurse(session, postal_code="35000")
        nurse = make_available_nurse(session)
        with pytest.raises(PermissionDenied):
            invite(session, actor=setting.coordinator, professional_id=breton.id, now=NOW)
        invite(session, actor=setting.coordinator, professional_id=nurse.id, now=NOW)
        with pytest.raises(Conflict) as error:
            invite(session, actor=setting.coordinator, professional_id=nurse.id, now=NOW)
        assert error.value.message.endswith("invitation en attente de réponse.")
        with pytest.raises(PermissionDenied):
            invite(session, actor=setting.ars, professional_id=nurse.id, now=NOW)
        assert count(session, m.PoolRosterEntry) == 1


def test_the_search_lists_the_regions_volunteers_with_where_they_stand(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        member = make_available_nurse(session, last_name="Aubert")
        free = make_available_nurse(session, last_name="Bernard", postal_code="49000")  # Angers: same region
        make_available_nurse(session, last_name="Caron", postal_code="35000")  # Bretagne: another region
        elsewhere = make_available_nurse(session, last_name="Dupuis")
        other_pool = make_pool(session, make_establishment(session, postal_code="49000", finess_category_code="500"))
        make_roster_entry(session, other_pool, elsewhere, origin="inscription")  # pool-only of Maine-et-Loire
        make_roster_entry(session, setting.pool, member)
        rows, total = search_volunteers(session, actor=setting.coordinator)
        assert total == 2
        assert [(r["last_name"], r["roster_state"], r["actions"]) for r in rows] == [
            ("Aubert", "membre", frozenset()), ("Bernard", None, frozenset({Action.INVITE}))]
        rows, _ = search_volunteers(session, actor=setting.coordinator, search=VolunteerSearch(department_code="49"))
        assert [r["id"] for r in rows] == [free.id]


def test_a_coordinator_acts_on_its_own_pools_roster_only(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        entry = make_roster_entry(session, setting.pool, make_available_nurse(session))
        other_pool = make_pool(session, make_establishment(session, postal_code="49000", finess_category_code="500"))
        stranger = make_actor(session, "pool", pool_id=other_pool.id, ars_code="52")
        with pytest.raises(NotFound):
            remove_member(session, actor=stranger, entry_id=entry.id, now=NOW)
        with pytest.raises(PermissionDenied):
            roster(session, actor=setting.member_hr)
        assert session.get(m.PoolRosterEntry, entry.id).state == "membre"


# ---------------------------------------------------------------- registration with the pool's code


def test_a_volunteer_registered_with_the_pools_code_is_a_pool_only_member(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        done = register_with_pool_code(session, actor=None, form=registration(), pool_code=f" {setting.pool.code.lower()} ",
                                       now=NOW)
        assert done.pool_name == setting.pool.name
        entry = session.scalar(sa.select(m.PoolRosterEntry).where(
            m.PoolRosterEntry.professional_id == done.professional_id))
        assert (entry.pool_id, entry.state, entry.origin, entry.pool_only, entry.released_at) == (
            setting.pool.id, "membre", "inscription", True, None)
        [row] = roster(session, actor=setting.coordinator)
        assert (row["last_name"], row["restricted"], row["actions"]) == ("Moreau", True,
                                                                         {Action.RELEASE, Action.REMOVE})
        assert events(session, "roster_registered")[0].ars_code == "52"


@pytest.mark.parametrize("closed", [False, True])
def test_an_unknown_or_closed_code_is_an_error_on_its_field_and_nothing_is_saved(uow, closed: bool) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        code = setting.pool.code
        setting.pool.closed_at = NOW - timedelta(days=1) if closed else None
    with pytest.raises(FormErrors) as error, uow() as session:
        register_with_pool_code(session, actor=None, form=registration(last_name=""),
                                pool_code=code if closed else "PT44-XXXXX", now=NOW)
    expected = (f"La plateforme territoriale « {setting.pool.name} » est fermée : laissez ce champ vide pour rejoindre "
                "le vivier national.") if closed else UNKNOWN_CODE
    assert error.value.by_field() == {"last_name": "Le champ « Nom » est obligatoire.", "pool_code": expected}
    with pytest.raises(FormErrors) as error, uow() as session:
        register_with_pool_code(session, actor=None, form=registration(), pool_code="PT44-XXXXX", now=NOW)
    assert error.value.by_field() == {"pool_code": UNKNOWN_CODE}
    with uow() as session:
        assert (count(session, m.Professional), count(session, m.User, m.User.role == "professionnel"),
                count(session, m.PoolRosterEntry), count(session, m.Outbox)) == (0, 0, 0, 0)


def test_without_a_code_the_registration_is_the_national_one(uow) -> None:
    with uow() as session:
        done = register_with_pool_code(session, actor=None, form=registration(), pool_code="  ", now=NOW)
        assert done.pool_name is None and count(session, m.PoolRosterEntry) == 0
        assert count(session, m.Professional, m.Professional.id == done.professional_id) == 1


# ---------------------------------------------------------------- who sees a pool-only member


def test_a_pool_only_member_is_seen_by_the_pools_members_and_its_regions_ars_only(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        pooled = make_available_nurse(session, mobility="nationale")
        national = make_available_nurse(session, mobility="nationale")
        entry = make_roster_entry(session, setting.pool, pooled, origin="inscription")
        breton = make_establishment(session, postal_code="35000")
        breton_hr = make_user(session, establishment=breton)
        breton_mission = make_mission(session, breton, breton_hr, start_date=START, end_date=END,
                                      pools_opened_at=NOW - timedelta(hours=1))  # the CCS opened the national pools
        breton_ars = make_actor(session, "ars", ars_code="53")
        assert set(_candidate_ids(session, setting.member_hr, setting.member_mission.id)) == {pooled.id, national.id}
        assert _candidate_ids(session, setting.outsider_hr, setting.outsider_mission.id) == [national.id]
        assert set(_candidate_ids(session, setting.ars, setting.outsider_mission.id)) == {pooled.id, national.id}
        assert _candidate_ids(session, breton_ars, breton_mission.id) == [national.id]
        release_member(session, actor=setting.coordinator, entry_id=entry.id, now=NOW)
        assert set(_candidate_ids(session, setting.outsider_hr, setting.outsider_mission.id)) == {pooled.id, national.id}
        assert set(_candidate_ids(session, breton_ars, breton_mission.id)) == {pooled.id, national.id}
        [mail] = outbox(session)
        assert (mail.to, mail.subject) == (pooled.email, "Renfort RH — vous rejoignez le vivier national")
        with pytest.raises(Conflict):
            release_member(session, actor=setting.coordinator, entry_id=entry.id, now=NOW)


def test_an_invited_member_stays_in_the_national_pool(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session)
        make_roster_entry(session, setting.pool, nurse)
        assert _candidate_ids(session, setting.outsider_hr, setting.outsider_mission.id) == [nurse.id]


# ---------------------------------------------------------------- leaving the roster


def test_a_removed_pool_only_member_is_paused_and_told(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        pooled, invited = make_available_nurse(session), make_available_nurse(session)
        entry = make_roster_entry(session, setting.pool, pooled, origin="inscription")
        invitation = make_roster_entry(session, setting.pool, invited, state="invite")
        assert remove_member(session, actor=setting.coordinator, entry_id=entry.id, now=NOW) is True
        assert remove_member(session, actor=setting.coordinator, entry_id=invitation.id, now=NOW) is False
        assert (status_of(session, pooled.id), status_of(session, invited.id)) == ("indisponible", "disponible")
        [mail] = outbox(session)  # the withdrawn invitation is not mailed
        assert mail.to == pooled.email and "votre profil est mis en pause" in mail.body_text
        assert roster(session, actor=setting.coordinator) == []
        assert _candidate_ids(session, setting.member_hr, setting.member_mission.id) == [invited.id]


def test_a_volunteer_leaves_a_pool_from_their_profile(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        invited, pooled = make_available_nurse(session), make_available_nurse(session)
        kept = make_roster_entry(session, setting.pool, invited)
        restricted = make_roster_entry(session, setting.pool, pooled, origin="inscription")
        assert leave_pool(session, actor=_volunteer(session, invited), entry_id=kept.id, now=NOW) is False
        assert leave_pool(session, actor=_volunteer(session, pooled), entry_id=restricted.id, now=NOW) is True
        assert (status_of(session, invited.id), status_of(session, pooled.id)) == ("disponible", "indisponible")
        with pytest.raises(Conflict) as error:
            leave_pool(session, actor=_volunteer(session, invited), entry_id=kept.id, now=NOW)
        assert error.value.message == "Vous n'êtes plus membre de cette plateforme."
        with pytest.raises(NotFound):
            answer_invitation(session, actor=_volunteer(session, invited), entry_id=restricted.id, accept=True)
        assert [e.action for e in events(session, "roster_left")] == ["roster_left", "roster_left"]


def test_a_volunteer_who_deletes_their_data_leaves_every_roster(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session)
        entry = make_roster_entry(session, setting.pool, nurse)
        delete_professional(session, actor=_volunteer(session, nurse), now=NOW)
        assert session.get(m.PoolRosterEntry, entry.id, populate_existing=True).state == "retire"
        assert roster(session, actor=setting.coordinator) == []


def test_the_volunteers_data_archive_lists_their_pools(uow) -> None:
    with uow() as session:
        setting = make_pool_setting(session)
        nurse = make_available_nurse(session)
        make_roster_entry(session, setting.pool, nurse, origin="inscription")
        archive = zipfile.ZipFile(io.BytesIO(my_data_archive(session, actor=_volunteer(session, nurse), now=NOW)))
        [pool] = json.loads(archive.read("mes-donnees.json"))["plateformes_territoriales"]
        assert (pool["plateforme"], pool["etat"], pool["origine"], pool["plateforme_seulement"]) == (
            setting.pool.name, "membre", "inscription avec le code", True)
