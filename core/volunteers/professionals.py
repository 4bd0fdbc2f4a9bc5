"""Volunteers: registration, profile, availability, deletion of their data (GDPR)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.access.tokens import issue_token
from core.mail import emails
from core.mail.outbox import forget_recipient, queue_email
from core.places import geo, reference
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.audit import record_event
from core.shared.clock import paris_today, utcnow
from core.shared.errors import Conflict, ErrorCollector, NotFound, PermissionDenied, ValidationError
from core.shared.permissions import PSEUDONYMISED_ONLY, reads_names, reads_volunteer_files, require_actor
from core.shared.validation import (
    parse_date,
    validate_adeli,
    validate_email,
    validate_phone,
    validate_rpps,
    validate_text,
)
from core.staffing.crisis import crisis_active
from core.staffing.matching import candidate_query, is_stale, km_text, load_mission_context
from core.staffing.transitions import DECLINE_FROM, accepts_people
from core.volunteers.documents import check_document
from db.models import (
    AccountStatus,
    ActivityType,
    Document,
    Establishment,
    IdType,
    Mission,
    MissionStatus,
    Mobility,
    PoolMember,
    PoolMemberState,
    PoolRosterEntry,
    Professional,
    ProfessionalStatus,
    Proposal,
    ProposalOrigin,
    ProposalState,
    Role,
    RosterState,
    Token,
    TokenPurpose,
    User,
)

MAX_MESSAGE = 2000
REQUIRED_DOCUMENTS = ("identite", "diplome")
# What « Mon profil » offers: a pause, or a return (set_available refuses both while BUSY_STATUSES hold).
AVAILABILITY_ACTIONS = {ProfessionalStatus.DISPONIBLE.value: frozenset({Action.PAUSE}),
                        ProfessionalStatus.INDISPONIBLE.value: frozenset({Action.RESUME})}
BUSY_STATUSES = {
    ProfessionalStatus.EN_COURS.value: "une ARS vous a proposé(e) à un établissement : déclinez d'abord "
                                       "cette proposition dans « Mes missions »",
    ProfessionalStatus.CONTACTE.value: "un établissement vous a réservé(e) : déclinez d'abord cette "
                                       "réservation dans « Mes missions »",
    ProfessionalStatus.AFFECTE.value: "vous êtes affecté(e) à une mission en cours : l'établissement doit "
                                      "d'abord annuler l'affectation",
}


@dataclass
class AvailabilityInput:
    """What a volunteer can change later from "Mon profil"."""

    phone: str = ""
    postal_code: str = ""
    city: str = ""
    specialty: str = ""
    has_vehicle: bool = False
    available_week: bool = True
    available_weekend: bool = False
    available_from: Any = None
    available_to: Any = None
    mobility: str = Mobility.DEPARTEMENTALE.value
    exp_ehpad: bool = False
    exp_reanimation: bool = False
    exp_vaccination: bool = False
    volunteer_vaccination: bool = False
    message: str = ""


@dataclass
class RegistrationInput(AvailabilityInput):
    """The public questionnaire "Je souhaite proposer mon aide"."""

    last_name: str = ""
    first_name: str = ""
    email: str = ""
    profession_code: str = ""
    activity_type: str = ActivityType.SALARIE.value
    id_type: str = IdType.NONE.value
    id_number: str = ""
    rpps_confirmed: bool = False
    consent: bool = False
    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # kind → (filename, content)


@dataclass(frozen=True)
class Registration:
    professional_id: int
    user_id: int
    email: str



def _clean_availability(data: AvailabilityInput, profession_code: str, errors: ErrorCollector,
                        today: date) -> dict[str, Any]:
    location = errors.check(geo.locate, data.postal_code, data.city or None)
    start = errors.check(parse_date, data.available_from or today, "available_from", "date de début de disponibilité")
    end = None
    if data.available_to:
        end = errors.check(parse_date, data.available_to, "available_to", "date de fin de disponibilité")
        if start and end and end < start:
            errors.add("available_to", "La fin de disponibilité est antérieure à son début.")
        elif end and end < today:
            errors.add("available_to", "La fin de disponibilité est déjà passée.")
    if data.mobility not in {m.value for m in Mobility}:
        errors.add("mobility", "Choisissez votre mobilité.")
    if data.volunteer_vaccination and profession_code and not reference.is_eligible_vaccination(profession_code):
        errors.add("volunteer_vaccination", "Votre profession n'est pas autorisée à vacciner.")
    if not (data.available_week or data.available_weekend):
        errors.add("available_week", "Indiquez au moins une disponibilité : en semaine ou le week-end.")
    values = {
        "phone": errors.check(validate_phone, data.phone, "phone"),
        "specialty": errors.check(validate_text, data.specialty, "specialty", "Spécialité",
                                  max_length=120, required=False),
        "has_vehicle": bool(data.has_vehicle),
        "available_week": bool(data.available_week),
        "available_weekend": bool(data.available_weekend),
        "available_from": start,
        "available_to": end,
        "mobility": data.mobility,
        "exp_ehpad": bool(data.exp_ehpad),
        "exp_reanimation": bool(data.exp_reanimation),
        "exp_vaccination": bool(data.exp_vaccination),
        "volunteer_vaccination": bool(data.volunteer_vaccination),
        "message": errors.check(validate_text, data.message, "message", "Message", max_length=MAX_MESSAGE,
                                required=False, multiline=True),
    }
    if location:
        values.update(postal_code=location.postal_code, city=location.commune, department_code=location.department,
                      ars_code=location.ars, lat=location.lat, lon=location.lon)
    return values


def _clean_identifier(form: RegistrationInput, errors: ErrorCollector) -> str | None:
    if form.id_type == IdType.RPPS.value:
        return errors.check(validate_rpps, form.id_number, "id_number", confirmed=form.rpps_confirmed)
    if form.id_type == IdType.ADELI.value:
        return errors.check(validate_adeli, form.id_number, "id_number")
    if form.id_type != IdType.NONE.value:
        errors.add("id_type", "Choisissez le type d'identifiant professionnel.")
    return None


def _clean_registration(form: RegistrationInput, errors: ErrorCollector, today: date) -> dict[str, Any]:
    profession = (form.profession_code or "").strip()
    if profession not in reference.profession_labels():
        errors.add("profession_code", "Choisissez votre profession.")
    if form.activity_type not in {a.value for a in ActivityType}:
        errors.add("activity_type", "Choisissez votre type d'activité.")
    if not form.consent:
        errors.add("consent", "Votre accord est nécessaire pour enregistrer votre inscription.")
    return {
        "last_name": errors.check(validate_text, form.last_name, "last_name", "Nom", max_length=100),
        "first_name": errors.check(validate_text, form.first_name, "first_name", "Prénom", max_length=100),
        "email": errors.check(validate_email, form.email, "email"),
        "profession_code": profession,
        "activity_type": form.activity_type,
        "id_type": form.id_type,
        "id_number": _clean_identifier(form, errors),
        **_clean_availability(form, profession, errors, today),
    }


def _clean_documents(form: RegistrationInput, errors: ErrorCollector) -> list:
    uploads = []
    for kind in REQUIRED_DOCUMENTS:
        if kind not in form.documents:
            label = "votre pièce d'identité" if kind == "identite" else "votre diplôme"
            errors.add(f"document_{kind}", f"Joignez {label} (PDF, JPEG ou PNG, 5 Mo au plus).")
            continue
        filename, content = form.documents[kind]
        uploads.append(errors.check(check_document, kind, filename, content))
    return [u for u in uploads if u is not None]


def _email_in_use(session: so.Session, email: str) -> bool:
    return bool(
        session.scalar(sa.select(sa.func.count()).where(sa.func.lower(Professional.email) == email))
        or session.scalar(sa.select(sa.func.count()).where(
            sa.func.lower(User.email) == email, User.status != AccountStatus.REJECTED.value))
    )


def _probable_duplicate(session: so.Session, phone: str,
                        id_number: str | None) -> tuple[int | None, list[str]]:
    """An earlier volunteer with the same phone or RPPS/ADELI number, and which fields matched."""
    live = Professional.status != ProfessionalStatus.SUPPRIME.value
    matches: list[str] = []
    found = session.scalar(sa.select(Professional.id).where(live, Professional.phone == phone).limit(1))
    if found:
        matches.append("phone")
    if id_number:
        by_number = session.scalar(sa.select(Professional.id).where(live, Professional.id_number == id_number).limit(1))
        if by_number:
            matches.append("id_number")
            found = found or by_number
    return found, matches


def register_professional(session: so.Session, *, actor: SessionUser | None, form: RegistrationInput,
                          now: datetime | None = None) -> Registration:
    """Record a volunteer with their documents and e-mail an activation link; all or nothing."""
    now = now or utcnow()
    errors = ErrorCollector()
    values = _clean_registration(form, errors, paris_today(now))
    uploads = _clean_documents(form, errors)
    if values["email"] and _email_in_use(session, values["email"]):
        errors.add("email", "Une inscription existe déjà avec cette adresse électronique : connectez-vous ou "
                            "utilisez « Mot de passe oublié ? » pour la mettre à jour.")
    errors.raise_if_any()
    duplicate_of, matched = _probable_duplicate(session, values["phone"], values["id_number"])
    professional = Professional(**values, status=ProfessionalStatus.DISPONIBLE.value, status_since=now,
                                consent_at=now, availability_confirmed_at=now, created_at=now,
                                possible_duplicate_of=duplicate_of)
    session.add(professional)
    try:
        session.flush()
    except IntegrityError as error:
        raise Conflict("Une inscription avec cette adresse vient d'être enregistrée : vérifiez vos courriels.") from error
    for upload in uploads:
        session.add(Document(professional_id=professional.id, kind=upload.kind, filename=upload.filename,
                             mime=upload.mime, size=upload.size, sha256=upload.sha256, content=upload.content,
                             created_at=now))
    user = User(email=professional.email, first_name=professional.first_name, last_name=professional.last_name,
                phone=professional.phone, role=Role.PROFESSIONNEL.value, status=AccountStatus.ACTIVE.value,
                professional_id=professional.id, created_at=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # an account request took the same e-mail in the meantime
        raise Conflict("Un compte avec cette adresse vient d'être créé : connectez-vous ou utilisez "
                       "« Mot de passe oublié ? ».") from error
    record_event(session, actor_id=None, entity="professional", entity_id=professional.id, action="registered",
                 after=professional.status,
                 details={"documents": [u.kind for u in uploads], "possible_duplicate_of": duplicate_of,
                          "duplicate_fields": matched}, at=now)
    token = issue_token(session, user=user, purpose=TokenPurpose.ACTIVATION.value, now=now)
    profession = reference.profession_labels()[professional.profession_code]
    queue_email(session, dedup_key=f"volunteer-welcome:{professional.id}", to=professional.email, now=now,
                content=emails.volunteer_welcome(professional.first_name, profession,
                                                 emails.link_to(emails.ACTIVATION_PATH, jeton=token)))
    return Registration(professional.id, user.id, professional.email)


# ---------------------------------------------------------------- the volunteer's own profile


def _own_professional(session: so.Session, actor: SessionUser | None, *, lock: bool = False) -> Professional:
    actor = require_actor(actor)
    if actor.role != Role.PROFESSIONNEL.value or actor.professional_id is None:
        raise PermissionDenied("Cette page est réservée aux professionnels volontaires.")
    professional = session.get(Professional, actor.professional_id, with_for_update=lock)
    if professional is None or professional.status == ProfessionalStatus.SUPPRIME.value:
        raise NotFound("Votre inscription est introuvable.")
    return professional


@dataclass(frozen=True)
class ProfileView:
    professional: dict[str, Any]
    documents: list[dict[str, Any]]
    stale: bool
    actions: Actions = NONE  # PAUSE or RESUME, unless a live proposal holds the volunteer
    too_far: str | None = None  # the distance of their « trop loin », as matching ranks by it (« 53,5 km »)



def my_profile(session: so.Session, *, actor: SessionUser | None, now: datetime | None = None) -> ProfileView:
    """Everything the volunteer registered, with their documents (without their content)."""
    now = now or utcnow()
    professional = _own_professional(session, actor)
    columns = {c.key: getattr(professional, c.key) for c in Professional.__table__.columns}
    documents = [
        {"id": d.id, "kind": d.kind, "filename": d.filename, "size": d.size, "mime": d.mime}
        for d in session.execute(
            sa.select(Document.id, Document.kind, Document.filename, Document.size, Document.mime)
            .where(Document.professional_id == professional.id).order_by(Document.id)
        )
    ]
    stale = is_stale(professional.availability_confirmed_at, now)
    too_far = None if professional.too_far_dm is None else km_text(professional.too_far_dm)
    return ProfileView(professional=columns, documents=documents, stale=stale,
                       actions=AVAILABILITY_ACTIONS.get(professional.status, NONE), too_far=too_far)


def update_professional(session: so.Session, *, actor: SessionUser | None, data: AvailabilityInput,
                        now: datetime | None = None) -> list[str]:
    """Save the volunteer's changes and confirm their availability; returns the changed field names."""
    now = now or utcnow()
    professional = _own_professional(session, actor, lock=True)
    errors = ErrorCollector()
    values = _clean_availability(data, professional.profession_code, errors, paris_today(now))
    errors.raise_if_any()
    changed = sorted(name for name, value in values.items() if getattr(professional, name) != value)
    for name in changed:
        setattr(professional, name, values[name])
    if "phone" in changed:
        session.execute(sa.update(User).where(User.professional_id == professional.id).values(phone=professional.phone))
    if {"lat", "lon", "mobility"} & set(changed):
        professional.too_far_dm = None  # a « trop loin » measured from another address, or before a new mobility
    professional.availability_confirmed_at = now
    record_event(session, actor_id=actor.id, entity="professional", entity_id=professional.id,
                 action="profile_updated", details={"fields": changed}, at=now)
    return changed


def forget_too_far(session: so.Session, *, actor: SessionUser | None, now: datetime | None = None) -> None:
    """« Me proposer de nouveau les missions lointaines »: the volunteer withdraws their « trop loin »."""
    now = now or utcnow()
    professional = _own_professional(session, actor, lock=True)
    if professional.too_far_dm is None:
        raise Conflict("Vous n'avez décliné aucune mission comme trop lointaine : rien à changer.")
    record_event(session, actor_id=actor.id, entity="professional", entity_id=professional.id,
                 action="too_far_forgotten", before=km_text(professional.too_far_dm), at=now)
    professional.too_far_dm = None


def set_available(session: so.Session, *, actor: SessionUser | None, available: bool,
                  now: datetime | None = None) -> str:
    """Pause ("indisponible") or resume ("disponible"); refused while a proposal is live."""
    now = now or utcnow()
    professional = _own_professional(session, actor, lock=True)
    if professional.status in BUSY_STATUSES:
        raise Conflict(f"Impossible de changer votre disponibilité : {BUSY_STATUSES[professional.status]}.")
    target = ProfessionalStatus.DISPONIBLE.value if available else ProfessionalStatus.INDISPONIBLE.value
    if professional.status != target:
        record_event(session, actor_id=actor.id, entity="professional", entity_id=professional.id,
                     action="availability_changed", before=professional.status, after=target, at=now)
        professional.status = target
        professional.status_since = now
    professional.availability_confirmed_at = now
    return target


def delete_professional(session: so.Session, *, actor: SessionUser | None,
                        now: datetime | None = None) -> None:
    """Erase the volunteer's personal data: the row is anonymised, documents deleted, the account closed."""
    now = now or utcnow()
    professional = _own_professional(session, actor, lock=True)
    if professional.status in BUSY_STATUSES:
        raise Conflict(f"Vos données ne peuvent pas être supprimées maintenant : {BUSY_STATUSES[professional.status]}.")
    erase_professional(session, professional=professional, actor_id=actor.id, action="deleted", now=now)


def erase_professional(session: so.Session, *, professional: Professional, actor_id: int | None, action: str,
                       now: datetime) -> None:
    """The erasure itself (the volunteer's own deletion, or the purge of inactive volunteers): the row is
    anonymised, documents deleted, the account closed; the caller has checked that nothing is live."""
    before, email = professional.status, professional.email
    session.execute(sa.delete(Document).where(Document.professional_id == professional.id))
    departement = reference.departements()[professional.department_code]
    anonymous = f"supprime-{professional.id}@anonyme.invalid"
    # Department, region and profession stay for the statistics; nothing else identifies the person.
    for name, value in {
        "first_name": "Volontaire", "last_name": "supprimé", "email": anonymous, "phone": "",
        "postal_code": "", "city": "", "lat": departement.lat, "lon": departement.lon, "specialty": None,
        "id_type": IdType.NONE.value, "id_number": None, "message": None, "available_to": None,
        "status": ProfessionalStatus.SUPPRIME.value, "status_since": now, "possible_duplicate_of": None,
        "too_far_dm": None,  # a distance from the home address it erases
    }.items():
        setattr(professional, name, value)
    for user in session.scalars(sa.select(User).where(User.professional_id == professional.id)):
        user.email, user.first_name, user.last_name, user.phone = anonymous, "Volontaire", "supprimé", None
        user.password_hash = None
        user.status = AccountStatus.DISABLED.value
        session.execute(sa.update(Token).where(Token.user_id == user.id, Token.used_at.is_(None),
                                               Token.cancelled_at.is_(None)).values(cancelled_at=now))
    forget_recipient(session, email=email, anonymous=anonymous)
    # Off every territorial pool's roster (an invitation waiting included): nobody keeps a deleted volunteer.
    session.execute(sa.update(PoolRosterEntry).where(
        PoolRosterEntry.professional_id == professional.id,
        PoolRosterEntry.state.in_([RosterState.INVITE.value, RosterState.MEMBRE.value]))
        .values(state=RosterState.RETIRE.value).execution_options(synchronize_session=False))
    record_event(session, actor_id=actor_id, entity="professional", entity_id=professional.id,
                 action=action, before=before, after=ProfessionalStatus.SUPPRIME.value, at=now)


def replace_document(session: so.Session, *, actor: SessionUser | None, kind: str, filename: str,
                     content: bytes, now: datetime | None = None) -> bool:
    """The volunteer adds or replaces their identity document or diploma (one of each is kept).

    A volunteer whose documents the ARS had checked loses the "VÉRIFIÉ" badge: the ARS has not seen the
    new file. Returns True when that happened, so that the page can say so.
    """
    now = now or utcnow()
    professional = _own_professional(session, actor, lock=True)
    if kind not in REQUIRED_DOCUMENTS:
        raise ValidationError("document_kind", "Choisissez le justificatif à remplacer : pièce d'identité ou diplôme.")
    upload = check_document(kind, filename, content, field="document")
    replaced = session.execute(sa.delete(Document).where(
        Document.professional_id == professional.id, Document.kind == kind)).rowcount
    session.add(Document(professional_id=professional.id, kind=kind, filename=upload.filename, mime=upload.mime,
                         size=upload.size, sha256=upload.sha256, content=upload.content, created_at=now))
    unverified = professional.verified
    professional.verified = False
    record_event(session, actor_id=actor.id, entity="professional", entity_id=professional.id,
                 action="document_replaced" if replaced else "document_added",
                 details={"kind": kind, "size": upload.size, "unverified": unverified},
                 at=now)
    return unverified


def document_for_download(session: so.Session, *, actor: SessionUser | None, document_id: int,
                          now: datetime | None = None) -> Document:
    """A document with its content, for its owner and for whoever sees it on the volunteer's sheet
    (`professional_sheet`: the regulators, the establishments and ARS the volunteer is linked to; never an
    admin nor the ministry).

    Each download is recorded (who read which document of whom, by ids): an identity document is personal
    data, and the journal must tell who opened it. A write, then: call it through ui.actions.run_action.
    """
    now = now or utcnow()
    actor = require_actor(actor)
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("Ce document n'existe plus.")
    owner = session.get(Professional, document.professional_id)
    if actor.professional_id != owner.id:
        access = _sheet_access(session, actor, owner, now)
        if access is None or document.kind not in access.documents:
            raise PermissionDenied("Vous n'avez pas accès à ce document.")
    record_event(session, actor_id=actor.id, entity="professional", entity_id=owner.id, action="document_downloaded",
                 details={"document_id": document.id, "kind": document.kind}, at=now)
    return document


# ---------------------------------------------------------------- what others see of a volunteer

LIVE_STATES = (ProposalState.EN_COURS.value, ProposalState.CONTACTE.value, ProposalState.AFFECTE.value)
# An establishment stays linked to a volunteer it works with or worked with (an assignment that went to its end);
# a refused, released or cancelled solicitation ends the link: it has no more use for their contact details.
LINKED_STATES = (*LIVE_STATES, ProposalState.TERMINE.value)
# DESIGN §4: what an establishment sees of a candidate before any contact or push. No coordinates: the commune
# says where, the sheet needs no more.
PUBLIC_FIELDS = ("id", "first_name", "last_name", "postal_code", "city", "department_code", "profession_code",
                 "specialty", "activity_type", "has_vehicle", "available_week", "available_weekend", "available_from",
                 "available_to", "mobility", "exp_ehpad", "exp_reanimation", "exp_vaccination",
                 "volunteer_vaccination", "verified", "status", "availability_confirmed_at")
CONTACT_FIELDS = ("email", "phone")
FILE_FIELDS = ("id_type", "id_number", "message")  # the professional file, with the documents
DOCUMENT_KINDS = frozenset({"identite", "diplome", "autre"})
NO_SHEET = "Vous n'avez pas accès à cette fiche."
OWN_SHEET = "Vos informations et vos justificatifs sont dans « Mon profil »."
CANDIDATE_NOTICE = "Coordonnées et documents visibles dès que vous contactez ce professionnel."
REGION_CANDIDATE_NOTICE = ("Coordonnées, identifiant professionnel et justificatifs visibles dès que ce professionnel "
                           "est proposé à une mission de votre région.")
POOL_NOTICE = ("Membre de votre vivier : ses coordonnées vous sont ouvertes. Identifiant professionnel, message et "
               "justificatifs restent réservés à son ARS et aux établissements qui le sollicitent.")
ADMIN_NOTICE = ("Identifiant professionnel, message et justificatifs réservés à l'ARS du volontaire, au CCS et aux "
                "établissements qui le sollicitent : ils ne sont pas montrés aux administrateurs.")


@dataclass(frozen=True)
class _Access:
    """What one reader may see of one volunteer (DESIGN §4): decided once, for the sheet and the downloads."""

    contact: bool
    file: bool
    documents: frozenset[str]
    history: Any  # which proposals the reader sees (an SQL condition on Mission/Establishment), None: none
    notice: str | None = None


def _full(history: Any) -> _Access:
    return _Access(contact=True, file=True, documents=DOCUMENT_KINDS, history=history)


def _sheet_access(session: so.Session, actor: SessionUser, professional: Professional, now: datetime) -> _Access | None:
    """The regulators of the volunteer's region see everything; admins their identity and contact only (no
    identity document, issue 12); a territorial pool's coordinator the contact of its roster's members, who agreed
    to the pool (issue 14), and their history with its member establishments; an establishment — or the ARS of
    another region — everything once the volunteer is linked to one of its missions, the public fields while the
    volunteer is a candidate for one of its open missions; anyone else nothing (None)."""
    if reads_volunteer_files(actor, professional.ars_code):
        return _full(sa.true())
    if reads_names(actor, professional.ars_code):  # a name reader who reads no file: an admin
        return _Access(contact=True, file=False, documents=frozenset(), history=None, notice=ADMIN_NOTICE)
    if actor.role == Role.POOL.value:
        return _roster_access(session, actor, professional)
    if actor.role == "etablissement" and actor.establishment_ids:
        scope, viewer, notice = Mission.establishment_id.in_(actor.establishment_ids), "establishment", CANDIDATE_NOTICE
    elif actor.role == "ars" and actor.ars_code:
        scope, viewer, notice = Establishment.ars_code == actor.ars_code, "regulator", REGION_CANDIDATE_NOTICE
    else:
        return None
    if _linked(session, professional.id, scope):
        return _full(scope)
    if _candidate(session, professional, scope, viewer, now):
        return _Access(contact=False, file=False, documents=frozenset(), history=scope, notice=notice)
    return None


def _roster_access(session: so.Session, actor: SessionUser, professional: Professional) -> _Access | None:
    """A coordinator reads the sheet of its own roster's members only (core.volunteers knows no pool service:
    the pool tables are read here)."""
    on_roster = session.scalar(sa.select(PoolRosterEntry.id).where(
        PoolRosterEntry.pool_id == actor.pool_id, PoolRosterEntry.professional_id == professional.id,
        PoolRosterEntry.state == RosterState.MEMBRE.value).limit(1))
    if actor.pool_id is None or on_roster is None:
        return None
    members = sa.select(PoolMember.establishment_id).where(PoolMember.pool_id == actor.pool_id,
                                                           PoolMember.state == PoolMemberState.MEMBRE.value)
    return _Access(contact=True, file=False, documents=frozenset(), history=Mission.establishment_id.in_(members),
                   notice=POOL_NOTICE)


def _linked(session: so.Session, professional_id: int, scope: Any) -> bool:
    """Pushed to, contacted for or assigned to (now, or an assignment gone to its end) a mission within the
    scope (LINKED_STATES)."""
    return session.scalar(
        sa.select(Proposal.id).join(Mission, Mission.id == Proposal.mission_id)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Proposal.professional_id == professional_id, Proposal.state.in_(LINKED_STATES), scope).limit(1)
    ) is not None


def _candidate(session: so.Session, professional: Professional, scope: Any, viewer: str, now: datetime) -> bool:
    """Would matching list the volunteer among the candidates of one of the scope's open missions, as this viewer
    sees them (crisis mode included)? Matching's own query decides, mission by mission."""
    # Narrowing only (open missions of the volunteer's profession), so that few missions are asked about;
    # accepts_people and candidate_query hold the rules.
    missions = session.scalars(
        sa.select(Mission.id).join(Establishment, Establishment.id == Mission.establishment_id)
        .where(scope, Mission.status == MissionStatus.OPEN.value,
               Mission.profession_code == professional.profession_code)
        .order_by(Mission.id)
    )
    for mission_id in missions.all():
        context = load_mission_context(session, mission_id=mission_id)
        if not accepts_people(context.status, context.count):
            continue
        crisis = crisis_active(session, ars_code=context.ars_code, profession_code=context.profession_code, now=now)
        query = candidate_query(context, viewer, crisis, now).base.where(Professional.id == professional.id)
        if session.scalar(sa.select(query.exists())):
            return True
    return False


@dataclass(frozen=True)
class Sheet:
    """« Fiche du professionnel »: only the fields this reader may see, and which parts those are."""

    professional: dict[str, Any]
    contact_visible: bool  # e-mail and phone are in `professional`
    documents: list[dict[str, Any]]
    history: list[dict[str, Any]]
    file_visible: bool = False  # RPPS/ADELI number and the volunteer's message are in `professional`
    notice: str | None = None  # what stays hidden and why, for the page to say


def professional_sheet(session: so.Session, *, actor: SessionUser | None, professional_id: int,
                       now: datetime | None = None) -> Sheet:
    """« Fiche du professionnel » as this reader may see it (see `_sheet_access`); the ministry reads
    pseudonymised exports, never a sheet."""
    now = now or utcnow()
    actor = require_actor(actor)
    professional = session.get(Professional, professional_id)
    if professional is None or professional.status == ProfessionalStatus.SUPPRIME.value:
        raise NotFound("Ce professionnel n'est plus inscrit.")
    if actor.role == "ministere":
        raise PermissionDenied(PSEUDONYMISED_ONLY)
    if actor.professional_id == professional_id:
        raise PermissionDenied(OWN_SHEET)
    access = _sheet_access(session, actor, professional, now)
    if access is None:
        raise PermissionDenied(NO_SHEET)
    fields = PUBLIC_FIELDS + (CONTACT_FIELDS if access.contact else ()) + (FILE_FIELDS if access.file else ())
    documents = [dict(row) for row in session.execute(
        sa.select(Document.id, Document.kind, Document.filename, Document.size, Document.mime)
        .where(Document.professional_id == professional_id, Document.kind.in_(access.documents))
        .order_by(Document.id)).mappings()] if access.documents else []
    return Sheet({name: getattr(professional, name) for name in fields}, access.contact, documents,
                 _history(session, professional_id, access.history), access.file, access.notice)


def _history(session: so.Session, professional_id: int, scope: Any) -> list[dict]:
    """The volunteer's proposals within the reader's scope, newest first (an establishment: its own)."""
    if scope is None:
        return []
    query = (
        sa.select(Proposal.id, Proposal.state, Proposal.origin, Proposal.created_at, Proposal.decided_at,
                  Proposal.reason, Mission.profession_code, Mission.start_date, Mission.end_date,
                  Establishment.name.label("establishment"))
        .join(Mission, Mission.id == Proposal.mission_id)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .where(Proposal.professional_id == professional_id, scope)
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    )
    return [dict(row) for row in session.execute(query).mappings()]


def _answers(row: Any) -> Actions:
    """What the volunteer may answer a push or a reservation: « Décliner », and « Je suis intéressé(e) » once."""
    if row["state"] not in DECLINE_FROM:
        return NONE
    return frozenset({Action.DECLINE} | ({Action.INTEREST} if row["interested_at"] is None else set()))


def my_missions(session: so.Session, *, actor: SessionUser | None) -> list[dict[str, Any]]:
    """"Mes missions": pushes, reservations and assignments first, then the past, with each contact."""
    professional = _own_professional(session, actor)
    requester = so.aliased(User)
    rows = session.execute(
        sa.select(Proposal.id, Proposal.state, Proposal.origin, Proposal.created_at, Proposal.decided_at,
                  Proposal.reason, Proposal.reason_code, Proposal.interested_at, Mission.profession_code, Mission.start_date, Mission.end_date, Mission.contact_name,
                  Mission.contact_phone, Establishment.name.label("establishment"), Establishment.address,
                  Establishment.postal_code, Establishment.city, requester.email.label("requester_email"),
                  requester.phone.label("requester_phone"),
                  (requester.first_name + " " + requester.last_name).label("requester_name"))
        .join(Mission, Mission.id == Proposal.mission_id)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .join(requester, requester.id == Mission.created_by)
        .where(Proposal.professional_id == professional.id)
        .order_by(sa.case((Proposal.state.in_(LIVE_STATES), 0), else_=1), Proposal.created_at.desc())
    ).mappings()
    return [{**row, "live": row["state"] in LIVE_STATES,
             "declined": row["state"] == ProposalState.DECLINE.value,
             "pushed_by_pool": row["origin"] == ProposalOrigin.POOL.value,
             "actions": _answers(row)}
            for row in rows]
