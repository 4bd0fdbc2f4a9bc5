"""Accounts: sign-in with lockout, establishment account requests and their validation, password links."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.access.tokens import (
    PASSWORD_PURPOSES,
    InvalidLink,
    consume_token,
    issue_token,
    issue_tokens,
    usable_token,
)
from core.mail import emails
from core.mail.outbox import queue_email
from core.places import geo, reference
from core.shared.actor import SessionUser, to_session_user
from core.shared.audit import record_event
from core.shared.clock import PARIS, paris_today, utcnow
from core.shared.errors import Conflict, ErrorCollector, NotFound, ValidationError
from core.shared.permissions import REGULATORS, require_actor, require_region, require_role
from core.shared.security import hash_password, token_hash, verify_password
from core.shared.validation import (
    finess_department_mismatch,
    refuse_invisible,
    refused_character,
    validate_email,
    validate_finess,
    validate_gid,
    validate_password,
    validate_phone,
    validate_text,
)
from core.staffing.missions import MissionInput, clean_mission, placeholder_mission
from db.models import (
    AccountStatus,
    Establishment,
    EstablishmentStatus,
    IdKind,
    Membership,
    Mission,
    MissionStatus,
    Role,
    TokenPurpose,
    User,
)

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
VACCINATION_CENTRE = "centre_vaccination"
BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
# Compared against when the e-mail is unknown, so that timing does not reveal which e-mails exist.
_DUMMY_HASH = "$2b$12$O7eERdwH3YbZJ4vLaw2YQulWgSzvPbBWQ9uuI/kzW6gNMSVmguBOy"  # bcrypt of a throw-away password


@dataclass(frozen=True)
class LoginOutcome:
    """Sign-in never raises for bad credentials: the failure counter must be committed."""

    user: SessionUser | None
    error: str | None = None


def _find_live_user(session: so.Session, email: str) -> User | None:
    if refused_character(email or ""):  # no account's address holds one (and NUL would crash PostgreSQL)
        return None
    return session.scalar(
        sa.select(User).where(
            sa.func.lower(User.email) == email.strip().lower(),
            User.status != AccountStatus.REJECTED.value,
        )
    )


def load_session_user(session: so.Session, *, email: str, issued_at: float | None = None) -> SessionUser | None:
    """The active account behind a session, or None: disabled accounts are out at once, and so is a session
    opened (`issued_at`, a Unix time) before the user signed out or changed their password."""
    user = _find_live_user(session, email or "")
    if user is None or user.status != AccountStatus.ACTIVE.value or not user.password_hash:
        return None
    if user.sessions_valid_after is not None and (issued_at is None
                                                  or issued_at < user.sessions_valid_after.timestamp()):
        return None
    return to_session_user(session, user=user)


def end_sessions(session: so.Session, *, actor: SessionUser | None, now: datetime | None = None) -> None:
    """Sign-out: every session of the user ends, in every browser (their cookies are refused from now on)."""
    actor = require_actor(actor)
    now = now or utcnow()
    user = session.get(User, actor.id)
    if user is not None:
        user.sessions_valid_after = now
        record_event(session, actor_id=user.id, entity="user", entity_id=user.id, action="signed_out", at=now)


def _status_refusal(user: User) -> str | None:
    if user.status == AccountStatus.PENDING.value:
        return ("Votre demande de compte est en attente de validation par l'ARS : vous recevrez un courriel "
                "avec un lien d'activation dès qu'elle sera validée.")
    if user.status == AccountStatus.DISABLED.value:
        return "Ce compte est désactivé. Contactez votre ARS."
    if not user.password_hash:
        return (
            "Ce compte n'est pas encore activé : utilisez le lien reçu par courriel, "
            "ou « Mot de passe oublié ? » pour en recevoir un nouveau."
        )
    return None


def authenticate(
    session: so.Session, *, email: str, password: str, now: datetime | None = None
) -> LoginOutcome:
    """Check e-mail and password; 5 failures lock the account for 15 minutes.

    An unknown e-mail and a wrong password get the same answer. An account with no password yet
    (pending validation, or validated but never activated) gets its status message instead.
    """
    now = now or utcnow()
    user = _find_live_user(session, email or "")
    if user is None:
        verify_password(password or "", _DUMMY_HASH)
        return LoginOutcome(None, BAD_CREDENTIALS)
    if not user.password_hash:
        # No password can match yet (request awaiting validation, or link never used): say why, and do
        # not count it as a failure — the lockout protects passwords, there is none to guess here.
        verify_password(password or "", _DUMMY_HASH)
        return LoginOutcome(None, _status_refusal(user) or BAD_CREDENTIALS)
    if user.locked_until and user.locked_until > now:
        return LoginOutcome(None, _locked_message(user.locked_until))
    if not verify_password(password or "", user.password_hash):
        return LoginOutcome(None, _record_failure(session, user, now))
    refusal = _status_refusal(user)
    if refusal:
        return LoginOutcome(None, refusal)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record_event(session, actor_id=user.id, entity="user", entity_id=user.id, action="login", at=now)
    return LoginOutcome(to_session_user(session, user=user))


def _locked_message(until: datetime) -> str:
    return (
        "Compte verrouillé après 5 essais infructueux : réessayez après "
        f"{until.astimezone(PARIS):%H:%M} (heure de Paris), ou utilisez « Mot de passe oublié ? »."
    )


def _record_failure(session: so.Session, user: User, now: datetime) -> str:
    """Count one wrong password and lock at the threshold, in SQL so that simultaneous failures all count.

    A counter read in Python and written back lets concurrent failures overwrite each other (ten at once
    left 1 on PostgreSQL). The increment is one UPDATE … RETURNING; on PostgreSQL it also keeps the row
    locked until commit, so the conditional lock right after sees no other failure in between (SQLite's
    BEGIN IMMEDIATE serialises the whole sign-in). A lock that has expired starts a new count. The counter
    stays at its value while locked (the account's page shows it); a successful sign-in resets it.
    """
    expired = sa.and_(User.locked_until.is_not(None), User.locked_until <= now)
    count = session.execute(
        sa.update(User).where(User.id == user.id)
        .values(failed_logins=sa.case((expired, 1), else_=User.failed_logins + 1),
                locked_until=sa.case((expired, None), else_=User.locked_until))
        .returning(User.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if count < MAX_FAILED_LOGINS:
        session.expire(user, ["failed_logins", "locked_until"])
        return BAD_CREDENTIALS
    locked = session.execute(
        sa.update(User).where(User.id == user.id, User.locked_until.is_(None))
        .values(locked_until=now + LOCK_DURATION)
        .returning(User.locked_until)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.expire(user, ["failed_logins", "locked_until"])
    if locked is not None:  # this failure set the lock: recorded once, whatever the number of attempts
        record_event(
            session, actor_id=None, entity="user", entity_id=user.id, action="locked",
            details={"minutes": int(LOCK_DURATION.total_seconds() // 60)}, at=now,
        )
    return _locked_message(user.locked_until)


# ---------------------------------------------------------------- establishment account requests


@dataclass
class AccountRequest:
    """The public "Demande de compte" form: requester, establishment and at least one need."""

    last_name: str = ""
    first_name: str = ""
    email: str = ""
    phone: str = ""
    category_code: str = ""
    finess_category_code: str | None = None  # the finer FINESS category (EHPAD, SSIAD…); None: other / unknown
    identifier: str = ""
    establishment_name: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    ars_code: str = ""
    missions: list[MissionInput] = field(default_factory=list)


@dataclass(frozen=True)
class RequestReceipt:
    user_id: int
    establishment_id: int
    establishment_name: str
    ars_name: str
    missions: int
    joined_existing: bool


def finess_category_labels() -> dict[str, str]:
    """The finer FINESS categories, code → short label (« EHPAD »), in the reference's order."""
    return {c["code"]: c["short_label"] for c in reference.finess_categories()}


def email_taken(session: so.Session, *, email: str) -> bool:
    return _find_live_user(session, email) is not None


def clean_identity(request: AccountRequest, errors: ErrorCollector) -> dict:
    """The requester's name, e-mail and phone, normalised; each problem goes to `errors` under its field.

    Shared by the public request and the bulk import (core.access.establishment_import)."""
    return {
        "last_name": errors.check(validate_text, request.last_name, "last_name", "Nom", max_length=100),
        "first_name": errors.check(validate_text, request.first_name, "first_name", "Prénom", max_length=100),
        "email": errors.check(validate_email, request.email, "email"),
        "phone": errors.check(validate_phone, request.phone, "phone"),
    }


def clean_establishment(request: AccountRequest, errors: ErrorCollector) -> dict:
    """The establishment's identifier (FINESS, or GID for a vaccination centre), name, category, address and
    place, normalised; each problem goes to `errors` under its field. Shared with the bulk import."""
    category = (request.category_code or "").strip()
    if category not in reference.category_labels():
        errors.add("category_code", "Choisissez la catégorie de l'établissement.")
    is_gid = category == VACCINATION_CENTRE
    finess_category = (request.finess_category_code or "").strip() or None
    if finess_category is not None and finess_category not in finess_category_labels():
        errors.add("finess_category_code", f"Catégorie FINESS inconnue « {finess_category} » : choisissez-la dans la "
                                           "liste, ou « Autre / je ne sais pas ».")
    identifier = errors.check(validate_gid if is_gid else validate_finess, request.identifier, "identifier")
    location = errors.check(geo.locate, request.postal_code, request.city or None)
    if location is None and not errors.has("postal_code") and not errors.has("city"):
        errors.add("postal_code", "Code postal invalide.")
    ars_code = (request.ars_code or "").strip() or (location.ars if location else "")
    if ars_code not in reference.ars_names():
        errors.add("ars_code", "Choisissez l'ARS de rattachement.")
    return {
        "id_kind": IdKind.GID.value if is_gid else IdKind.FINESS.value,
        "finess": identifier,
        "name": errors.check(validate_text, request.establishment_name, "establishment_name",
                             "Nom de l'établissement"),
        "category_code": category,
        "finess_category_code": finess_category,
        "address": errors.check(validate_text, request.address, "address", "Adresse", max_length=300),
        "location": location,
        "ars_code": ars_code,
    }


def new_establishment(place: dict, *, status: str, now: datetime) -> Establishment:
    """An establishment row from `clean_establishment`'s values (added to no session)."""
    location = place["location"]
    return Establishment(
        finess=place["finess"], id_kind=place["id_kind"], name=place["name"], category_code=place["category_code"],
        finess_category_code=place.get("finess_category_code"), address=place["address"],
        postal_code=location.postal_code, city=location.commune,
        department_code=location.department, ars_code=place["ars_code"], lat=location.lat, lon=location.lon,
        status=status, created_at=now,
    )


def new_establishment_user(identity: dict, *, status: str, now: datetime) -> User:
    """An establishment user from `clean_identity`'s values, without password (added to no session)."""
    return User(email=identity["email"], first_name=identity["first_name"], last_name=identity["last_name"],
                phone=identity["phone"], role=Role.ETABLISSEMENT.value, status=status, created_at=now)


def activation_link(session: so.Session, *, user: User, now: datetime) -> str:
    """A fresh single-use activation link (72 h) for this user, to put in an e-mail."""
    return activation_links(session, user_ids=[user.id], now=now)[0]


def activation_links(session: so.Session, *, user_ids: list[int], now: datetime) -> list[str]:
    """activation_link for many users at once (bulk import), in the same order."""
    tokens = issue_tokens(session, user_ids=user_ids, purpose=TokenPurpose.ACTIVATION.value, now=now)
    return [emails.link_to(emails.ACTIVATION_PATH, jeton=token) for token in tokens]


def _find_live_establishment(session: so.Session, id_kind: str, identifier: str) -> Establishment | None:
    return session.scalar(
        sa.select(Establishment).where(
            Establishment.id_kind == id_kind,
            Establishment.finess == identifier,
            Establishment.status != EstablishmentStatus.REJECTED.value,
        )
    )


def request_establishment_account(session: so.Session, *, actor: SessionUser | None, request: AccountRequest,
                                  now: datetime | None = None) -> RequestReceipt:
    """File a pending account with its establishment and needs; nothing is saved if anything is wrong."""
    now = now or utcnow()
    today = paris_today(now)
    errors = ErrorCollector()
    identity = clean_identity(request, errors)
    place = clean_establishment(request, errors)
    missions = request.missions or [placeholder_mission(today)]
    cleaned = [clean_mission(m, f"missions.{i}.", errors, today) for i, m in enumerate(missions)]
    if identity["email"] and email_taken(session, email=identity["email"]):
        errors.add("email", "Un compte existe déjà avec cette adresse électronique : connectez-vous, ou "
                            "utilisez « Mot de passe oublié ? ».")
    errors.raise_if_any()
    establishment = _find_live_establishment(session, place["id_kind"], place["finess"])
    joined = establishment is not None
    if establishment is None:
        establishment = new_establishment(place, status=EstablishmentStatus.PENDING.value, now=now)
        session.add(establishment)
    user = new_establishment_user(identity, status=AccountStatus.PENDING.value, now=now)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent request took the e-mail or the FINESS first
        raise Conflict("Une demande identique vient d'être enregistrée : vérifiez vos courriels.") from error
    session.add(Membership(user_id=user.id, establishment_id=establishment.id, created_at=now))
    for values in cleaned:
        session.add(Mission(establishment_id=establishment.id, created_by=user.id,
                            status=MissionStatus.PENDING.value, created_at=now, **values))
    session.flush()
    record_event(session, actor_id=None, entity="user", entity_id=user.id, action="account_requested",
                 after=AccountStatus.PENDING.value,
                 details={"establishment_id": establishment.id, "missions": len(cleaned), "joined_existing": joined},
                 at=now)
    ars_name = reference.ars_names()[establishment.ars_code]
    queue_email(session, dedup_key=f"account-request:{user.id}", to=user.email, now=now,
                content=emails.account_request_received(user.first_name, establishment.name, ars_name, len(cleaned)))
    return RequestReceipt(user.id, establishment.id, establishment.name, ars_name, len(cleaned), joined)


# ---------------------------------------------------------------- validation queue (ARS, CCS)


@dataclass(frozen=True)
class PendingRequest:
    user_id: int
    requested_at: datetime
    last_name: str
    first_name: str
    email: str
    phone: str | None
    establishment_id: int
    establishment_name: str
    establishment_status: str
    category: str
    finess_category: str | None  # the FINESS category's short label (EHPAD, SSIAD…), None when not told
    id_kind: str
    identifier: str
    address: str
    postal_code: str
    city: str
    ars_code: str
    identifier_check: str | None  # None when the key (or GID format) is right, else the problem
    postal_code_check: str | None
    ars_check: str | None
    missions: list[dict]
    department_warning: str | None = None  # a FINESS of another department than the postal code's: to check


def _check(validate, *args) -> str | None:  # noqa: ANN001
    try:
        validate(*args)
    except ValidationError as error:
        return error.message
    return None


def _ars_check(establishment: Establishment) -> str | None:
    try:
        location = geo.locate(establishment.postal_code, establishment.city)
    except ValidationError as error:
        return error.message
    if location.ars != establishment.ars_code:
        names = reference.ars_names()
        return (f"Le code postal relève de l'ARS {names[location.ars]}, la demande est rattachée à "
                f"l'ARS {names[establishment.ars_code]}.")
    return None


def _pending_view(session: so.Session, user: User, establishment: Establishment) -> PendingRequest:
    missions = session.scalars(
        sa.select(Mission).where(Mission.created_by == user.id, Mission.status == MissionStatus.PENDING.value)
        .order_by(Mission.id)
    ).all()
    validate_identifier = validate_gid if establishment.id_kind == IdKind.GID.value else validate_finess
    return PendingRequest(
        user_id=user.id, requested_at=user.created_at, last_name=user.last_name, first_name=user.first_name,
        email=user.email, phone=user.phone, establishment_id=establishment.id,
        establishment_name=establishment.name, establishment_status=establishment.status,
        category=reference.category_labels().get(establishment.category_code, establishment.category_code),
        finess_category=finess_category_labels().get(establishment.finess_category_code or ""),
        id_kind=establishment.id_kind, identifier=establishment.finess, address=establishment.address,
        postal_code=establishment.postal_code, city=establishment.city, ars_code=establishment.ars_code,
        identifier_check=_check(validate_identifier, establishment.finess),
        postal_code_check=_check(geo.validate_postal_code, establishment.postal_code),
        ars_check=_ars_check(establishment),
        department_warning=(finess_department_mismatch(establishment.finess, establishment.department_code)
                            if establishment.id_kind == IdKind.FINESS.value else None),
        missions=[
            {"profession": reference.profession_labels().get(m.profession_code, m.profession_code),
             "specialty": m.specialty, "count": m.count, "start_date": m.start_date, "end_date": m.end_date,
             "needs_vehicle": m.needs_vehicle, "needs_weekend": m.needs_weekend, "exp_ehpad": m.exp_ehpad,
             "exp_reanimation": m.exp_reanimation, "vaccination": m.vaccination}
            for m in missions
        ],
    )


def _pending_query(actor: SessionUser) -> sa.Select:
    query = (
        sa.select(User, Establishment)
        .join(Membership, Membership.user_id == User.id)
        .join(Establishment, Establishment.id == Membership.establishment_id)
        .where(User.status == AccountStatus.PENDING.value, User.role == Role.ETABLISSEMENT.value)
    )
    if actor.role == "ars":
        query = query.where(Establishment.ars_code == actor.ars_code)
    return query


def pending_requests(session: so.Session, *, actor: SessionUser | None) -> list[PendingRequest]:
    """The queue "Validation des comptes": an ARS sees its region, the CCS every region."""
    actor = require_role(actor, *REGULATORS)
    rows = session.execute(_pending_query(actor).order_by(User.created_at, User.id)).all()
    return [_pending_view(session, user, establishment) for user, establishment in rows]


def pending_count(session: so.Session, *, actor: SessionUser | None) -> int:
    actor = require_role(actor, *REGULATORS)
    return session.scalar(sa.select(sa.func.count()).select_from(_pending_query(actor).subquery())) or 0


def _pending_user(session: so.Session, actor: SessionUser | None,
                  user_id: int) -> tuple[User, list[Establishment]]:
    user = session.get(User, user_id, with_for_update=True)
    if user is None or user.role != Role.ETABLISSEMENT.value:
        raise NotFound("Cette demande de compte n'existe pas.")
    establishments = session.scalars(
        sa.select(Establishment).join(Membership, Membership.establishment_id == Establishment.id)
        .where(Membership.user_id == user.id)
    ).all()
    for establishment in establishments:
        require_region(actor, establishment.ars_code)
    if user.status != AccountStatus.PENDING.value:
        raise Conflict("Cette demande a déjà été traitée.")
    return user, list(establishments)


def validate_account(session: so.Session, *, actor: SessionUser | None, user_id: int,
                     now: datetime | None = None) -> str:
    """Activate the account, its establishment and its needs, and e-mail a single-use activation link."""
    now = now or utcnow()
    user, establishments = _pending_user(session, actor, user_id)
    user.status = AccountStatus.ACTIVE.value
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_validated",
                 before=AccountStatus.PENDING.value, after=AccountStatus.ACTIVE.value, at=now)
    for establishment in establishments:
        if establishment.status == EstablishmentStatus.PENDING.value:
            establishment.status = EstablishmentStatus.ACTIVE.value
            record_event(session, actor_id=actor.id, entity="establishment", entity_id=establishment.id,
                         action="activated", before="pending", after="active", at=now)
    for mission in session.scalars(sa.select(Mission).where(Mission.created_by == user.id,
                                                            Mission.status == MissionStatus.PENDING.value)):
        mission.status = MissionStatus.OPEN.value
        record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="opened",
                     before="pending", after="open", at=now)
    link = activation_link(session, user=user, now=now)
    name = establishments[0].name if establishments else ""
    queue_email(session, dedup_key=f"account-validated:{user.id}", to=user.email, now=now,
                content=emails.account_validated(user.first_name, name, link))
    return user.email


def reject_account(session: so.Session, *, actor: SessionUser | None, user_id: int, reason: str,
                   now: datetime | None = None) -> str:
    """Refuse a request with a reason: frees its e-mail and, if nobody else uses it, its FINESS."""
    now = now or utcnow()
    reason = validate_text(reason, "reason", "Motif du refus", max_length=1000, multiline=True)
    user, establishments = _pending_user(session, actor, user_id)
    user.status = AccountStatus.REJECTED.value
    user.status_reason = reason
    record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_rejected",
                 before=AccountStatus.PENDING.value, after=AccountStatus.REJECTED.value, at=now)
    for establishment in establishments:
        if establishment.status == EstablishmentStatus.PENDING.value and not _other_live_members(
            session, establishment.id, user.id
        ):
            establishment.status = EstablishmentStatus.REJECTED.value
            record_event(session, actor_id=actor.id, entity="establishment", entity_id=establishment.id,
                         action="rejected", before="pending", after="rejected", at=now)
    for mission in session.scalars(sa.select(Mission).where(Mission.created_by == user.id,
                                                            Mission.status == MissionStatus.PENDING.value)):
        mission.status = MissionStatus.CLOSED.value
        mission.closed_at = now
        record_event(session, actor_id=actor.id, entity="mission", entity_id=mission.id, action="closed",
                     before="pending", after="closed", details={"cause": "account_rejected"}, at=now)
    name = establishments[0].name if establishments else ""
    queue_email(session, dedup_key=f"account-rejected:{user.id}", to=user.email, now=now,
                content=emails.account_rejected(user.first_name, name, reason))
    return user.email


def _other_live_members(session: so.Session, establishment_id: int, user_id: int) -> bool:
    return bool(session.scalar(
        sa.select(sa.func.count()).select_from(Membership).join(User, User.id == Membership.user_id)
        .where(Membership.establishment_id == establishment_id, Membership.user_id != user_id,
               User.status.in_([AccountStatus.PENDING.value, AccountStatus.ACTIVE.value]))
    ))


# ---------------------------------------------------------------- passwords and links


@dataclass(frozen=True)
class LinkOwner:
    first_name: str
    email: str


def password_link_owner(session: so.Session, *, actor: SessionUser | None = None, token: str,
                        now: datetime | None = None) -> LinkOwner:
    """Whose password a usable link sets, or InvalidLink; the link itself is not used up. Anyone holding the
    link may ask, signed in or not (the page tells a signed-in stranger to sign out)."""
    found = usable_token(session, raw=token, purposes=PASSWORD_PURPOSES, now=now)
    user = session.get(User, found.user_id)
    return LinkOwner(user.first_name, user.email)


def activate(session: so.Session, *, actor: SessionUser | None, token: str, password: str,
             now: datetime | None = None) -> str:
    """Set the password from a single-use link (activation or reset); returns the account's e-mail. The link
    is the proof: whoever is signed in (`actor`) plays no part."""
    now = now or utcnow()
    password = validate_password(password)
    user = consume_token(session, raw=token, purposes=PASSWORD_PURPOSES, now=now)
    if user.status != AccountStatus.ACTIVE.value:
        raise InvalidLink("Ce compte n'est pas actif : contactez votre ARS.", can_renew=False)
    first_time = user.password_hash is None
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.sessions_valid_after = now  # a new password ends every session opened with the old one
    record_event(session, actor_id=user.id, entity="user", entity_id=user.id,
                 action="activated" if first_time else "password_reset", at=now)
    return user.email


def request_password_reset(session: so.Session, *, actor: SessionUser | None, email: str,
                           now: datetime | None = None) -> None:
    """Send a fresh link to an active account (activated or not); says nothing about unknown e-mails."""
    now = now or utcnow()
    # An address with an invisible character cannot be anyone's: saying so reveals nothing about who exists.
    email = refuse_invisible(email or "", "email", "Adresse électronique")
    user = _find_live_user(session, email)
    if user is None or user.status != AccountStatus.ACTIVE.value:
        return
    token = issue_token(session, user=user, purpose=TokenPurpose.RESET.value, now=now)
    link = emails.link_to(emails.ACTIVATION_PATH, jeton=token)
    queue_email(session, dedup_key=f"reset:{token_hash(token)[:24]}", to=user.email, now=now,
                content=emails.password_link(user.first_name, link))
    record_event(session, actor_id=None, entity="user", entity_id=user.id, action="reset_requested", at=now)
