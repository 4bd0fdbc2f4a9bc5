"""Rows of the authorisation table for core/volunteers: registration, « Mon profil », the volunteer's sheet and
documents, personal data (GDPR) and the « Toujours disponible ? » link.

Registering is public: anyone, signed in or not, fills the questionnaire. A volunteer's own data — profile,
changes, pause, deletion, documents replaced, « Mes missions », the .zip of their data — is theirs alone
(« professionnel » here is the world's nurse herself). Her sheet (issue 12, DESIGN §4) opens for the
establishments of an open mission she is a candidate for (public fields) or linked to (contact, file and
documents), the ARS of her region and the CCS (everything), admins (public fields and contact, no document);
never for the ministry (pseudonymised data only), never for herself (« Mon profil »). A document downloads for
its owner and whoever sees it on the sheet: an establishment she is linked to, her ARS, the CCS — never an
admin nor the ministry. Purging inactive volunteers: admins (and the command line). The « Toujours
disponible ? » link needs no sign-in: whoever holds its single-use token answers.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.access.tokens import issue_token
from core.shared.actor import SessionUser
from core.volunteers import freshness, privacy, professionals
from db import models as m
from tests.factories import NOW, TODAY, make_professional
from tests.services.authorisation.world import (
    EVERYONE,
    Service,
    World,
    last_action,
    professional,
    proposal,
    user,
)

VOLUNTEER = frozenset({"professionnel"})
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
EMAIL = "claire.moreau@example.org"
MESSAGE = "Disponible aussi de nuit."
OWN = "ses propres données seulement (le volontaire connecté)"


def _registration() -> professionals.RegistrationInput:
    return professionals.RegistrationInput(
        last_name="Moreau", first_name="Claire", email=EMAIL, phone="06 12 34 56 78", postal_code="44000",
        city="Nantes", profession_code="infirmier_de", available_week=True, available_weekend=True,
        available_from=TODAY, consent=True,
        documents={"identite": ("carte-identite.png", PNG), "diplome": ("diplome.pdf", PDF)})


def _registered(session: so.Session, result: professionals.Registration) -> bool:
    row = session.get(m.Professional, result.professional_id)
    welcome = session.scalar(sa.select(m.Outbox.to).where(
        m.Outbox.dedup_key == f"volunteer-welcome:{result.professional_id}"))
    documents = session.scalars(sa.select(m.Document.kind).where(
        m.Document.professional_id == result.professional_id).order_by(m.Document.kind)).all()
    return (row is not None and row.email == EMAIL and row.status == "disponible" and welcome == EMAIL
            and documents == ["diplome", "identite"] and last_action(session, "professional") == "registered")


def _profile(world: World) -> professionals.AvailabilityInput:
    """« Mon profil » as the world's nurse filled it (Nantes 44300), with a message added."""
    return professionals.AvailabilityInput(phone="06 12 34 56 78", postal_code="44300", available_week=True,
                                           message=MESSAGE)


def _document(session: so.Session, world: World, kind: str = "identite") -> int:
    """A document of the world's nurse, flushed: its id."""
    row = m.Document(professional_id=world.professional_id, kind=kind, filename=f"{kind}.pdf",
                     mime="application/pdf", size=len(PDF), sha256="0" * 64, content=PDF, created_at=NOW)
    session.add(row)
    session.flush()
    return row.id


def _download(session: so.Session, world: World, actor: SessionUser | None) -> m.Document:
    """The nurse reserved (« contacte ») for the mission of « etablissement », then her identity document read."""
    proposal(session, world, "contacte")
    return professionals.document_for_download(session, actor=actor, document_id=_document(session, world),
                                               now=NOW)


def _my_missions(session: so.Session, world: World, actor: SessionUser | None) -> tuple[int, list[dict[str, Any]]]:
    """The nurse reserved for the world's mission, then « Mes missions »: (the proposal's id, the rows)."""
    reservation = proposal(session, world, "contacte")
    return reservation.id, professionals.my_missions(session, actor=actor)


def _archive_holds_everything(session: so.Session, world: World, content: bytes) -> bool:
    """The nurse's profile and her identity document (added by the call) are in the .zip."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data = json.loads(archive.read("mes-donnees.json"))
        [document] = data["justificatifs"]
        held = archive.read(document["fichier"])
    return (content.startswith(b"PK") and data["profil"]["email"] == professional(session, world).email
            and held == PDF and last_action(session, "professional") == "data_exported")


def _purge(session: so.Session, world: World, actor: SessionUser | None) -> tuple[int, privacy.PurgeReport]:
    """A volunteer inactive for three years, then a purge of those inactive for a year: (their id, the report)."""
    long_ago = NOW - timedelta(days=3 * 365)
    inactive = make_professional(session, postal_code="44000", created_at=long_ago,
                                 availability_confirmed_at=long_ago, status_since=long_ago)
    return inactive.id, privacy.purge_inactive(session, actor=actor, before=TODAY - timedelta(days=365), now=NOW)


def _purged(session: so.Session, result: tuple[int, privacy.PurgeReport]) -> bool:
    inactive_id, report = result
    row = session.get(m.Professional, inactive_id, populate_existing=True)
    return ((report.inactive, report.kept_live, report.purged) == (1, 0, 1) and row.status == "supprime"
            and _only_one_erased(session) and last_action(session, "database") == "purge")


def _only_one_erased(session: so.Session) -> bool:
    """Nobody but the inactive volunteer is anonymised (the world's nurse confirmed her availability lately)."""
    return session.scalar(sa.select(sa.func.count()).select_from(m.Professional)
                          .where(m.Professional.status == "supprime")) == 1


def _availability_link(session: so.Session, world: World) -> str:
    """The link the worker e-mails the nurse (its raw token; only its hash is stored)."""
    return issue_token(session, user=user(session, world.user_ids["professionnel"]),
                       purpose=m.TokenPurpose.AVAILABILITY.value, now=NOW,
                       lifetime=freshness.AVAILABILITY_LINK_LIFETIME)


def _sheet_fits(session: so.Session, world: World, sheet: professionals.Sheet) -> bool:
    """The nurse's sheet, each part present exactly when the sheet says it is visible."""
    fields = sheet.professional
    return (fields["id"] == world.professional_id and ("email" in fields) == sheet.contact_visible
            and ("id_number" in fields) == sheet.file_visible and (not sheet.documents or sheet.file_visible))


def _forget_too_far(session: so.Session, world: World, actor: SessionUser | None) -> None:
    professional(session, world).too_far_dm = 535  # she declined a mission 53,5 km away as « trop loin »
    session.flush()
    professionals.forget_too_far(session, actor=actor, now=NOW)


CASES: dict[str, Service] = {
    "professionals.register_professional": Service(
        lambda s, w, a: professionals.register_professional(s, actor=a, form=_registration(), now=NOW), EVERYONE,
        lambda s, w, r: _registered(s, r),
        "questionnaire public : quiconque, connecté ou non"),
    "professionals.my_profile": Service(
        lambda s, w, a: professionals.my_profile(s, actor=a, now=NOW), VOLUNTEER,
        lambda s, w, r: r.professional["id"] == w.professional_id and r.professional["email"]
        == professional(s, w).email and not r.stale, OWN),
    "professionals.update_professional": Service(
        lambda s, w, a: professionals.update_professional(s, actor=a, data=_profile(w), now=NOW), VOLUNTEER,
        lambda s, w, r: "message" in r and professional(s, w).message == MESSAGE
        and last_action(s, "professional") == "profile_updated", OWN),
    "professionals.set_available": Service(
        lambda s, w, a: professionals.set_available(s, actor=a, available=False, now=NOW), VOLUNTEER,
        lambda s, w, r: r == "indisponible" and professional(s, w).status == "indisponible"
        and last_action(s, "professional") == "availability_changed", OWN),
    "professionals.forget_too_far": Service(
        _forget_too_far, VOLUNTEER,
        lambda s, w, r: professional(s, w).too_far_dm is None
        and last_action(s, "professional") == "too_far_forgotten", OWN),
    "professionals.delete_professional": Service(
        lambda s, w, a: professionals.delete_professional(s, actor=a, now=NOW), VOLUNTEER,
        lambda s, w, r: professional(s, w).status == "supprime" and professional(s, w).last_name == "supprimé"
        and user(s, w.user_ids["professionnel"]).status == "disabled", OWN),
    "professionals.replace_document": Service(
        lambda s, w, a: professionals.replace_document(s, actor=a, kind="diplome", filename="diplome.pdf",
                                                       content=PDF, now=NOW), VOLUNTEER,
        lambda s, w, r: r is False and s.scalar(sa.select(m.Document.filename).where(
            m.Document.professional_id == w.professional_id, m.Document.kind == "diplome")) == "diplome.pdf"
        and last_action(s, "professional") == "document_added", OWN),
    "professionals.document_for_download": Service(
        _download, frozenset({"professionnel", "etablissement", "ars", "ccs"}),
        lambda s, w, r: r.content == PDF and r.professional_id == w.professional_id
        and last_action(s, "professional") == "document_downloaded",
        "pièce d'identité de la volontaire réservée par l'établissement de la mission : elle-même, cet "
        "établissement, son ARS, le CCS ; ni l'administrateur ni le ministère"),
    "professionals.professional_sheet": Service(
        lambda s, w, a: professionals.professional_sheet(s, actor=a, professional_id=w.professional_id, now=NOW),
        frozenset({"etablissement", "etablissement_autre", "ars", "ccs", "admin", "coordinateur"}),
        lambda s, w, r: _sheet_fits(s, w, r),
        "candidate des deux établissements : champs publics ; ARS de sa région et CCS : tout ; administrateur : "
        "sans justificatif ; coordinateur de la plateforme dont elle est membre du vivier : ses coordonnées ; "
        "jamais le ministère ni elle-même (« Mon profil »)"),
    "professionals.my_missions": Service(
        _my_missions, VOLUNTEER,
        lambda s, w, r: [row["id"] for row in r[1]] == [r[0]] and r[1][0]["live"], OWN),
    "privacy.my_data_archive": Service(
        lambda s, w, a: (_document(s, w), privacy.my_data_archive(s, actor=a, now=NOW))[1], VOLUNTEER,
        lambda s, w, r: _archive_holds_everything(s, w, r), OWN),
    "privacy.purge_inactive": Service(
        _purge, frozenset({"admin"}),
        lambda s, w, r: _purged(s, r),
        "et la ligne de commande (opérateur)"),
    "freshness.availability_question": Service(
        lambda s, w, a: freshness.availability_question(s, actor=a, token=_availability_link(s, w),
                                                        now=NOW + timedelta(hours=1)), EVERYONE,
        lambda s, w, r: (r.first_name, r.status) == (professional(s, w).first_name, "disponible"),
        "lien « Toujours disponible ? » : quiconque détient le jeton, sans connexion"),
    "freshness.answer_availability_check": Service(
        lambda s, w, a: freshness.answer_availability_check(s, actor=a, token=_availability_link(s, w),
                                                            available=True, now=NOW + timedelta(hours=1)),
        EVERYONE,
        lambda s, w, r: r == "disponible" and last_action(s, "professional") == "availability_confirmed"
        and s.scalar(sa.select(sa.func.count()).select_from(m.Token).where(m.Token.used_at.is_not(None))) == 1,
        "jeton à usage unique : quiconque le détient, sans connexion"),
}
