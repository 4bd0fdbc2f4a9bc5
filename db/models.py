"""Typed SQLAlchemy 2 models of DESIGN §2. Constraints live here and in the migrations, never only in code."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and always hands back aware UTC datetimes, on SQLite as on PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store UTC-aware datetimes only")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class IdKind(StrEnum):
    FINESS = "finess"
    GID = "gid"


class AccountStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DISABLED = "disabled"
    REJECTED = "rejected"


class EstablishmentStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"


class Role(StrEnum):
    ETABLISSEMENT = "etablissement"
    PROFESSIONNEL = "professionnel"
    ARS = "ars"
    CCS = "ccs"
    MINISTERE = "ministere"
    ADMIN = "admin"
    POOL = "pool"


class TokenPurpose(StrEnum):
    ACTIVATION = "activation"
    RESET = "reset"
    AVAILABILITY = "availability"


class MissionStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"
    ARCHIVED = "archived"


class ProfessionalStatus(StrEnum):
    DISPONIBLE = "disponible"
    INDISPONIBLE = "indisponible"
    EN_COURS = "en_cours"
    CONTACTE = "contacte"
    AFFECTE = "affecte"
    SUPPRIME = "supprime"  # data deleted at the volunteer's request: anonymous row kept for the audit trail


class Mobility(StrEnum):
    LOCALE = "locale"
    DEPARTEMENTALE = "departementale"
    REGIONALE = "regionale"
    NATIONALE = "nationale"


class IdType(StrEnum):
    RPPS = "rpps"
    ADELI = "adeli"
    NONE = "none"


class ActivityType(StrEnum):
    SALARIE = "salarie"
    LIBERAL = "liberal"
    MIXTE = "mixte"
    RETRAITE = "retraite"
    ETUDIANT = "etudiant"
    SANS_ACTIVITE = "sans_activite"


class DocumentKind(StrEnum):
    IDENTITE = "identite"
    DIPLOME = "diplome"
    AUTRE = "autre"


class ProposalOrigin(StrEnum):
    DIRECT = "direct"
    PUSH = "push"
    POOL = "pool"  # pushed by a territorial pool's coordinator to a member establishment's mission (issue 14)


class PoolMemberState(StrEnum):
    """An establishment in a territorial pool: it asks to join (or the ARS adds it), then is a member."""

    DEMANDE = "demande"
    MEMBRE = "membre"
    REFUSE = "refuse"
    RETIRE = "retire"


class RosterState(StrEnum):
    """A volunteer on a pool's roster — by consent only: invited, then accepted (membre) or declined."""

    INVITE = "invite"
    MEMBRE = "membre"
    DECLINE = "decline"
    RETIRE = "retire"


class RosterOrigin(StrEnum):
    INVITATION = "invitation"  # invited by the coordinator from the national pool, accepted from « Mon profil »
    INSCRIPTION = "inscription"  # registered directly with the pool's code: pool-only until released


class ProposalState(StrEnum):
    EN_COURS = "en_cours"
    CONTACTE = "contacte"
    AFFECTE = "affecte"
    REFUSE = "refuse"
    LIBERE = "libere"
    ANNULE = "annule"
    TERMINE = "termine"  # the assignment went to the end of the mission
    DECLINE = "decline"  # the volunteer said no (« Décliner »), with a reason code: never proposed again for it


class DeclineReason(StrEnum):
    """Why a volunteer declines a proposal (« Mes missions »): the short list of issue 13."""

    DEJA_ENGAGE = "deja_engage"
    TROP_LOIN = "trop_loin"
    DATES = "dates"
    AUTRE = "autre"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; left so by a crash it is never resent automatically
    SENT = "sent"


LIVE_PROPOSAL_STATES = (ProposalState.EN_COURS, ProposalState.CONTACTE, ProposalState.AFFECTE)


def check_in(name: str, column: str, values: type[StrEnum]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def _live_states_sql() -> sa.TextClause:
    allowed = ", ".join(f"'{state.value}'" for state in LIVE_PROPOSAL_STATES)
    return sa.text(f"state IN ({allowed})")


# ---------------------------------------------------------------- reference data


class Ars(Base):
    __tablename__ = "ars"
    code: so.Mapped[str] = so.mapped_column(sa.String(3), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))


class Departement(Base):
    __tablename__ = "departement"
    code: so.Mapped[str] = so.mapped_column(sa.String(3), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    ars_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    lat: so.Mapped[float]
    lon: so.Mapped[float]


class PostalCode(Base):
    """Mirror of assets/postal_codes.csv for SQL joins and exports; core.places.geo reads the asset itself."""

    __tablename__ = "postal_code"
    postal_code: so.Mapped[str] = so.mapped_column(sa.String(5), primary_key=True)
    insee_code: so.Mapped[str] = so.mapped_column(sa.String(5), primary_key=True)
    commune: so.Mapped[str] = so.mapped_column(sa.String(80))
    # No foreign key: Saint-Pierre-et-Miquelon (975) has postal codes but no ARS, hence no Departement row.
    department_code: so.Mapped[str] = so.mapped_column(sa.String(3), index=True)
    lat: so.Mapped[float]
    lon: so.Mapped[float]


class Profession(Base):
    __tablename__ = "profession"
    code: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(120))
    family: so.Mapped[str] = so.mapped_column(sa.String(40))
    eligible_vaccination: so.Mapped[bool] = so.mapped_column(default=False)


class EstablishmentCategory(Base):
    __tablename__ = "establishment_category"
    code: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(160))


class FinessCategory(Base):
    """The finer FINESS « catégorie d'établissement » (EHPAD, SSIAD, SPASAD, SAAD, …): the ministry's six
    types do not tell them apart, and territorial pools take EHPAD/SSIAD/SPASAD/SAAD members only."""

    __tablename__ = "finess_category"
    code: so.Mapped[str] = so.mapped_column(sa.String(4), primary_key=True)  # the FINESS code, e.g. 500
    short_label: so.Mapped[str] = so.mapped_column(sa.String(40))  # « EHPAD »
    label: so.Mapped[str] = so.mapped_column(sa.String(200))
    pool_eligible: so.Mapped[bool] = so.mapped_column(default=False)


# ---------------------------------------------------------------- actors


class Establishment(Base):
    __tablename__ = "establishment"
    __table_args__ = (
        check_in("id_kind", "id_kind", IdKind),
        check_in("status", "status", EstablishmentStatus),
        # A rejected request frees its FINESS/GID for a new request.
        sa.Index(
            "uq_establishment_identifier_live",
            "id_kind",
            "finess",
            unique=True,
            sqlite_where=sa.text("status <> 'rejected'"),
            postgresql_where=sa.text("status <> 'rejected'"),
        ),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    finess: so.Mapped[str] = so.mapped_column(sa.String(10), index=True)
    id_kind: so.Mapped[str] = so.mapped_column(sa.String(10), default=IdKind.FINESS.value)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    category_code: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("establishment_category.code"), index=True
    )
    # None for establishments registered before issue 14 (and not yet told): never guessed from the type. No
    # foreign key: SQLite adds or drops one only by copying this table, which the whole schema references
    # (migration 0010); core.access checks the code against finess_category.
    finess_category_code: so.Mapped[str | None] = so.mapped_column(sa.String(4), index=True)
    address: so.Mapped[str] = so.mapped_column(sa.String(300))
    postal_code: so.Mapped[str] = so.mapped_column(sa.String(5))
    city: so.Mapped[str] = so.mapped_column(sa.String(80))
    department_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("departement.code"), index=True)
    ars_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    lat: so.Mapped[float]
    lon: so.Mapped[float]
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=EstablishmentStatus.PENDING.value)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Professional(Base):
    __tablename__ = "professional"
    __table_args__ = (
        check_in("status", "status", ProfessionalStatus),
        check_in("mobility", "mobility", Mobility),
        check_in("id_type", "id_type", IdType),
        check_in("activity_type", "activity_type", ActivityType),
        sa.CheckConstraint(
            "available_to IS NULL OR available_from IS NULL OR available_to >= available_from",
            name="availability_range",
        ),
        sa.Index("uq_professional_email_lower", sa.func.lower(sa.text("email")), unique=True),
        # Matching: the profession, then the region or the local bounding box (core.staffing.matching._prefilter).
        sa.Index("ix_professional_matching_region", "profession_code", "ars_code", "status"),
        sa.Index("ix_professional_matching_box", "profession_code", "lat", "lon"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    first_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    last_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    phone: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    postal_code: so.Mapped[str] = so.mapped_column(sa.String(5))
    city: so.Mapped[str] = so.mapped_column(sa.String(80))
    department_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("departement.code"), index=True)
    ars_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    lat: so.Mapped[float]
    lon: so.Mapped[float]
    profession_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("profession.code"), index=True)
    specialty: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    activity_type: so.Mapped[str] = so.mapped_column(sa.String(20), default=ActivityType.SALARIE.value)
    id_type: so.Mapped[str] = so.mapped_column(sa.String(10), default=IdType.NONE.value)
    id_number: so.Mapped[str | None] = so.mapped_column(sa.String(12), index=True)
    has_vehicle: so.Mapped[bool] = so.mapped_column(default=False)
    available_week: so.Mapped[bool] = so.mapped_column(default=True)
    available_weekend: so.Mapped[bool] = so.mapped_column(default=False)
    available_from: so.Mapped[date | None]
    available_to: so.Mapped[date | None]
    mobility: so.Mapped[str] = so.mapped_column(sa.String(20), default=Mobility.DEPARTEMENTALE.value)
    exp_ehpad: so.Mapped[bool] = so.mapped_column(default=False)
    exp_reanimation: so.Mapped[bool] = so.mapped_column(default=False)
    exp_vaccination: so.Mapped[bool] = so.mapped_column(default=False)
    volunteer_vaccination: so.Mapped[bool] = so.mapped_column(default=False)
    message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    verified: so.Mapped[bool] = so.mapped_column(default=False)
    # Same phone or RPPS as an earlier volunteer: flagged for the ARS, never shown to the registrant.
    possible_duplicate_of: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("professional.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(
        sa.String(15), default=ProfessionalStatus.DISPONIBLE.value, index=True
    )
    status_since: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    consent_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    availability_confirmed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # The shortest distance (tenths of a km, as matching measures it) of a mission the volunteer declined as « trop
    # loin »: missions at least as far rank lower for them. Forgotten when they move, widen their mobility, or ask.
    too_far_dm: so.Mapped[int | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        check_in("role", "role", Role),
        check_in("status", "status", AccountStatus),
        sa.CheckConstraint("role <> 'ars' OR ars_code IS NOT NULL", name="ars_has_region"),
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins_positive"),
        # Case-insensitive and freed by a rejection (DESIGN §5).
        sa.Index(
            "uq_users_email_lower_live",
            sa.func.lower(sa.text("email")),
            unique=True,
            sqlite_where=sa.text("status <> 'rejected'"),
            postgresql_where=sa.text("status <> 'rejected'"),
        ),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    first_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    last_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    ars_code: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    # A coordinator's pool (role `pool`): no foreign key, as in 0001 — SQLite would have to copy the users table
    # to add one; core.pools checks it on every use.
    pool_id: so.Mapped[int | None]
    professional_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("professional.id"), index=True
    )
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=AccountStatus.PENDING.value)
    failed_logins: so.Mapped[int] = so.mapped_column(default=0)
    status_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)  # e.g. why a request was refused
    locked_until: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[datetime | None]  # activity, for the purge of inactive volunteers (GDPR)
    # A session cookie issued before this instant is refused: sign-out and a password change end every
    # session of the user (the library's cookie holds only the user and an expiry).
    sessions_valid_after: so.Mapped[datetime | None]


class Membership(Base):
    __tablename__ = "membership"
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    establishment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("establishment.id"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Token(Base):
    __tablename__ = "token"
    __table_args__ = (check_in("purpose", "purpose", TokenPurpose),)
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(20))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]
    cancelled_at: so.Mapped[datetime | None]


# ---------------------------------------------------------------- needs and proposals


class Mission(Base):
    __tablename__ = "mission"
    __table_args__ = (
        sa.Index("ix_mission_establishment_status", "establishment_id", "status"),
        sa.Index("ix_mission_status_end", "status", "end_date"),  # missions to close after their end
        check_in("status", "status", MissionStatus),
        sa.CheckConstraint("count >= 0", name="count_positive"),
        sa.CheckConstraint("end_date >= start_date", name="dates_ordered"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    establishment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("establishment.id"), index=True)
    created_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    profession_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("profession.code"), index=True)
    specialty: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    count: so.Mapped[int]
    start_date: so.Mapped[date]
    end_date: so.Mapped[date]
    needs_vehicle: so.Mapped[bool] = so.mapped_column(default=False)
    needs_weekend: so.Mapped[bool] = so.mapped_column(default=False)
    exp_ehpad: so.Mapped[bool] = so.mapped_column(default=False)
    exp_reanimation: so.Mapped[bool] = so.mapped_column(default=False)
    vaccination: so.Mapped[bool] = so.mapped_column(default=False)
    contact_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    contact_phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    status: so.Mapped[str] = so.mapped_column(
        sa.String(10), default=MissionStatus.PENDING.value, index=True
    )
    manual_priority: so.Mapped[int | None]
    ccs_alert_at: so.Mapped[datetime | None]
    ccs_alert_message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    pools_opened_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    filled_at: so.Mapped[datetime | None]
    closed_at: so.Mapped[datetime | None]
    archived_at: so.Mapped[datetime | None]
    # The CCS closes an alert (with or without opening the national pools): its history is raised → pools
    # opened → closed.
    alert_closed_at: so.Mapped[datetime | None]
    alert_closed_by: so.Mapped[int | None]  # a user id; the Event of the closing is the authority
    alert_close_note: so.Mapped[str | None] = so.mapped_column(sa.Text)


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (
        check_in("kind", "kind", DocumentKind),
        sa.CheckConstraint("size >= 0", name="size_positive"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    professional_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("professional.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    mime: so.Mapped[str] = so.mapped_column(sa.String(60))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    # Deferred: lists of documents never pull megabytes of content.
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Proposal(Base):
    """One row per solicitation: the full history of who asked whom for which mission."""

    __tablename__ = "proposal"
    __table_args__ = (
        check_in("origin", "origin", ProposalOrigin),
        check_in("state", "state", ProposalState),
        # At most one live proposal per volunteer: double booking is impossible at the database level.
        sa.Index("ix_proposal_professional_recent", "professional_id", "created_at"),  # solicitations in 30 days
        sa.Index("ix_proposal_mission_state", "mission_id", "state"),
        sa.Index("ix_proposal_state_created", "state", "created_at"),  # reminders and expiries
        sa.Index(
            "uq_proposal_one_live_per_professional",
            "professional_id",
            unique=True,
            sqlite_where=_live_states_sql(),
            postgresql_where=_live_states_sql(),
        ),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("mission.id"), index=True)
    professional_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("professional.id"), index=True)
    origin: so.Mapped[str] = so.mapped_column(sa.String(10), default=ProposalOrigin.DIRECT.value)
    state: so.Mapped[str] = so.mapped_column(sa.String(10))
    by_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    decided_at: so.Mapped[datetime | None]
    reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    reason_code: so.Mapped[str | None] = so.mapped_column(sa.String(20))  # a DeclineReason, for a decline
    interested_at: so.Mapped[datetime | None]  # « Je suis intéressé(e) »: the volunteer's answer, no state change


class CrisisMode(Base):
    __tablename__ = "crisis_mode"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ars_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    profession_code: so.Mapped[str | None] = so.mapped_column(
        sa.ForeignKey("profession.code"), index=True
    )
    enabled_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    enabled_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    disabled_at: so.Mapped[datetime | None]
    disabled_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)


class TensionSource(StrEnum):
    RELEVE = "releve"  # taken by the worker on that day: every figure, volunteers included
    RECONSTITUE = "reconstitue"  # rebuilt afterwards from missions and proposals: no volunteer figure


class TensionDay(Base):
    """A day of the tension history (core.figures.tension_history): one row per day that has figures.

    A day without a row is missing (the worker did not run and it could not be rebuilt) and is drawn as a
    gap; a day with a row and no snapshot row for a (department, profession) means zero there."""

    __tablename__ = "tension_day"
    __table_args__ = (check_in("source", "source", TensionSource),)
    day: so.Mapped[date] = so.mapped_column(primary_key=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(12))
    taken_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class FiguresSnapshot(Base):
    """Figures computed by the worker for everyone (core.figures.snapshots): the national overview as the
    « Vue nationale » opens, so that no reader waits for the GROUP BYs over the whole workforce."""

    __tablename__ = "figures_snapshot"
    key: so.Mapped[str] = so.mapped_column(sa.String(60), primary_key=True)
    computed_at: so.Mapped[datetime]
    seconds: so.Mapped[float]  # how long the computation took (shown to operators, watched in the log)
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)


class TensionSnapshot(Base):
    """Posts and available volunteers of one department and profession on one day (non-zero rows only)."""

    __tablename__ = "tension_snapshot"
    day: so.Mapped[date] = so.mapped_column(sa.ForeignKey("tension_day.day", ondelete="CASCADE"), primary_key=True)
    department_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("departement.code"), primary_key=True,
                                                       index=True)
    profession_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("profession.code"), primary_key=True,
                                                       index=True)
    posts_requested: so.Mapped[int]
    posts_filled: so.Mapped[int]
    posts_unfilled: so.Mapped[int]
    available_volunteers: so.Mapped[int | None]  # None on a rebuilt day: past availability is not stored


# ---------------------------------------------------------------- territorial pools (issue 14, DESIGN §9)

# The call for projects allows several infra-departmental pools in Gironde and Pyrénées-Atlantiques only.
SEVERAL_POOLS_DEPARTMENTS = ("33", "64")


def _one_pool_per_department_sql() -> sa.TextClause:
    allowed = ", ".join(f"'{code}'" for code in SEVERAL_POOLS_DEPARTMENTS)
    return sa.text(f"closed_at IS NULL AND department_code NOT IN ({allowed})")


class TerritorialPool(Base):
    """A « plateforme territoriale solidaire »: one shared replacement pool per department, carried by a
    support establishment that receives the funds, run by a coordinator (role `pool`), its project followed
    by the ARS (engagement letter → first credit → convention → second credit). Amounts in whole euros."""

    __tablename__ = "territorial_pool"
    __table_args__ = (
        sa.Index("uq_territorial_pool_department_open", "department_code", unique=True,
                 sqlite_where=_one_pool_per_department_sql(), postgresql_where=_one_pool_per_department_sql()),
        sa.CheckConstraint("total_budget IS NULL OR total_budget >= 0", name="budget_positive"),
        sa.CheckConstraint("funding_acquired IS NULL OR funding_acquired >= 0", name="acquired_positive"),
        sa.CheckConstraint("funding_expected IS NULL OR funding_expected >= 0", name="expected_positive"),
        sa.CheckConstraint("first_credit_amount IS NULL OR first_credit_amount >= 0", name="first_credit_positive"),
        sa.CheckConstraint("second_credit_amount IS NULL OR second_credit_amount >= 0",
                           name="second_credit_positive"),
        sa.CheckConstraint("convention_due >= engagement_due", name="deadlines_ordered"),
        sa.CheckConstraint("convention_received_on IS NULL OR engagement_received_on IS NULL "
                           "OR convention_received_on >= engagement_received_on", name="convention_after_letter"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(12), unique=True)  # volunteers register with it
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    ars_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    department_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("departement.code"), index=True)
    support_establishment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("establishment.id"), index=True)
    start_date: so.Mapped[date]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    closed_at: so.Mapped[datetime | None]
    # Deadlines of the project (the call's: letter by 6 Nov. 2020, convention by 30 Jan. 2021).
    engagement_due: so.Mapped[date]
    convention_due: so.Mapped[date]
    # 1st step: the engagement letter.
    engagement_received_on: so.Mapped[date | None]
    engagement_summary: so.Mapped[str | None] = so.mapped_column(sa.Text)
    total_budget: so.Mapped[int | None]
    funding_acquired: so.Mapped[int | None]
    funding_expected: so.Mapped[int | None]
    first_credit_amount: so.Mapped[int | None]  # 50,000 € by default, granted after the letter
    first_credit_on: so.Mapped[date | None]
    # 2nd step: the convention.
    convention_received_on: so.Mapped[date | None]
    convention_signatories: so.Mapped[str | None] = so.mapped_column(sa.Text)
    progress_report: so.Mapped[str | None] = so.mapped_column(sa.Text)
    second_credit_amount: so.Mapped[int | None]  # the 2021 top-up
    second_credit_on: so.Mapped[date | None]


class PoolMember(Base):
    """A member establishment of a pool (EHPAD, SSIAD, SPASAD, SAAD of the department); one live pool each."""

    __tablename__ = "pool_member"
    __table_args__ = (
        check_in("state", "state", PoolMemberState),
        sa.Index("uq_pool_member_one_live", "establishment_id", unique=True,
                 sqlite_where=sa.text("state IN ('demande', 'membre')"),
                 postgresql_where=sa.text("state IN ('demande', 'membre')")),
        sa.Index("ix_pool_member_pool_state", "pool_id", "state"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pool_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("territorial_pool.id"), index=True)
    establishment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("establishment.id"), index=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10))
    requested_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    decided_at: so.Mapped[datetime | None]
    decided_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)


class PoolRosterEntry(Base):
    """A volunteer on a pool's roster, by consent only. Pool-only members (registered with the pool's code)
    are seen by the pool's establishments and the region's ARS only, until the coordinator releases them."""

    __tablename__ = "pool_roster"
    __table_args__ = (
        check_in("state", "state", RosterState),
        check_in("origin", "origin", RosterOrigin),
        sa.Index("uq_pool_roster_one_live", "pool_id", "professional_id", unique=True,
                 sqlite_where=sa.text("state IN ('invite', 'membre')"),
                 postgresql_where=sa.text("state IN ('invite', 'membre')")),
        sa.Index("ix_pool_roster_pool_state", "pool_id", "state"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pool_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("territorial_pool.id"), index=True)
    professional_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("professional.id"), index=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10))
    origin: so.Mapped[str] = so.mapped_column(sa.String(12))
    pool_only: so.Mapped[bool] = so.mapped_column(default=False)
    invited_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    answered_at: so.Mapped[datetime | None]
    released_at: so.Mapped[datetime | None]  # pool-only member released to the national pool


# ---------------------------------------------------------------- application campaigns (issue 15, DESIGN §9)


class CampaignState(StrEnum):
    """An ARS's call for applications: drafted, published to its region's establishments, then its results."""

    BROUILLON = "brouillon"
    PUBLIEE = "publiee"
    RESULTATS = "resultats"  # results published: the decisions are shown and the follow-up starts


class DossierState(StrEnum):
    INCOMPLET = "incomplet"
    COMPLET = "complet"  # every mandatory field and document there, to be confirmed
    CONFIRME = "confirme"
    NON_RECEVABLE = "non_recevable"  # not confirmed by the closing date: never sent to the jury


class DossierDecision(StrEnum):
    FAVORABLE = "favorable"
    DEFAVORABLE = "defavorable"


class Campaign(Base):
    """A call for applications of an ARS for funded posts (« 400 postes de médecins généralistes… »): open
    from `opens_at` to `closes_at`; selected dossiers confirm the project by `project_confirmation_due` and
    the doctor's start by `start_confirmation_due`. The five tabs of a dossier are fixed: the ARS chooses
    which of their fields (`required_fields`, field names) and which documents (`required_documents`,
    [{"code", "label"}]) are mandatory."""

    __tablename__ = "campaign"
    __table_args__ = (
        check_in("state", "state", CampaignState),
        sa.CheckConstraint("closes_at > opens_at", name="dates_ordered"),
        sa.CheckConstraint("start_confirmation_due >= project_confirmation_due", name="follow_up_ordered"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ars_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("ars.code"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    legal_reference: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    description: so.Mapped[str | None] = so.mapped_column(sa.Text)
    opens_at: so.Mapped[datetime]
    closes_at: so.Mapped[datetime]
    project_confirmation_due: so.Mapped[date]
    start_confirmation_due: so.Mapped[date]
    required_documents: so.Mapped[list[dict[str, str]]] = so.mapped_column(sa.JSON)
    required_fields: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=CampaignState.BROUILLON.value)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    published_at: so.Mapped[datetime | None]
    results_published_at: so.Mapped[datetime | None]
    results_published_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)


class Dossier(Base):
    """One application of a recruiting establishment (its medical affairs office) for one candidate, in the
    five tabs of the source tool: Identification, Partenariat, Activité hospitalière, Structure de soins,
    Candidat; its documents are DossierAttachment rows."""

    __tablename__ = "campaign_dossier"
    __table_args__ = (
        check_in("state", "state", DossierState),
        check_in("decision", "decision", DossierDecision),
        sa.CheckConstraint("priority IS NULL OR priority >= 1", name="priority_positive"),
        sa.CheckConstraint("hospital_time_share IS NULL OR hospital_time_share BETWEEN 0 AND 100",
                           name="hospital_share_percent"),
        sa.CheckConstraint("care_time_share IS NULL OR care_time_share BETWEEN 0 AND 100", name="care_share_percent"),
        sa.CheckConstraint("(decision IS NULL) = (decided_at IS NULL)", name="decision_dated"),
        sa.Index("ix_campaign_dossier_campaign_establishment", "campaign_id", "establishment_id"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    campaign_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign.id"), index=True)
    establishment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("establishment.id"), index=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(15), default=DossierState.INCOMPLET.value)
    priority: so.Mapped[int | None]  # the establishment's ranking of its dossiers (1: first)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    # Identification: the recruiting establishment and its partner care structure.
    hospital_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    hospital_type: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    hospital_address: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    hospital_postal_code: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    hospital_city: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    hospital_finess: so.Mapped[str | None] = so.mapped_column(sa.String(9))
    hospital_siret: so.Mapped[str | None] = so.mapped_column(sa.String(14))
    hospital_director: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    hospital_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    partner_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    partner_type: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    partner_address: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    partner_postal_code: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    partner_city: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    partner_finess: so.Mapped[str | None] = so.mapped_column(sa.String(9))
    partner_siret: so.Mapped[str | None] = so.mapped_column(sa.String(14))  # SIRET, or SIREN (9 digits)
    partner_director: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    partner_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    # Partenariat.
    partnership_nature: so.Mapped[str | None] = so.mapped_column(sa.Text)
    priority_territory: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # Activité hospitalière.
    hospital_service: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    hospital_activity: so.Mapped[str | None] = so.mapped_column(sa.Text)
    hospital_time_share: so.Mapped[int | None]  # % of the shared post
    # Structure de soins (the ambulatory side).
    care_activity: so.Mapped[str | None] = so.mapped_column(sa.Text)
    care_time_share: so.Mapped[int | None]
    # Candidat.
    candidate_last_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    candidate_first_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    candidate_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    candidate_status: so.Mapped[str | None] = so.mapped_column(sa.String(30))
    candidate_rpps: so.Mapped[str | None] = so.mapped_column(sa.String(11))
    candidate_registration_on: so.Mapped[date | None]  # planned registration with the Order, without RPPS yet
    # Confirmation (every commitment ticked), undone by any later change.
    confirmed_at: so.Mapped[datetime | None]
    confirmed_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # The jury's decision, shown to the establishment once the results are published.
    decision: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    decided_at: so.Mapped[datetime | None]
    decided_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # Follow-up of a favourable dossier: the project maintained (or given up), then the doctor's start.
    project_maintained: so.Mapped[bool | None]
    project_answered_at: so.Mapped[datetime | None]
    doctor_started_on: so.Mapped[date | None]
    start_confirmed_at: so.Mapped[datetime | None]
    project_reminded_at: so.Mapped[datetime | None]
    start_reminded_at: so.Mapped[datetime | None]


class DossierAttachment(Base):
    """A PDF of a dossier (one per kind of the campaign's documents; a new upload replaces it). Served only
    to the owning establishment and the campaign's ARS; deleted with its dossier."""

    __tablename__ = "dossier_attachment"
    __table_args__ = (
        sa.UniqueConstraint("dossier_id", "kind", name="uq_dossier_attachment_kind"),
        sa.CheckConstraint("size >= 0", name="size_positive"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    dossier_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("campaign_dossier.id", ondelete="CASCADE"),
                                                  index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))  # a code of the campaign's required_documents
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    mime: so.Mapped[str] = so.mapped_column(sa.String(60))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    uploaded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


# ---------------------------------------------------------------- audit and e-mail


class Event(Base):
    """Audit trail: ids, statuses and field names only, never personal values; never updated."""

    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_entity", "entity", "entity_id"),
        sa.Index("ix_event_region_at", "ars_code", "at"),  # an ARS's « Journal »
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    actor_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    entity: so.Mapped[str] = so.mapped_column(sa.String(30))
    entity_id: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    before: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    after: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    details: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    # The region the event concerns (None: national, shown to national roles only). Not a foreign key:
    # the trail outlives any reference data.
    ars_code: so.Mapped[str | None] = so.mapped_column(sa.String(3))


class Outbox(Base):
    """An e-mail to send. pending → sending (claimed, committed before talking to SMTP) → sent, or back to
    pending on an SMTP error; a row a crash left in `sending` waits for an admin (core.mail.outbox)."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_positive"),
        check_in("status", "status", OutboxStatus),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_iff_sent_at"),
        sa.CheckConstraint("status <> 'sending' OR claimed_at IS NOT NULL", name="sending_is_claimed"),
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    dedup_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    to: so.Mapped[str] = so.mapped_column("to_address", sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body_text: so.Mapped[str] = so.mapped_column(sa.Text)
    body_html: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=OutboxStatus.PENDING.value,
                                              server_default=OutboxStatus.PENDING.value)
    claimed_at: so.Mapped[datetime | None]  # when a worker took the row to send it
    sent_at: so.Mapped[datetime | None]
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
