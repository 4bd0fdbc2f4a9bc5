"""Establishment account requests, their validation by the ARS or the CCS, and password links."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.access.accounts import (
    AccountRequest,
    activate,
    authenticate,
    password_link_owner,
    pending_count,
    pending_requests,
    reject_account,
    request_establishment_account,
    request_password_reset,
    validate_account,
)
from core.access.tokens import InvalidLink
from core.shared.actor import to_session_user
from core.shared.errors import Conflict, FormErrors, PermissionDenied, ValidationError
from core.staffing.missions import MissionInput
from db import models as m
from tests.factories import make_actor, make_establishment, make_user

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 23)
NEW_PASSWORD = "Nouveau-Mot-2026!"


def a_request(**overrides) -> AccountRequest:
    values = dict(
        last_name="Moreau", first_name="Claire", email="claire.moreau@chu-test.fr", phone="06 12 34 56 78",
        category_code="loi_hospitaliere", identifier="750100125", establishment_name="Hôpital de test",
        address="1 place de l'Hôpital", postal_code="44000", city="Nantes", ars_code="52",
        missions=[MissionInput(profession_code="infirmier_de", count=2, start_date=TODAY + timedelta(days=1),
                               end_date=TODAY + timedelta(days=15), exp_reanimation=True)],
    )
    values.update(overrides)
    return AccountRequest(**values)


def _counts(session) -> tuple[int, ...]:
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (m.User, m.Establishment, m.Mission, m.Outbox, m.Event)
    )


def _token_from_outbox(session, to: str) -> str:
    body = session.scalars(sa.select(m.Outbox.body_text).where(m.Outbox.to == to).order_by(m.Outbox.id.desc())).first()
    return body.split("jeton=")[1].split()[0]


def test_a_request_files_a_pending_account_establishment_and_missions_and_acknowledges_it(uow) -> None:
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
    assert receipt.ars_name == "Pays de la Loire" and receipt.missions == 1 and not receipt.joined_existing
    with uow() as session:
        user = session.get(m.User, receipt.user_id)
        establishment = session.get(m.Establishment, receipt.establishment_id)
        mission = session.scalars(sa.select(m.Mission)).one()
        outbox = session.scalars(sa.select(m.Outbox)).one()
    assert (user.status, user.phone, user.password_hash) == ("pending", "+33612345678", None)
    assert (establishment.status, establishment.department_code, establishment.city) == ("pending", "44", "NANTES")
    assert (mission.status, mission.count, mission.exp_reanimation) == ("pending", 2, True)
    assert outbox.to == "claire.moreau@chu-test.fr" and "prise en compte" in outbox.subject


def test_the_finer_finess_category_is_kept_and_other_or_unknown_stays_empty(uow) -> None:
    with uow() as session:
        ehpad = request_establishment_account(session, actor=None, now=NOW, request=a_request(
            category_code="sociaux_hebergement", finess_category_code="500"))
        other = request_establishment_account(session, actor=None, now=NOW, request=a_request(
            email="autre@chu-test.fr", identifier="440000271", finess_category_code=None))
        ars = make_actor(session, "ars", ars_code="52")
        [first, second] = sorted(pending_requests(session, actor=ars), key=lambda r: r.user_id)
    with uow() as session:
        assert session.get(m.Establishment, ehpad.establishment_id).finess_category_code == "500"
        assert session.get(m.Establishment, other.establishment_id).finess_category_code is None
    assert (first.finess_category, second.finess_category) == ("EHPAD", None)  # what the ARS reads in its queue


def test_an_unknown_finess_category_is_refused_on_its_field_and_nothing_is_saved(uow) -> None:
    with uow() as session:
        before = _counts(session)
    with pytest.raises(FormErrors) as error, uow() as session:
        request_establishment_account(session, actor=None, request=a_request(finess_category_code="999"), now=NOW)
    assert error.value.by_field() == {"finess_category_code": "Catégorie FINESS inconnue « 999 » : choisissez-la dans "
                                                              "la liste, ou « Autre / je ne sais pas »."}
    with uow() as session:
        assert _counts(session) == before


def test_a_request_without_need_files_one_mission_of_zero_people_profession_autre_dated_today(uow) -> None:
    with uow() as session:
        request_establishment_account(session, actor=None, request=a_request(missions=[]), now=NOW)
    with uow() as session:
        mission = session.scalars(sa.select(m.Mission)).one()
    assert (mission.count, mission.profession_code, mission.start_date, mission.end_date) == (0, "autre", TODAY, TODAY)


def test_every_error_is_reported_at_once_with_its_field_and_nothing_is_saved(uow) -> None:
    bad = a_request(
        email="pas-une-adresse", identifier="750100126", postal_code="44999", last_name="  ",
        missions=[MissionInput(profession_code="infirmier_de", count=-1, start_date=TODAY + timedelta(days=5),
                               end_date=TODAY + timedelta(days=1)),
                  MissionInput(profession_code="", count=1, start_date=TODAY, end_date=TODAY)],
    )
    with uow() as session:
        before = _counts(session)
    with pytest.raises(FormErrors) as error, uow() as session:
        request_establishment_account(session, actor=None, request=bad, now=NOW)
    fields = error.value.by_field()
    assert {"email", "identifier", "postal_code", "last_name", "missions.0.count", "missions.0.end_date",
            "missions.1.profession_code"} <= set(fields)
    assert "clé de contrôle" in fields["identifier"]
    assert "antérieure" in fields["missions.0.end_date"]
    with uow() as session:
        assert _counts(session) == before


@pytest.mark.parametrize("email", ["claire.moreau@chu-test.fr", "CLAIRE.Moreau@CHU-test.fr"])
def test_an_email_that_already_has_an_account_is_refused_and_nothing_is_saved(uow, email: str) -> None:
    with uow() as session:
        make_user(session, email="claire.moreau@chu-test.fr")
        before = _counts(session)
    with pytest.raises(FormErrors) as error, uow() as session:
        request_establishment_account(session, actor=None, request=a_request(email=email, identifier="010000024"), now=NOW)
    assert "existe déjà" in error.value.by_field()["email"]
    with uow() as session:
        assert _counts(session) == before


def test_a_vaccination_centre_gives_its_gid_instead_of_a_finess(uow) -> None:
    request = a_request(category_code="centre_vaccination", identifier="123456")
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=request, now=NOW)
        establishment = session.get(m.Establishment, receipt.establishment_id)
        assert (establishment.id_kind, establishment.finess) == ("gid", "123456")


def test_a_gid_with_letters_is_refused(uow) -> None:
    with pytest.raises(FormErrors) as error, uow() as session:
        request_establishment_account(session, actor=None, request=a_request(category_code="centre_vaccination",
                                                               identifier="AB12"), now=NOW)
    assert "GID" in error.value.by_field()["identifier"]


def test_a_vaccination_mission_needs_a_profession_allowed_to_vaccinate(uow) -> None:
    mission = MissionInput(profession_code="psychologue", count=1, start_date=TODAY, end_date=TODAY, vaccination=True)
    with pytest.raises(FormErrors) as error, uow() as session:
        request_establishment_account(session, actor=None, request=a_request(missions=[mission]), now=NOW)
    assert "vacciner" in error.value.by_field()["missions.0.vaccination"]


def test_a_second_account_for_a_known_finess_joins_that_establishment(uow) -> None:
    with uow() as session:
        first = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        second = request_establishment_account(session, actor=None, request=a_request(email="julien@chu-test.fr", first_name="Julien"), now=NOW)
    assert second.joined_existing and second.establishment_id == first.establishment_id


def _ars(session, code: str = "52"):
    return make_actor(session, "ars", ars_code=code)


def test_the_ars_of_the_region_sees_and_validates_the_request(uow) -> None:
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        ars = _ars(session)
        queue = pending_requests(session, actor=ars)
        assert [r.user_id for r in queue] == [receipt.user_id]
        assert queue[0].identifier_check is None and queue[0].postal_code_check is None and queue[0].ars_check is None
        assert pending_count(session, actor=ars) == 1
        validate_account(session, actor=ars, user_id=receipt.user_id, now=NOW)
    with uow() as session:
        assert session.get(m.User, receipt.user_id).status == "active"
        assert session.get(m.Establishment, receipt.establishment_id).status == "active"
        assert session.scalars(sa.select(m.Mission.status)).all() == ["open"]
        body = session.scalars(sa.select(m.Outbox.body_text).where(m.Outbox.subject.like("%validé%"))).one()
        assert "activer-mon-compte?jeton=" in body
        assert pending_count(session, actor=ars) == 0


def test_an_ars_of_another_region_can_neither_see_nor_validate_the_request(uow) -> None:
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        other = _ars(session, "11")
        assert pending_requests(session, actor=other) == []
        with pytest.raises(PermissionDenied):
            validate_account(session, actor=other, user_id=receipt.user_id, now=NOW)
        with pytest.raises(PermissionDenied):
            reject_account(session, actor=other, user_id=receipt.user_id, reason="Hors région", now=NOW)


def test_the_ccs_validates_any_region_and_establishments_cannot(uow) -> None:
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        establishment_user = make_actor(session, "etablissement")
        with pytest.raises(PermissionDenied):
            pending_requests(session, actor=establishment_user)
        with pytest.raises(PermissionDenied):
            validate_account(session, actor=establishment_user, user_id=receipt.user_id, now=NOW)
        validate_account(session, actor=make_actor(session, "ccs"), user_id=receipt.user_id, now=NOW)
        with pytest.raises(Conflict, match="déjà été traitée"):
            validate_account(session, actor=make_actor(session, "ccs"), user_id=receipt.user_id, now=NOW)


def test_a_rejection_needs_a_reason_and_frees_the_email_and_the_finess(uow) -> None:
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        ars = _ars(session)
        with pytest.raises(ValidationError, match="Motif"):
            reject_account(session, actor=ars, user_id=receipt.user_id, reason="   ", now=NOW)
    with uow() as session:
        reject_account(session, actor=_ars(session), user_id=receipt.user_id, reason="Établissement inconnu de l'ARS", now=NOW)
    with uow() as session:
        assert session.get(m.Establishment, receipt.establishment_id).status == "rejected"
        assert session.scalars(sa.select(m.Mission.status)).all() == ["closed"]
        body = session.scalars(sa.select(m.Outbox.body_text).where(m.Outbox.subject.like("%pas été retenue%"))).one()
        assert "Établissement inconnu de l'ARS" in body
        again = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        assert again.establishment_id != receipt.establishment_id and not again.joined_existing


def _validated_account(uow) -> tuple[int, str]:
    with uow() as session:
        receipt = request_establishment_account(session, actor=None, request=a_request(), now=NOW)
        validate_account(session, actor=_ars(session), user_id=receipt.user_id, now=NOW)
        return receipt.user_id, _token_from_outbox(session, "claire.moreau@chu-test.fr")


def test_the_activation_link_sets_the_password_once_and_then_sign_in_works(uow) -> None:
    _, token = _validated_account(uow)
    with uow() as session:
        owner = password_link_owner(session, token=token, now=NOW)
        assert owner.first_name == "Claire"
        assert owner.email == "claire.moreau@chu-test.fr"
        with pytest.raises(ValidationError, match="majuscule"):
            activate(session, actor=None, token=token, password="trop-simple-2026!", now=NOW)
    with uow() as session:
        assert activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW) == "claire.moreau@chu-test.fr"
    with uow() as session:
        assert authenticate(session, email="claire.moreau@chu-test.fr", password=NEW_PASSWORD, now=NOW).user
        with pytest.raises(InvalidLink, match="déjà été utilisé"):
            activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW)


def test_signing_in_before_validation_or_activation_says_why_and_locks_nothing(uow) -> None:
    with uow() as session:
        user_id = request_establishment_account(session, actor=None, request=a_request(), now=NOW).user_id
    for _ in range(6):
        with uow() as session:
            error = authenticate(session, email="claire.moreau@chu-test.fr", password=NEW_PASSWORD, now=NOW).error
            assert "en attente de validation" in error
    with uow() as session:
        validate_account(session, actor=_ars(session), user_id=user_id, now=NOW)
    with uow() as session:
        error = authenticate(session, email="claire.moreau@chu-test.fr", password=NEW_PASSWORD, now=NOW).error
        assert "pas encore activé" in error and "Mot de passe oublié ?" in error
        user = session.get(m.User, user_id)
        assert user.failed_logins == 0 and user.locked_until is None


def test_an_activation_link_expires_after_72_hours(uow) -> None:
    _, token = _validated_account(uow)
    with pytest.raises(InvalidLink, match="expiré"), uow() as session:
        activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW + timedelta(hours=72, seconds=1))
    with uow() as session:
        assert activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW + timedelta(hours=71)) == "claire.moreau@chu-test.fr"


def test_forgotten_password_sends_a_fresh_link_even_before_activation_and_cancels_the_old_one(uow) -> None:
    _, first = _validated_account(uow)
    with uow() as session:
        request_password_reset(session, actor=None, email="Claire.Moreau@chu-test.fr", now=NOW + timedelta(hours=1))
        second = _token_from_outbox(session, "claire.moreau@chu-test.fr")
    assert second != first
    with pytest.raises(InvalidLink, match="remplacé"), uow() as session:
        activate(session, actor=None, token=first, password=NEW_PASSWORD, now=NOW + timedelta(hours=2))
    with uow() as session:
        activate(session, actor=None, token=second, password=NEW_PASSWORD, now=NOW + timedelta(hours=2))


def test_forgotten_password_answers_the_same_for_unknown_and_pending_emails(uow) -> None:
    with uow() as session:
        request_establishment_account(session, actor=None, request=a_request(), now=NOW)  # pending
        before = session.scalar(sa.select(sa.func.count()).select_from(m.Outbox))
    with uow() as session:
        assert request_password_reset(session, actor=None, email="inconnu@example.org", now=NOW) is None
        assert request_password_reset(session, actor=None, email="claire.moreau@chu-test.fr", now=NOW) is None
    with uow() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Outbox)) == before


def test_a_reset_link_also_unlocks_a_locked_account(uow) -> None:
    with uow() as session:
        make_user(session, email="bloque@example.org", failed_logins=0,
                  locked_until=NOW + timedelta(minutes=10))
        request_password_reset(session, actor=None, email="bloque@example.org", now=NOW)
        token = _token_from_outbox(session, "bloque@example.org")
    with uow() as session:
        activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW)
    with uow() as session:
        assert authenticate(session, email="bloque@example.org", password=NEW_PASSWORD, now=NOW).user


def test_the_queue_flags_a_postal_code_of_another_region(uow) -> None:
    with uow() as session:
        request_establishment_account(session, actor=None, request=a_request(ars_code="53"), now=NOW)  # Nantes filed under Bretagne
        queue = pending_requests(session, actor=_ars(session, "53"))
    assert "Pays de la Loire" in queue[0].ars_check


def test_a_user_can_belong_to_several_establishments(uow) -> None:
    with uow() as session:
        first, second = make_establishment(session), make_establishment(session, postal_code="49000")
        user = make_user(session, establishment=first)
        session.add(m.Membership(user_id=user.id, establishment_id=second.id))
        session.flush()
        assert to_session_user(session, user=user).establishment_ids == (first.id, second.id)
