"""Volunteers: public registration, own profile, availability, GDPR deletion, documents' download."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access.accounts import activate
from core.shared.actor import SessionUser, to_session_user
from core.shared.errors import Conflict, FormErrors, NotFound, PermissionDenied, ValidationError
from core.shared.security import token_hash
from core.shared.validation import NeedsConfirmation, luhn_ok
from core.volunteers.professionals import (
    AvailabilityInput,
    Registration,
    RegistrationInput,
    delete_professional,
    document_for_download,
    my_profile,
    register_professional,
    replace_document,
    set_available,
    update_professional,
)
from db import models as m
from tests.factories import (
    make_actor,
    make_establishment,
    make_mission,
    make_professional,
    make_proposal,
    make_user,
)
from tests.readers import count, events

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Paris
TODAY = date(2026, 11, 23)
LATER = NOW + timedelta(days=12)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xffThis program cannot be run in DOS mode."

EMAIL = "claire.moreau@example.org"
PHONE = "+33612345678"
# What identifies Claire: none of it may reach the audit trail.
PERSONAL_VALUES = ("Claire", "Moreau", EMAIL, PHONE, "06 12 34 56 78", "0612345678", "44000", "Nantes")
RPPS = next(f"1000345678{d}" for d in range(10) if luhn_ok(f"1000345678{d}"))
RPPS_BAD_KEY = RPPS[:-1] + str((int(RPPS[-1]) + 1) % 10)
BUSY = ["en_cours", "contacte", "affecte"]


def registration(**overrides: Any) -> RegistrationInput:
    """Claire's complete, valid questionnaire; each test changes only what matters to it."""
    values: dict[str, Any] = {
        "last_name": "Moreau",
        "first_name": "Claire",
        "email": EMAIL,
        "phone": "06 12 34 56 78",
        "postal_code": "44000",
        "city": "Nantes",
        "profession_code": "infirmier_de",
        "available_week": True,
        "available_weekend": True,
        "available_from": TODAY,
        "consent": True,
        "documents": {"identite": ("carte-identite.png", PNG), "diplome": ("diplome.pdf", PDF)},
        **overrides,
    }
    return RegistrationInput(**values)


def availability(**overrides: Any) -> AvailabilityInput:
    """The "Mon profil" form filled with what Claire registered, changed by `overrides`."""
    form = registration()
    values = {f.name: getattr(form, f.name) for f in dataclasses.fields(AvailabilityInput)}
    return AvailabilityInput(**{**values, **overrides})


def register(uow, *, now: datetime = NOW, **overrides: Any) -> Registration:
    with uow() as session:
        return register_professional(session, actor=None, form=registration(**overrides), now=now)


def refused(uow, **overrides: Any) -> FormErrors:
    with pytest.raises(FormErrors) as error, uow() as session:
        register_professional(session, actor=None, form=registration(**overrides), now=NOW)
    return error.value


def row_counts(session: so.Session) -> dict[str, int]:
    return {model.__name__: count(session, model)
            for model in (m.Professional, m.User, m.Document, m.Token, m.Outbox, m.Event)}


def actor_of(session: so.Session, user_id: int) -> SessionUser:
    return to_session_user(session, user=session.get(m.User, user_id))


def volunteer(session: so.Session, **overrides: Any) -> tuple[m.Professional, SessionUser]:
    """A volunteer made by the factory (any status) with their signed-in account."""
    professional = make_professional(session, **overrides)
    user = make_user(session, "professionnel", professional_id=professional.id, email=professional.email)
    return professional, to_session_user(session, user=user)


def assert_anonymous(event: m.Event) -> None:
    text = json.dumps([event.entity_id, event.before, event.after, event.details], ensure_ascii=False).lower()
    for value in PERSONAL_VALUES:
        assert value.lower() not in text, f"{value!r} in the audit trail: {text}"


@contextmanager
def sql_statements(session: so.Session) -> Iterator[list[str]]:
    """Every SQL statement the session sends while the block runs."""
    seen: list[str] = []
    engine = session.get_bind()

    def capture(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)


# ---------------------------------------------------------------- a complete registration


def test_a_complete_registration_records_the_volunteer_where_they_live(uow) -> None:
    registered = register(uow)
    with uow() as session:
        professional = session.get(m.Professional, registered.professional_id)
        assert (professional.first_name, professional.last_name, professional.email) == ("Claire", "Moreau", EMAIL)
        assert professional.phone == PHONE
        assert (professional.postal_code, professional.city) == ("44000", "NANTES")
        assert (professional.department_code, professional.ars_code) == ("44", "52")
        assert professional.status == "disponible"
        assert professional.status_since == professional.consent_at == NOW
        assert professional.availability_confirmed_at == professional.created_at == NOW
        assert professional.available_from == TODAY
        assert professional.possible_duplicate_of is None
        assert (professional.id_type, professional.id_number) == ("none", None)
    assert registered.email == EMAIL


def test_a_complete_registration_stores_both_documents_with_their_sha256(uow) -> None:
    registered = register(uow)
    with uow() as session:
        documents = session.scalars(sa.select(m.Document).where(
            m.Document.professional_id == registered.professional_id).order_by(m.Document.kind)).all()
        assert [(d.kind, d.filename, d.mime, d.size) for d in documents] == [
            ("diplome", "diplome.pdf", "application/pdf", len(PDF)),
            ("identite", "carte-identite.png", "image/png", len(PNG)),
        ]
        assert [d.sha256 for d in documents] == [hashlib.sha256(PDF).hexdigest(), hashlib.sha256(PNG).hexdigest()]
        assert [d.content for d in documents] == [PDF, PNG]


def test_a_complete_registration_opens_an_active_account_without_a_password(uow) -> None:
    registered = register(uow)
    with uow() as session:
        user = session.get(m.User, registered.user_id)
        assert (user.email, user.first_name, user.last_name, user.phone) == (EMAIL, "Claire", "Moreau", PHONE)
        assert (user.role, user.status, user.password_hash) == ("professionnel", "active", None)
        assert user.professional_id == registered.professional_id
        assert count(session, m.User) == 1


def test_a_complete_registration_emails_a_single_activation_link(uow) -> None:
    registered = register(uow)
    with uow() as session:
        token = session.scalars(sa.select(m.Token)).one()
        outbox = session.scalars(sa.select(m.Outbox)).one()
    assert (token.user_id, token.purpose) == (registered.user_id, "activation")
    assert token.expires_at == NOW + timedelta(hours=72) and token.used_at is None
    assert outbox.to == EMAIL
    assert outbox.subject == "Renfort RH — merci pour votre inscription"
    assert "Bonjour Claire," in outbox.body_text
    raw = re.search(r"activer-mon-compte\?jeton=([\w-]+)", outbox.body_text).group(1)
    assert token_hash(raw) == token.token_hash  # the link is the stored token, only its hash is kept
    assert f"activer-mon-compte?jeton={raw}" in outbox.body_html


def test_the_link_of_the_welcome_email_lets_the_volunteer_choose_a_password(uow) -> None:
    register(uow)
    with uow() as session:
        raw = re.search(r"jeton=([\w-]+)", session.scalars(sa.select(m.Outbox.body_text)).one()).group(1)
        assert activate(session, actor=None, token=raw, password="Infirmiere-Nantes-2026!", now=NOW + timedelta(hours=1)) == EMAIL


def test_a_complete_registration_is_recorded_in_the_audit_trail_without_personal_values(uow) -> None:
    registered = register(uow)
    with uow() as session:
        [event] = events(session, "registered")
    assert (event.entity, event.entity_id, event.actor_user_id) == ("professional", str(registered.professional_id), None)
    assert (event.after, event.at) == ("disponible", NOW)
    assert event.details == {"documents": ["identite", "diplome"], "possible_duplicate_of": None,
                             "duplicate_fields": []}
    assert_anonymous(event)


def test_the_availability_starts_on_todays_date_in_paris_when_not_given(uow) -> None:
    late_evening = datetime(2026, 11, 23, 23, 30, tzinfo=timezone.utc)  # already the 24th in Paris
    registered = register(uow, now=late_evening, available_from=None)
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).available_from == date(2026, 11, 24)


def test_dates_typed_as_french_text_are_understood(uow) -> None:
    registered = register(uow, available_from="01/12/2026", available_to="31/12/2026")
    with uow() as session:
        professional = session.get(m.Professional, registered.professional_id)
        assert (professional.available_from, professional.available_to) == (date(2026, 12, 1), date(2026, 12, 31))


# ---------------------------------------------------------------- refused registrations


def test_every_field_error_is_reported_at_once(uow) -> None:
    errors = refused(
        uow, consent=False, phone="12 34", postal_code="99999", city="", profession_code="astronaute",
        available_week=False, available_weekend=False, available_from=TODAY + timedelta(days=10),
        available_to=TODAY + timedelta(days=5), volunteer_vaccination=True,
    ).by_field()
    assert errors == {
        "consent": "Votre accord est nécessaire pour enregistrer votre inscription.",
        "phone": "Le numéro de téléphone « 12 34 » n'est pas un numéro français valide "
                 "(exemples : 06 12 34 56 78, +33 6 12 34 56 78, 0690 12 34 56).",
        "postal_code": "Le code postal 99999 n'existe pas dans la base de La Poste.",
        "profession_code": "Choisissez votre profession.",
        "available_week": "Indiquez au moins une disponibilité : en semaine ou le week-end.",
        "available_to": "La fin de disponibilité est antérieure à son début.",
        "volunteer_vaccination": "Votre profession n'est pas autorisée à vacciner.",
    }


def test_volunteering_to_vaccinate_is_refused_to_a_profession_not_eligible(uow) -> None:
    errors = refused(uow, profession_code="psychologue", volunteer_vaccination=True).by_field()
    assert errors == {"volunteer_vaccination": "Votre profession n'est pas autorisée à vacciner."}


def test_a_nurse_may_volunteer_to_vaccinate(uow) -> None:
    registered = register(uow, volunteer_vaccination=True)
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).volunteer_vaccination is True


def test_identity_fields_and_choices_are_required(uow) -> None:
    errors = refused(uow, last_name=" ", first_name="", email="claire@", activity_type="?", mobility="partout",
                     id_type="siret").by_field()
    assert set(errors) == {"last_name", "first_name", "email", "activity_type", "mobility", "id_type"}
    assert errors["last_name"] == "Le champ « Nom » est obligatoire."
    assert errors["mobility"] == "Choisissez votre mobilité."
    assert errors["id_type"] == "Choisissez le type d'identifiant professionnel."


def test_a_city_that_does_not_match_the_postal_code_is_refused_with_the_communes_of_that_code(uow) -> None:
    errors = refused(uow, city="Rennes").by_field()
    assert set(errors) == {"city"}
    assert "La ville « Rennes » ne correspond pas au code postal 44000" in errors["city"]
    assert "NANTES" in errors["city"]


def test_an_availability_that_has_already_ended_is_refused(uow) -> None:
    errors = refused(uow, available_from=TODAY - timedelta(days=10), available_to=TODAY - timedelta(days=1))
    assert errors.by_field() == {"available_to": "La fin de disponibilité est déjà passée."}


def test_missing_documents_are_both_asked_for(uow) -> None:
    errors = refused(uow, documents={}).by_field()
    assert errors == {
        "document_identite": "Joignez votre pièce d'identité (PDF, JPEG ou PNG, 5 Mo au plus).",
        "document_diplome": "Joignez votre diplôme (PDF, JPEG ou PNG, 5 Mo au plus).",
    }


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_saved(uow) -> None:
    errors = refused(uow, documents={"identite": ("carte.png", PNG), "diplome": ("diplome.pdf", EXE)})
    assert errors.by_field() == {
        "document_diplome": "Diplôme : le fichier « diplome.pdf » n'est ni un PDF, ni une image JPEG ou PNG "
                            "(contenu vérifié).",
    }
    with uow() as session:
        assert set(row_counts(session).values()) == {0}


def test_a_six_megabyte_document_is_refused_with_the_5_mo_limit(uow) -> None:
    big = PDF + b"0" * (6 * 1024 * 1024 - len(PDF))
    errors = refused(uow, documents={"identite": ("carte.png", PNG), "diplome": ("scan.pdf", big)}).by_field()
    assert errors == {"document_diplome": "Diplôme : le fichier « scan.pdf » pèse 6,0 Mo ; la limite est de 5 Mo."}


def test_an_empty_document_is_refused(uow) -> None:
    errors = refused(uow, documents={"identite": ("carte.pdf", b""), "diplome": ("diplome.pdf", PDF)}).by_field()
    assert errors == {"document_identite": "Pièce d'identité : le fichier « carte.pdf » est vide."}


def test_a_png_named_pdf_is_accepted_and_stored_as_a_png(uow) -> None:
    registered = register(uow, documents={"identite": ("carte.pdf", PNG), "diplome": ("diplome.pdf", PDF)})
    with uow() as session:
        document = session.scalars(sa.select(m.Document).where(
            m.Document.professional_id == registered.professional_id, m.Document.kind == "identite")).one()
        assert (document.filename, document.mime) == ("carte.pdf", "image/png")


def test_document_errors_come_with_the_other_field_errors(uow) -> None:
    errors = refused(uow, consent=False, documents={"diplome": ("diplome.pdf", EXE)}).by_field()
    assert set(errors) == {"consent", "document_identite", "document_diplome"}


# ---------------------------------------------------------------- e-mail already known


@pytest.mark.parametrize("typed", [EMAIL, "Claire.Moreau@Example.org", "CLAIRE.MOREAU@EXAMPLE.ORG", f"  {EMAIL} "])
def test_an_email_already_registered_is_refused_in_any_letter_case_and_nothing_is_saved(uow, typed: str) -> None:
    register(uow)
    with uow() as session:
        before = row_counts(session)
    errors = refused(uow, email=typed, phone="07 11 22 33 44")
    assert errors.by_field() == {
        "email": "Une inscription existe déjà avec cette adresse électronique : connectez-vous ou utilisez "
                 "« Mot de passe oublié ? » pour la mettre à jour.",
    }
    with uow() as session:
        assert row_counts(session) == before


def test_an_email_of_a_volunteer_without_an_account_is_refused_in_any_letter_case(uow) -> None:
    with uow() as session:
        make_professional(session, email="Claire.Moreau@Example.org")  # e.g. loaded by an import, no User row
    assert set(refused(uow, email=EMAIL).by_field()) == {"email"}
    with uow() as session:
        assert (count(session, m.Professional), count(session, m.User)) == (1, 0)


@pytest.mark.parametrize("status", ["pending", "active", "disabled"])
def test_an_email_of_another_kind_of_account_is_refused_and_nothing_is_saved(uow, status: str) -> None:
    with uow() as session:
        make_user(session, "etablissement", email="Claire.Moreau@Example.org", status=status)
    errors = refused(uow, email=EMAIL.upper())
    assert set(errors.by_field()) == {"email"}
    with uow() as session:
        assert (count(session, m.Professional), count(session, m.User), count(session, m.Document),
                count(session, m.Outbox), count(session, m.Token), count(session, m.Event)) == (0, 1, 0, 0, 0, 0)


def test_the_email_of_a_rejected_account_request_is_free_again(uow) -> None:
    with uow() as session:
        make_user(session, "etablissement", email=EMAIL, status="rejected")
    registered = register(uow)
    with uow() as session:
        assert session.get(m.User, registered.user_id).email == EMAIL
        assert count(session, m.User) == 2


def test_a_registration_racing_another_with_the_same_email_gets_a_clear_conflict(uow, monkeypatch) -> None:
    register(uow)
    monkeypatch.setattr("core.volunteers.professionals._email_in_use", lambda *_: False)  # the other one committed meanwhile
    with pytest.raises(Conflict, match="vient d'être enregistrée"), uow() as session:
        register_professional(session, actor=None, form=registration(), now=NOW)
    with uow() as session:
        assert count(session, m.Professional) == 1


# ---------------------------------------------------------------- probable duplicates


def test_the_same_phone_as_an_earlier_volunteer_is_accepted_but_flagged(uow) -> None:
    with uow() as session:
        earlier = make_professional(session, phone=PHONE).id
    registered = register(uow, email="c.moreau@example.org")
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).possible_duplicate_of == earlier
        [event] = events(session, "registered")
    assert event.details["possible_duplicate_of"] == earlier
    assert event.details["duplicate_fields"] == ["phone"]
    assert_anonymous(event)


def test_the_same_rpps_as_an_earlier_volunteer_is_accepted_but_flagged(uow) -> None:
    with uow() as session:
        earlier = make_professional(session, phone="+33700000001", id_type="rpps", id_number=RPPS).id
    registered = register(uow, email="c.moreau@example.org", id_type="rpps", id_number=RPPS)
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).possible_duplicate_of == earlier
        assert events(session, "registered")[0].details["duplicate_fields"] == ["id_number"]


def test_a_volunteer_matching_on_phone_and_rpps_lists_both_fields(uow) -> None:
    with uow() as session:
        earlier = make_professional(session, phone=PHONE, id_type="rpps", id_number=RPPS).id
    register(uow, email="c.moreau@example.org", id_type="rpps", id_number="8" + RPPS)
    with uow() as session:
        details = events(session, "registered")[0].details
    assert details == {"documents": ["identite", "diplome"], "possible_duplicate_of": earlier,
                       "duplicate_fields": ["phone", "id_number"]}


def test_a_deleted_volunteer_is_never_a_duplicate(uow) -> None:
    with uow() as session:
        make_professional(session, phone=PHONE, status="supprime", id_type="rpps", id_number=RPPS)
    registered = register(uow, id_type="rpps", id_number=RPPS)
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).possible_duplicate_of is None
        assert events(session, "registered")[0].details["duplicate_fields"] == []


# ---------------------------------------------------------------- RPPS and ADELI


def test_an_rpps_with_a_wrong_key_asks_for_confirmation_on_the_id_number(uow) -> None:
    errors = refused(uow, id_type="rpps", id_number=RPPS_BAD_KEY)
    assert set(errors.by_field()) == {"id_number"}
    assert "Je confirme ce numéro" in errors.by_field()["id_number"]
    assert isinstance(errors.errors[0], NeedsConfirmation)  # the page shows the confirmation box
    with uow() as session:
        assert count(session, m.Professional) == 0


def test_a_confirmed_rpps_with_a_wrong_key_is_accepted(uow) -> None:
    registered = register(uow, id_type="rpps", id_number=RPPS_BAD_KEY, rpps_confirmed=True)
    with uow() as session:
        professional = session.get(m.Professional, registered.professional_id)
        assert (professional.id_type, professional.id_number) == ("rpps", RPPS_BAD_KEY)


def test_a_12_digit_national_identifier_is_stored_as_the_rpps(uow) -> None:
    registered = register(uow, id_type="rpps", id_number="8" + RPPS)
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).id_number == RPPS


def test_a_malformed_rpps_is_refused_even_when_confirmed(uow) -> None:
    errors = refused(uow, id_type="rpps", id_number="1234", rpps_confirmed=True).by_field()
    assert errors == {"id_number": "Le numéro RPPS « 1234 » doit compter 11 chiffres et commencer par 1."}


def test_an_adeli_number_is_stored_upper_cased(uow) -> None:
    registered = register(uow, id_type="adeli", id_number="2a 123 4567")
    with uow() as session:
        professional = session.get(m.Professional, registered.professional_id)
        assert (professional.id_type, professional.id_number) == ("adeli", "2A1234567")


def test_a_number_typed_without_choosing_an_identifier_type_is_not_kept(uow) -> None:
    registered = register(uow, id_type="none", id_number="not a number")
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).id_number is None


# ---------------------------------------------------------------- my profile


def test_my_profile_shows_everything_registered_and_the_documents_without_their_content(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
    with uow() as session, sql_statements(session) as statements:
        profile = my_profile(session, actor=actor, now=NOW)
    assert profile.professional["email"] == EMAIL
    assert profile.professional["phone"] == PHONE
    assert [(d["kind"], d["filename"], d["mime"], d["size"]) for d in profile.documents] == [
        ("identite", "carte-identite.png", "image/png", len(PNG)),
        ("diplome", "diplome.pdf", "application/pdf", len(PDF)),
    ]
    assert all("content" not in d for d in profile.documents)
    assert any("document" in s.lower() for s in statements)  # the documents were listed from the database…
    assert not any(re.search(r"\bcontent\b", s) for s in statements)  # …without reading their content
    assert profile.stale is False


def test_a_profile_unconfirmed_for_more_than_30_days_is_stale_as_matching_says(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        assert my_profile(session, actor=actor, now=NOW + timedelta(days=30)).stale is False
        assert my_profile(session, actor=actor, now=NOW + timedelta(days=30, seconds=1)).stale is True


def test_my_profile_is_only_for_volunteers(uow) -> None:
    with uow() as session:
        establishment_user = make_actor(session, "etablissement")
        with pytest.raises(PermissionDenied, match="réservée aux professionnels volontaires"):
            my_profile(session, actor=establishment_user, now=NOW)
        with pytest.raises(PermissionDenied, match="Connectez-vous"):
            my_profile(session, actor=None, now=NOW)


# ---------------------------------------------------------------- profile update


def test_a_profile_update_changes_only_the_given_fields_and_confirms_availability(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        before = my_profile(session, actor=actor, now=NOW).professional
    with uow() as session:
        changed = update_professional(session, actor=actor, data=availability(phone="07 11 22 33 44", has_vehicle=True,
                                                                   mobility="regionale"), now=LATER)
    assert changed == ["has_vehicle", "mobility", "phone"]
    with uow() as session:
        after = my_profile(session, actor=actor, now=LATER).professional
    assert (after["phone"], after["has_vehicle"], after["mobility"]) == ("+33711223344", True, "regionale")
    assert after["availability_confirmed_at"] == LATER
    untouched = set(before) - {"phone", "has_vehicle", "mobility", "availability_confirmed_at"}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}


def test_a_profile_update_records_the_changed_field_names_and_no_value(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        update_professional(session, actor=actor, data=availability(phone="07 11 22 33 44", message="Dispo la nuit"), now=LATER)
    with uow() as session:
        [event] = events(session, "profile_updated")
    assert (event.actor_user_id, event.entity_id, event.at) == (registered.user_id, str(registered.professional_id),
                                                                LATER)
    assert event.details == {"fields": ["message", "phone"]}
    text = json.dumps(event.details)
    assert "33711223344" not in text and "nuit" not in text


def test_an_unchanged_profile_still_confirms_the_availability(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        assert update_professional(session, actor=actor, data=availability(), now=LATER) == []
    with uow() as session:
        assert session.get(m.Professional, registered.professional_id).availability_confirmed_at == LATER
        assert events(session, "profile_updated")[0].details == {"fields": []}
        assert my_profile(session, actor=actor, now=LATER + timedelta(days=29)).stale is False


def test_moving_to_paris_moves_the_volunteer_to_the_ars_ile_de_france(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        changed = update_professional(session, actor=actor, data=availability(postal_code="75001", city=""), now=LATER)
        professional = session.get(m.Professional, registered.professional_id)
        assert (professional.postal_code, professional.department_code, professional.ars_code) == ("75001", "75", "11")
    assert {"postal_code", "city", "department_code", "ars_code", "lat", "lon"} <= set(changed)


def test_a_profile_update_with_errors_changes_nothing(uow) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
    with pytest.raises(FormErrors) as error, uow() as session:
        update_professional(session, actor=actor, data=availability(phone="12", available_week=False, available_weekend=False,
                                                         available_to=TODAY - timedelta(days=1)), now=LATER)
    assert set(error.value.by_field()) == {"phone", "available_week", "available_to"}
    with uow() as session:
        professional = session.get(m.Professional, registered.professional_id)
        assert (professional.phone, professional.availability_confirmed_at) == (PHONE, NOW)
        assert events(session, "profile_updated") == []


def test_a_profile_update_checks_vaccination_against_the_registered_profession(uow) -> None:
    registered = register(uow, profession_code="psychologue")
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        with pytest.raises(FormErrors) as error:
            update_professional(session, actor=actor, data=availability(volunteer_vaccination=True), now=LATER)
    assert set(error.value.by_field()) == {"volunteer_vaccination"}


# ---------------------------------------------------------------- pause and resume


def test_a_volunteer_can_pause_then_resume(uow) -> None:
    with uow() as session:
        professional, actor = volunteer(session, status="disponible", status_since=NOW - timedelta(days=5))
    with uow() as session:
        assert set_available(session, actor=actor, available=False, now=NOW) == "indisponible"
    with uow() as session:
        row = session.get(m.Professional, professional.id)
        assert (row.status, row.status_since, row.availability_confirmed_at) == ("indisponible", NOW, NOW)
        assert set_available(session, actor=actor, available=True, now=LATER) == "disponible"
    with uow() as session:
        row = session.get(m.Professional, professional.id)
        assert (row.status, row.status_since) == ("disponible", LATER)
        changes = [(e.before, e.after, e.actor_user_id) for e in events(session, "availability_changed")]
    assert changes == [("disponible", "indisponible", actor.id), ("indisponible", "disponible", actor.id)]


def test_pausing_again_changes_nothing_but_confirms_the_availability(uow) -> None:
    with uow() as session:
        professional, actor = volunteer(session, status="indisponible", status_since=NOW)
    with uow() as session:
        assert set_available(session, actor=actor, available=False, now=LATER) == "indisponible"
        row = session.get(m.Professional, professional.id)
        assert (row.status_since, row.availability_confirmed_at) == (NOW, LATER)
        assert events(session, "availability_changed") == []


@pytest.mark.parametrize(("status", "explanation"), [
    ("en_cours", "une ARS vous a proposé(e) à un établissement : déclinez d'abord cette proposition dans "
                 "« Mes missions »"),
    ("contacte", "un établissement vous a réservé(e) : déclinez d'abord cette réservation dans « Mes missions »"),
    ("affecte", "vous êtes affecté(e) à une mission en cours : l'établissement doit d'abord annuler l'affectation"),
])
def test_availability_cannot_change_while_a_proposal_is_live(uow, status: str, explanation: str) -> None:
    with uow() as session:
        professional, actor = volunteer(session, status=status)
    for available in (True, False):
        with pytest.raises(Conflict) as error, uow() as session:
            set_available(session, actor=actor, available=available, now=NOW)
        assert error.value.message == f"Impossible de changer votre disponibilité : {explanation}."
    with uow() as session:
        assert session.get(m.Professional, professional.id).status == status


def test_only_a_volunteer_can_pause_their_own_availability(uow) -> None:
    with uow() as session:
        ars = make_actor(session, "ars")
        with pytest.raises(PermissionDenied):
            set_available(session, actor=ars, available=False, now=NOW)


# ---------------------------------------------------------------- deletion (GDPR)


def _deleted(uow) -> tuple[Registration, SessionUser]:
    registered = register(uow, id_type="rpps", id_number=RPPS, specialty="Urgences", message="Disponible la nuit",
                          available_to=TODAY + timedelta(days=60))
    with uow() as session:
        actor = actor_of(session, registered.user_id)
        delete_professional(session, actor=actor, now=LATER)
    return registered, actor


def test_deletion_anonymises_the_volunteer_and_keeps_only_statistics(uow) -> None:
    registered, _ = _deleted(uow)
    with uow() as session:
        row = session.get(m.Professional, registered.professional_id)
        assert (row.first_name, row.last_name) == ("Volontaire", "supprimé")
        assert row.email == f"supprime-{row.id}@anonyme.invalid"
        assert (row.phone, row.postal_code, row.city) == ("", "", "")
        assert (row.id_type, row.id_number, row.specialty, row.message, row.available_to) == (
            "none", None, None, None, None)
        assert (row.status, row.status_since) == ("supprime", LATER)
        departement = session.get(m.Departement, "44")
        assert (row.lat, row.lon) == (departement.lat, departement.lon)  # no longer the commune's point
        assert (row.department_code, row.ars_code, row.profession_code) == ("44", "52", "infirmier_de")
        values = json.dumps({c.key: str(getattr(row, c.key)) for c in m.Professional.__table__.columns}).lower()
    for value in PERSONAL_VALUES + (RPPS, "urgences", "nuit"):
        assert value.lower() not in values


def test_deletion_deletes_the_documents_and_closes_the_account(uow) -> None:
    registered, _ = _deleted(uow)
    with uow() as session:
        assert count(session, m.Document) == 0
        user = session.get(m.User, registered.user_id)
        assert (user.status, user.password_hash, user.phone) == ("disabled", None, None)
        assert (user.first_name, user.last_name) == ("Volontaire", "supprimé")
        assert user.email == f"supprime-{registered.professional_id}@anonyme.invalid"


def test_deletion_erases_the_volunteers_emails_and_cancels_their_links(uow) -> None:
    registered, _ = _deleted(uow)
    with uow() as session:
        outbox = session.scalars(sa.select(m.Outbox)).all()
        assert all(row.to != registered.email for row in outbox)
        assert not any(value.lower() in (row.body_text + row.to).lower() for row in outbox for value in PERSONAL_VALUES)
        live_tokens = session.scalars(sa.select(m.Token).where(
            m.Token.user_id == registered.user_id, m.Token.used_at.is_(None), m.Token.cancelled_at.is_(None))).all()
        assert live_tokens == []


def test_deletion_keeps_an_anonymous_audit_trail(uow) -> None:
    registered, actor = _deleted(uow)
    with uow() as session:
        trail = session.scalars(sa.select(m.Event).where(
            m.Event.entity == "professional", m.Event.entity_id == str(registered.professional_id))
            .order_by(m.Event.id)).all()
    assert [e.action for e in trail] == ["registered", "deleted"]
    assert (trail[1].before, trail[1].after, trail[1].actor_user_id, trail[1].at) == (
        "disponible", "supprime", actor.id, LATER)
    for event in trail:
        assert_anonymous(event)


def test_a_deleted_volunteer_is_signed_out_of_their_profile_and_their_documents(uow) -> None:
    registered, actor = _deleted(uow)
    with uow() as session:
        with pytest.raises(NotFound, match="Votre inscription est introuvable"):
            my_profile(session, actor=actor, now=LATER)
        with pytest.raises(NotFound):
            delete_professional(session, actor=actor, now=LATER)
        with pytest.raises(NotFound, match="Ce document n'existe plus"):
            document_for_download(session, actor=actor, document_id=1)


def test_after_deletion_the_same_person_can_register_again(uow) -> None:
    registered, _ = _deleted(uow)
    again = register(uow, id_type="rpps", id_number=RPPS)
    assert again.professional_id != registered.professional_id
    with uow() as session:
        assert session.get(m.Professional, again.professional_id).possible_duplicate_of is None


@pytest.mark.parametrize("status", BUSY)
def test_deletion_is_refused_while_a_proposal_is_live(uow, status: str) -> None:
    registered = register(uow)
    with uow() as session:
        session.get(m.Professional, registered.professional_id).status = status
        actor = actor_of(session, registered.user_id)
    with pytest.raises(Conflict) as error, uow() as session:
        delete_professional(session, actor=actor, now=LATER)
    assert error.value.message.startswith("Vos données ne peuvent pas être supprimées maintenant : ")
    with uow() as session:
        row = session.get(m.Professional, registered.professional_id)
        assert (row.status, row.email) == (status, EMAIL)
        assert count(session, m.Document) == 2
        assert session.get(m.User, registered.user_id).status == "active"


def test_a_paused_volunteer_can_delete_their_data(uow) -> None:
    with uow() as session:
        professional, actor = volunteer(session, status="indisponible")
        delete_professional(session, actor=actor, now=NOW)
        assert session.get(m.Professional, professional.id).status == "supprime"
        assert events(session, "deleted")[0].before == "indisponible"


# ---------------------------------------------------------------- who may download a document


def _document_of_claire(uow) -> tuple[int, SessionUser]:
    registered = register(uow)
    with uow() as session:
        document_id = session.scalar(sa.select(m.Document.id).where(m.Document.kind == "diplome"))
        return document_id, actor_of(session, registered.user_id)


def test_a_volunteer_can_download_their_own_document(uow) -> None:
    document_id, claire = _document_of_claire(uow)
    with uow() as session:
        document = document_for_download(session, actor=claire, document_id=document_id)
        assert (document.filename, document.mime, document.content) == ("diplome.pdf", "application/pdf", PDF)


def test_a_volunteer_cannot_read_another_volunteers_document(uow) -> None:
    document_id, _ = _document_of_claire(uow)
    with uow() as session:
        _, other = volunteer(session, phone="+33700000002")
        with pytest.raises(PermissionDenied, match="Vous n'avez pas accès à ce document."):
            document_for_download(session, actor=other, document_id=document_id)


def test_the_ars_of_the_volunteers_region_can_read_the_document(uow) -> None:
    document_id, _ = _document_of_claire(uow)
    with uow() as session:
        ars = make_actor(session, "ars", ars_code="52")
        assert document_for_download(session, actor=ars, document_id=document_id).content == PDF


def test_the_ars_of_another_region_cannot_read_the_document(uow) -> None:
    document_id, _ = _document_of_claire(uow)
    with uow() as session:
        ars = make_actor(session, "ars", ars_code="11")
        with pytest.raises(PermissionDenied):
            document_for_download(session, actor=ars, document_id=document_id)


# Issue 12: admins see no identity document, nor any other (the ARS of the region checks them).
@pytest.mark.parametrize(("role", "allowed"), [("ccs", True), ("admin", False), ("ministere", False),
                                                ("etablissement", False)])
def test_the_ccs_reads_documents_but_not_the_ministry_nor_admins(uow, role: str, allowed: bool) -> None:
    document_id, _ = _document_of_claire(uow)
    with uow() as session:
        actor = make_actor(session, role)
        if allowed:
            assert document_for_download(session, actor=actor, document_id=document_id).content == PDF
        else:
            with pytest.raises(PermissionDenied):
                document_for_download(session, actor=actor, document_id=document_id)


def test_an_unknown_document_and_an_anonymous_visitor_are_refused(uow) -> None:
    document_id, claire = _document_of_claire(uow)
    with uow() as session:
        with pytest.raises(NotFound, match="Ce document n'existe plus."):
            document_for_download(session, actor=claire, document_id=document_id + 1000)
        with pytest.raises(PermissionDenied, match="Connectez-vous"):
            document_for_download(session, actor=None, document_id=document_id)


# Who downloads Claire's diploma (Nantes, region 52): "etablissement_lie" has contacted her for one of its
# missions, "etablissement" has not; "professionnel" is Claire herself, "autre_professionnel" someone else.
DOWNLOADERS = {"anonyme": False, "professionnel": True, "autre_professionnel": False, "etablissement": False,
               "etablissement_lie": True, "pool": False, "ars": True, "ars_autre_region": False, "ccs": True,
               "ministere": False, "admin": False}


def _downloader(session: so.Session, who: str, claire: SessionUser) -> SessionUser | None:
    if who in ("anonyme", "professionnel"):
        return None if who == "anonyme" else claire
    if who == "autre_professionnel":
        return volunteer(session, phone="+33700000002")[1]
    if who == "etablissement_lie":
        establishment = make_establishment(session)
        hr = make_user(session, establishment=establishment)
        make_proposal(session, make_mission(session, establishment, hr), session.get(m.Professional,
                                                                                     claire.professional_id))
        return to_session_user(session, user=hr)
    if who == "etablissement":
        return to_session_user(session, user=make_user(session, establishment=make_establishment(session)))
    return make_actor(session, "ars", ars_code="11") if who == "ars_autre_region" else make_actor(session, who)


@pytest.mark.parametrize("who", DOWNLOADERS)
def test_each_download_of_a_document_is_recorded_and_a_refusal_records_nothing(uow, who: str) -> None:
    document_id, claire = _document_of_claire(uow)
    with uow() as session:
        actor = _downloader(session, who, claire)
        if DOWNLOADERS[who]:
            assert document_for_download(session, actor=actor, document_id=document_id, now=LATER).content == PDF
        else:
            with pytest.raises(PermissionDenied):
                document_for_download(session, actor=actor, document_id=document_id, now=LATER)
        trail = events(session, "document_downloaded")
    if not DOWNLOADERS[who]:
        assert trail == []
        return
    [event] = trail
    assert (event.actor_user_id, event.entity, event.entity_id, event.at, event.ars_code) == (
        actor.id, "professional", str(claire.professional_id), LATER, "52")
    assert event.details == {"document_id": document_id, "kind": "diplome"}
    assert_anonymous(event)


# ---------------------------------------------------------------- replacing a document


def _documents(session: so.Session, professional_id: int) -> list[tuple[str, str, bytes]]:
    return [(d.kind, d.filename, d.content) for d in session.scalars(
        sa.select(m.Document).where(m.Document.professional_id == professional_id).order_by(m.Document.kind))]


def test_a_new_diploma_replaces_the_old_one_and_the_ars_must_check_it_again(uow) -> None:
    registered = register(uow)
    with uow() as session:
        session.get(m.Professional, registered.professional_id).verified = True
        actor = actor_of(session, registered.user_id)
    new_diploma = PDF + b"% diplome 2026\n"
    with uow() as session:
        assert replace_document(session, actor=actor, kind="diplome", filename=" diplôme 2026.pdf ", content=new_diploma, now=LATER) is True
    with uow() as session:
        assert _documents(session, registered.professional_id) == [
            ("diplome", "diplôme 2026.pdf", new_diploma), ("identite", "carte-identite.png", PNG)]
        assert session.get(m.Professional, registered.professional_id).verified is False
        [event] = events(session, "document_replaced")
        assert event.actor_user_id == registered.user_id and event.entity_id == str(registered.professional_id)
        assert event.details == {"kind": "diplome", "size": len(new_diploma), "unverified": True}
        assert_anonymous(event)
    with uow() as session:  # not verified any more: nothing to take away the second time
        assert replace_document(session, actor=actor, kind="diplome", filename="encore.pdf", content=PDF, now=LATER) is False


def test_a_missing_document_can_be_added_from_the_profile(uow) -> None:
    with uow() as session:
        professional, actor = volunteer(session)
        replace_document(session, actor=actor, kind="identite", filename="passeport.png", content=PNG, now=NOW)
    with uow() as session:
        assert _documents(session, professional.id) == [("identite", "passeport.png", PNG)]
        assert [e.entity_id for e in events(session, "document_added")] == [str(professional.id)]


@pytest.mark.parametrize(("kind", "filename", "content", "field", "message"), [
    ("diplome", "diplome.pdf", EXE, "document", "Diplôme : le fichier « diplome.pdf » n'est ni un PDF"),
    ("diplome", "diplome.pdf", b"", "document", "Diplôme : le fichier « diplome.pdf » est vide."),
    ("diplome", "gros.pdf", PDF.ljust(5 * 1024 * 1024 + 1, b" "), "document", "pèse 5,1 Mo ; la limite est de 5 Mo"),
    ("cv", "cv.pdf", PDF, "document_kind", "Choisissez le justificatif à remplacer"),
])
def test_a_bad_replacement_names_the_field_and_keeps_the_old_file(uow, kind, filename, content, field,
                                                                    message) -> None:
    registered = register(uow)
    with uow() as session:
        actor = actor_of(session, registered.user_id)
    with pytest.raises(ValidationError) as error, uow() as session:
        replace_document(session, actor=actor, kind=kind, filename=filename, content=content, now=LATER)
    assert error.value.field == field and message in error.value.message
    with uow() as session:
        assert [d[:2] for d in _documents(session, registered.professional_id)] == [
            ("diplome", "diplome.pdf"), ("identite", "carte-identite.png")]


def test_only_the_volunteer_replaces_their_own_documents(uow) -> None:
    registered = register(uow)
    with uow() as session:
        ars = make_actor(session, "ars")
        with pytest.raises(PermissionDenied, match="réservée aux professionnels volontaires"):
            replace_document(session, actor=ars, kind="diplome", filename="faux.pdf", content=PDF, now=LATER)
        with pytest.raises(PermissionDenied, match="Connectez-vous"):
            replace_document(session, actor=None, kind="diplome", filename="faux.pdf", content=PDF, now=LATER)
    with uow() as session:
        assert [d[1] for d in _documents(session, registered.professional_id)] == ["diplome.pdf", "carte-identite.png"]
