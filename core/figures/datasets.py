"""The six datasets of « Exports » (DESIGN §6, issue 11): their columns, their filters and their rows.

Each dataset streams its rows from one SQL query (`yield_per`: the rows never sit in memory all at once),
except « statistiques », a few thousand aggregated rows. The permission checks live in core.figures.exports;
here a `Scope` says what one export may read — filters already narrowed to the reader's region or
establishments, nominative or not.

Pseudonymised exports (the ministry's, and anyone's who does not ask for names): a volunteer is a stable
pseudonym, an HMAC of their id keyed by RENFORT_PSEUDONYM_KEY — the same in every export, so that the
ministry can follow one volunteer from the pool to their assignments, and nobody without the key can go
back to the id —, their department stands for their town, and no name, e-mail, phone, RPPS/ADELI
number, account holder or free text (messages, notes, reasons) leaves the database: the personal columns
are not even read.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.indicators import (
    ASSIGNED,
    NEEDS,
    IndicatorFilters,
    Period,
    assigned_by_mission,
    available_by_department_and_profession,
    paris_midnight,
    posts_by_department_and_profession,
    tension,
)
from core.figures.spreadsheet import DECIMAL, PERCENT, Column
from core.places import reference
from core.shared.clock import PARIS, paris_today
from core.shared.labels import (
    ESTABLISHMENT_STATUS,
    MISSION_STATUS,
    PROFESSIONAL_STATUS,
    PROPOSAL_STATE,
    ROLE_LABELS,
)
from core.shared.sqlfunc import as_int, greatest, hours_between
from core.shared.validation import format_phone
from core.staffing.matching import SOLICITATION_WINDOW_DAYS
from core.staffing.regulation import ALERT_STATES, alert_state, urgency_score
from db.models import (
    AccountStatus,
    Establishment,
    EstablishmentStatus,
    Membership,
    Mission,
    MissionStatus,
    Professional,
    ProfessionalStatus,
    Proposal,
    User,
)

# The filters a dataset may use (the page shows those widgets only; the others are dropped from a request).
REGION, DEPARTMENT, PROFESSION, CATEGORY, PERIOD, STATUS = (
    "region", "department", "profession", "category", "period", "status")
STEPS = {"semaine": "par semaine", "jour": "par jour"}  # « statistiques »: posts per week or per day
STREAM_BATCH = 2000

ALL, NOMINATIVE, PSEUDONYMISED = "all", "nominative", "pseudonymised"  # who sees a column

VOLUNTEER_STATUS = {code: word for code, word in PROFESSIONAL_STATUS.items() if code != "supprime"}
ASSIGNMENT_STATE = {code: PROPOSAL_STATE[code] for code in ("affecte", "termine", "annule")}
MOBILITY = {"locale": "Locale", "departementale": "Départementale", "regionale": "Régionale",
            "nationale": "Nationale"}
ACTIVITY = {"salarie": "Salarié(e)", "liberal": "Libéral(e)", "mixte": "Mixte", "retraite": "Retraité(e)",
            "etudiant": "Étudiant(e)", "sans_activite": "Sans activité"}
ORIGIN = {"direct": "Contact direct de l'établissement", "push": "Proposé par l'ARS ou le CCS"}
ID_TYPE = {"rpps": "RPPS", "adeli": "ADELI", "none": "Aucun"}


@dataclass(frozen=True)
class ExportFilters:
    """Region, department, profession, establishment category, period (either end may stay open) and
    statuses (of the dataset's rows: see Dataset.statuses)."""

    ars_code: str | None = None
    department_code: str | None = None
    profession_code: str | None = None
    category_code: str | None = None
    start: date | None = None
    end: date | None = None
    statuses: tuple[str, ...] = ()

    def as_details(self) -> dict[str, Any]:
        """The filters set, for the audit Event (codes and dates only)."""
        values = {"region": self.ars_code, "department": self.department_code, "profession": self.profession_code,
                  "category": self.category_code, "from": self.start and self.start.isoformat(),
                  "to": self.end and self.end.isoformat(), "statuses": list(self.statuses) or None}
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Scope:
    """What one export reads: the filters (narrowed to the reader's rights), the establishments of an
    establishment user (None: no such bound), names or pseudonyms."""

    filters: ExportFilters
    establishment_ids: tuple[int, ...] | None
    nominative: bool
    pseudonym_key: str
    now: datetime
    step: str = "semaine"
    limit: int | None = None  # the preview's first rows


@dataclass(frozen=True)
class Field:
    column: Column
    value: Callable[[Mapping[str, Any]], Any]
    audience: str = ALL


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: Iterable[Sequence[Any]]


@dataclass(frozen=True)
class Dataset:
    code: str
    label: str
    description: str
    filters: frozenset[str]
    statuses: Mapping[str, str]
    for_establishments: bool  # an establishment user may export it (its own rows)
    tables: Callable[[so.Session, Scope], list[Table]]  # the first one is the main table (the CSV's)
    count: Callable[[so.Session, Scope], int]  # rows of the main table
    grouped: bool = False  # its figures are per week or per day (Scope.step)


# ---------------------------------------------------------------- shared pieces


def pseudonym(professional_id: int, key: str) -> str:
    """A volunteer's stable pseudonym: the same in every export made with the same key, meaningless without it."""
    digest = hmac.new(key.encode(), f"professionnel:{professional_id}".encode(), hashlib.sha256).hexdigest()
    return "V-" + digest[:16].upper()


def yes_no(flag: Any) -> str | None:
    return None if flag is None else ("Oui" if flag else "Non")


def paris_day(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(PARIS).date()


def _region(code: str | None) -> str | None:
    return None if code is None else reference.ars_names().get(code, code)


def _department(code: str | None) -> str | None:
    row = reference.departements().get(code or "")
    return code if row is None else f"{code} — {row.name}"


def _profession(code: str | None) -> str | None:
    return None if code is None else reference.profession_labels().get(code, code)


def _category(code: str | None) -> str | None:
    return None if code is None else reference.category_labels().get(code, code)


def _finess_category(code: str | None) -> str | None:
    """The finer FINESS category's short label (EHPAD, SSIAD…); empty when the establishment never told it."""
    return None if code is None else {c["code"]: c["short_label"] for c in reference.finess_categories()}.get(code, code)


def _full_name(first: str | None, last: str | None) -> str | None:
    name = f"{first or ''} {last or ''}".strip()
    return name or None


def _table(title: str, fields: Sequence[Field], records: Iterable[Mapping[str, Any]], scope: Scope) -> Table:
    """The fields this reader gets (names or pseudonyms), and the rows, computed as they are written."""
    hidden = PSEUDONYMISED if scope.nominative else NOMINATIVE
    kept = [f for f in fields if f.audience != hidden]
    getters = [f.value for f in kept]
    return Table(title, [f.column for f in kept], ([get(record) for get in getters] for record in records))


def _stream(session: so.Session, query: sa.Select, scope: Scope) -> Iterator[Mapping[str, Any]]:
    """The query's rows in batches (a server-side cursor on PostgreSQL), or its first ones for a preview."""
    if scope.limit is not None:
        query = query.limit(scope.limit)
    yield from session.execute(query.execution_options(yield_per=STREAM_BATCH)).mappings()


def _count(session: so.Session, query: sa.Select) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def _mission_conditions(scope: Scope, *, period: bool = True) -> list[sa.ColumnElement[bool]]:
    """Missions (joined to their establishment) in the filters; placeholders of 0 people never count."""
    f = scope.filters
    conditions: list[sa.ColumnElement[bool]] = [Mission.count > 0]
    if f.ars_code:
        conditions.append(Establishment.ars_code == f.ars_code)
    if f.department_code:
        conditions.append(Establishment.department_code == f.department_code)
    if f.category_code:
        conditions.append(Establishment.category_code == f.category_code)
    if f.profession_code:
        conditions.append(Mission.profession_code == f.profession_code)
    if period and f.start:
        conditions.append(Mission.end_date >= f.start)
    if period and f.end:
        conditions.append(Mission.start_date <= f.end)
    if scope.establishment_ids is not None:
        conditions.append(Mission.establishment_id.in_(scope.establishment_ids))
    return conditions


def _statuses(column: sa.ColumnElement[Any], scope: Scope) -> list[sa.ColumnElement[bool]]:
    return [column.in_(scope.filters.statuses)] if scope.filters.statuses else []


def _establishment_fields(prefix: str = "") -> list[Field]:
    return [
        Field(Column("Établissement"), lambda r: r["establishment"]),
        Field(Column("FINESS / GID"), lambda r: r["finess"]),
        Field(Column("Catégorie"), lambda r: _category(r["category_code"])),
        Field(Column(f"Département{prefix}"), lambda r: _department(r["department_code"])),
        Field(Column("Région"), lambda r: _region(r["ars_code"])),
    ]


def _establishment_columns() -> list[Any]:
    return [Establishment.name.label("establishment"), Establishment.finess, Establishment.category_code,
            Establishment.department_code, Establishment.ars_code]


# ---------------------------------------------------------------- missions


def _missions_query(scope: Scope) -> sa.Select:
    assigned = assigned_by_mission()
    done = sa.func.coalesce(assigned.c.assigned, 0)
    urgency = sa.case((Mission.status == MissionStatus.OPEN.value, urgency_score(paris_today(scope.now), done)))
    query = (
        sa.select(Mission.id, *_establishment_columns(), Establishment.postal_code, Establishment.city,
                  Mission.profession_code, Mission.specialty, Mission.count, done.label("assigned"),
                  Mission.start_date, Mission.end_date, Mission.status, urgency.label("urgency"),
                  Mission.manual_priority, Mission.needs_vehicle, Mission.needs_weekend, Mission.exp_ehpad,
                  Mission.exp_reanimation, Mission.vaccination, Mission.ccs_alert_at, Mission.pools_opened_at,
                  Mission.created_at, Mission.filled_at, Mission.closed_at, Mission.archived_at)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .outerjoin(assigned, assigned.c.mission_id == Mission.id)
        .where(*_mission_conditions(scope), *_statuses(Mission.status, scope))
        .order_by(Mission.id)
    )
    if scope.nominative:
        creator = so.aliased(User)
        query = query.add_columns(Mission.contact_name, Mission.contact_phone, creator.first_name.label("by_first"),
                                  creator.last_name.label("by_last"), creator.email.label("by_email")
                                  ).outerjoin(creator, creator.id == Mission.created_by)
    return query


MISSION_FIELDS = [
    Field(Column("N° mission"), lambda r: r["id"]),
    *_establishment_fields(),
    Field(Column("Code postal"), lambda r: r["postal_code"]),
    Field(Column("Commune"), lambda r: r["city"]),
    Field(Column("Profession"), lambda r: _profession(r["profession_code"])),
    Field(Column("Spécialité"), lambda r: r["specialty"]),
    Field(Column("Postes demandés"), lambda r: r["count"]),
    Field(Column("Postes pourvus"), lambda r: r["assigned"]),
    Field(Column("Pourvue"), lambda r: f"POURVUE {r['assigned']}/{r['count']}"),
    Field(Column("Début"), lambda r: r["start_date"]),
    Field(Column("Fin"), lambda r: r["end_date"]),
    Field(Column("Statut"), lambda r: MISSION_STATUS.get(r["status"], r["status"])),
    Field(Column("Score d'urgence"), lambda r: r["urgency"]),
    Field(Column("Priorité manuelle"), lambda r: r["manual_priority"]),
    Field(Column("Véhicule exigé"), lambda r: yes_no(r["needs_vehicle"])),
    Field(Column("Week-end"), lambda r: yes_no(r["needs_weekend"])),
    Field(Column("Expérience EHPAD"), lambda r: yes_no(r["exp_ehpad"])),
    Field(Column("Expérience réanimation"), lambda r: yes_no(r["exp_reanimation"])),
    Field(Column("Vaccination"), lambda r: yes_no(r["vaccination"])),
    Field(Column("Alerte au CCS le"), lambda r: r["ccs_alert_at"]),
    Field(Column("Viviers nationaux ouverts le"), lambda r: r["pools_opened_at"]),
    Field(Column("Créée le"), lambda r: r["created_at"]),
    Field(Column("Pourvue le"), lambda r: r["filled_at"]),
    Field(Column("Clôturée le"), lambda r: r["closed_at"]),
    Field(Column("Archivée le"), lambda r: r["archived_at"]),
    Field(Column("Contact"), lambda r: r["contact_name"], NOMINATIVE),
    Field(Column("Téléphone du contact"), lambda r: format_phone(r["contact_phone"]) or None, NOMINATIVE),
    Field(Column("Créée par"), lambda r: _full_name(r["by_first"], r["by_last"]), NOMINATIVE),
    Field(Column("Courriel du créateur"), lambda r: r["by_email"], NOMINATIVE),
]


def _missions(session: so.Session, scope: Scope) -> list[Table]:
    return [_table("Missions", MISSION_FIELDS, _stream(session, _missions_query(scope), scope), scope)]


# ---------------------------------------------------------------- affectations

ASSIGNMENT_STATES = tuple(ASSIGNMENT_STATE)  # proposals that became an assignment (cancelled ones included)


def _assignments_query(scope: Scope) -> sa.Select:
    by = so.aliased(User)
    query = (
        sa.select(Proposal.id, Proposal.professional_id, Professional.profession_code.label("own_profession"),
                  Professional.department_code.label("own_department"), Mission.id.label("mission_id"),
                  Mission.profession_code, *_establishment_columns(), Mission.start_date, Mission.end_date,
                  Proposal.origin, Proposal.state, Proposal.created_at, Proposal.decided_at, by.role.label("by_role"))
        .join(Mission, Mission.id == Proposal.mission_id)
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .join(Professional, Professional.id == Proposal.professional_id)
        .outerjoin(by, by.id == Proposal.by_user_id)
        .where(Proposal.state.in_(ASSIGNMENT_STATES), *_mission_conditions(scope), *_statuses(Proposal.state, scope))
        .order_by(Proposal.id)
    )
    if scope.nominative:
        query = query.add_columns(Professional.last_name, Professional.first_name, Professional.email,
                                  Professional.phone, Professional.id_type, Professional.id_number,
                                  Professional.postal_code, Professional.city, by.first_name.label("by_first"),
                                  by.last_name.label("by_last"), Proposal.reason)
    return query


def _volunteer_identity(scope_key: Callable[[Mapping[str, Any]], str]) -> list[Field]:
    """Who the volunteer is: a pseudonym, or (nominative) their id, name and contact."""
    return [
        Field(Column("Pseudonyme"), scope_key, PSEUDONYMISED),
        Field(Column("N° professionnel"), lambda r: r["professional_id"], NOMINATIVE),
        Field(Column("Nom"), lambda r: r["last_name"], NOMINATIVE),
        Field(Column("Prénom"), lambda r: r["first_name"], NOMINATIVE),
        Field(Column("Courriel"), lambda r: r["email"], NOMINATIVE),
        Field(Column("Téléphone"), lambda r: format_phone(r["phone"]) or None, NOMINATIVE),
        Field(Column("Type d'identifiant"), lambda r: ID_TYPE.get(r["id_type"], r["id_type"]), NOMINATIVE),
        Field(Column("N° RPPS / ADELI"), lambda r: r["id_number"], NOMINATIVE),
    ]


def _assignment_fields(scope: Scope) -> list[Field]:
    key = scope.pseudonym_key
    return [
        *_volunteer_identity(lambda r: pseudonym(r["professional_id"], key)),
        Field(Column("Profession du professionnel"), lambda r: _profession(r["own_profession"])),
        Field(Column("Département du professionnel"), lambda r: _department(r["own_department"])),
        Field(Column("Code postal du professionnel"), lambda r: r["postal_code"], NOMINATIVE),
        Field(Column("Commune du professionnel"), lambda r: r["city"], NOMINATIVE),
        Field(Column("N° mission"), lambda r: r["mission_id"]),
        Field(Column("Profession demandée"), lambda r: _profession(r["profession_code"])),
        *_establishment_fields(" de l'établissement"),
        Field(Column("Début"), lambda r: r["start_date"]),
        Field(Column("Fin"), lambda r: r["end_date"]),
        Field(Column("Origine"), lambda r: ORIGIN.get(r["origin"], r["origin"])),
        Field(Column("Statut"), lambda r: ASSIGNMENT_STATE.get(r["state"], r["state"])),
        Field(Column("Sollicité le"), lambda r: r["created_at"]),
        Field(Column("Décision le"), lambda r: r["decided_at"]),
        Field(Column("Sollicité par (rôle)"), lambda r: ROLE_LABELS.get(r["by_role"], r["by_role"])),
        Field(Column("Sollicité par"), lambda r: _full_name(r["by_first"], r["by_last"]), NOMINATIVE),
        Field(Column("Motif d'annulation"), lambda r: r["reason"], NOMINATIVE),
    ]


def _assignments(session: so.Session, scope: Scope) -> list[Table]:
    records = _stream(session, _assignments_query(scope), scope)
    return [_table("Affectations", _assignment_fields(scope), records, scope)]


# ---------------------------------------------------------------- professionnels


def _volunteer_conditions(scope: Scope) -> list[sa.ColumnElement[bool]]:
    f = scope.filters
    conditions: list[sa.ColumnElement[bool]] = [Professional.status != ProfessionalStatus.SUPPRIME.value]
    if f.ars_code:
        conditions.append(Professional.ars_code == f.ars_code)
    if f.department_code:
        conditions.append(Professional.department_code == f.department_code)
    if f.profession_code:
        conditions.append(Professional.profession_code == f.profession_code)
    return conditions


def _volunteers_query(scope: Scope) -> sa.Select:
    f = scope.filters
    since = scope.now - timedelta(days=SOLICITATION_WINDOW_DAYS)
    recent = (sa.select(Proposal.professional_id, sa.func.count().label("recent"))
              .where(Proposal.created_at >= since).group_by(Proposal.professional_id).subquery("recent"))
    conditions = _volunteer_conditions(scope) + _statuses(Professional.status, scope)
    if f.end:  # available during the period: an availability window that overlaps it
        conditions.append(sa.or_(Professional.available_from.is_(None), Professional.available_from <= f.end))
    if f.start:
        conditions.append(sa.or_(Professional.available_to.is_(None), Professional.available_to >= f.start))
    query = (
        sa.select(Professional.id.label("professional_id"), Professional.department_code, Professional.ars_code,
                  Professional.profession_code, Professional.specialty, Professional.activity_type,
                  Professional.mobility, Professional.has_vehicle, Professional.available_week,
                  Professional.available_weekend, Professional.available_from, Professional.available_to,
                  Professional.exp_ehpad, Professional.exp_reanimation, Professional.exp_vaccination,
                  Professional.volunteer_vaccination, Professional.status, Professional.verified,
                  sa.func.coalesce(recent.c.recent, 0).label("recent"), Professional.created_at,
                  Professional.availability_confirmed_at)
        .outerjoin(recent, recent.c.professional_id == Professional.id)
        .where(*conditions)
        .order_by(Professional.id)
    )
    if scope.nominative:
        query = query.add_columns(Professional.last_name, Professional.first_name, Professional.email,
                                  Professional.phone, Professional.id_type, Professional.id_number,
                                  Professional.postal_code, Professional.city)
    return query


def _volunteer_fields(scope: Scope) -> list[Field]:
    key = scope.pseudonym_key
    return [
        *_volunteer_identity(lambda r: pseudonym(r["professional_id"], key)),
        Field(Column("Code postal"), lambda r: r["postal_code"], NOMINATIVE),
        Field(Column("Commune"), lambda r: r["city"], NOMINATIVE),
        Field(Column("Département"), lambda r: _department(r["department_code"])),
        Field(Column("Région"), lambda r: _region(r["ars_code"])),
        Field(Column("Profession"), lambda r: _profession(r["profession_code"])),
        Field(Column("Spécialité"), lambda r: r["specialty"]),
        Field(Column("Activité"), lambda r: ACTIVITY.get(r["activity_type"], r["activity_type"])),
        Field(Column("Mobilité"), lambda r: MOBILITY.get(r["mobility"], r["mobility"])),
        Field(Column("Véhicule"), lambda r: yes_no(r["has_vehicle"])),
        Field(Column("Disponible en semaine"), lambda r: yes_no(r["available_week"])),
        Field(Column("Disponible le week-end"), lambda r: yes_no(r["available_weekend"])),
        Field(Column("Disponible à partir du"), lambda r: r["available_from"]),
        Field(Column("Disponible jusqu'au"), lambda r: r["available_to"]),
        Field(Column("Expérience EHPAD"), lambda r: yes_no(r["exp_ehpad"])),
        Field(Column("Expérience réanimation"), lambda r: yes_no(r["exp_reanimation"])),
        Field(Column("Expérience vaccination"), lambda r: yes_no(r["exp_vaccination"])),
        Field(Column("Volontaire pour vacciner"), lambda r: yes_no(r["volunteer_vaccination"])),
        Field(Column("Statut"), lambda r: VOLUNTEER_STATUS.get(r["status"], r["status"])),
        Field(Column("Vérifié"), lambda r: yes_no(r["verified"])),
        Field(Column(f"Sollicitations ({SOLICITATION_WINDOW_DAYS} jours)"), lambda r: r["recent"]),
        Field(Column("Inscrit le"), lambda r: paris_day(r["created_at"])),
        Field(Column("Disponibilité confirmée le"), lambda r: paris_day(r["availability_confirmed_at"])),
    ]


def _volunteers(session: so.Session, scope: Scope) -> list[Table]:
    records = _stream(session, _volunteers_query(scope), scope)
    return [_table("Professionnels", _volunteer_fields(scope), records, scope)]


# ---------------------------------------------------------------- établissements


def _establishments_query(scope: Scope) -> sa.Select:
    f = scope.filters
    accounts = (
        sa.select(Membership.establishment_id, sa.func.count().label("accounts"),
                  sa.func.sum(as_int(User.status == AccountStatus.ACTIVE.value)).label("active_accounts"))
        .join(User, User.id == Membership.user_id).group_by(Membership.establishment_id).subquery("accounts"))
    assigned = assigned_by_mission()
    is_open = Mission.status == MissionStatus.OPEN.value
    needs = (
        sa.select(Mission.establishment_id, sa.func.count().label("missions"),
                  sa.func.sum(as_int(is_open)).label("open_missions"),
                  sa.func.sum(sa.case((is_open, greatest(Mission.count - sa.func.coalesce(assigned.c.assigned, 0), 0)),
                                      else_=0)).label("unfilled"))
        .outerjoin(assigned, assigned.c.mission_id == Mission.id)
        .where(Mission.count > 0).group_by(Mission.establishment_id).subquery("needs"))
    conditions = _statuses(Establishment.status, scope)
    if f.ars_code:
        conditions.append(Establishment.ars_code == f.ars_code)
    if f.department_code:
        conditions.append(Establishment.department_code == f.department_code)
    if f.category_code:
        conditions.append(Establishment.category_code == f.category_code)
    if scope.establishment_ids is not None:
        conditions.append(Establishment.id.in_(scope.establishment_ids))
    return (
        sa.select(Establishment.id, Establishment.finess, Establishment.id_kind, Establishment.name.label("establishment"),
                  Establishment.category_code, Establishment.finess_category_code, Establishment.address,
                  Establishment.postal_code, Establishment.city,
                  Establishment.department_code, Establishment.ars_code, Establishment.status,
                  Establishment.created_at, sa.func.coalesce(accounts.c.accounts, 0).label("accounts"),
                  sa.func.coalesce(accounts.c.active_accounts, 0).label("active_accounts"),
                  sa.func.coalesce(needs.c.missions, 0).label("missions"),
                  sa.func.coalesce(needs.c.open_missions, 0).label("open_missions"),
                  sa.func.coalesce(needs.c.unfilled, 0).label("unfilled"))
        .outerjoin(accounts, accounts.c.establishment_id == Establishment.id)
        .outerjoin(needs, needs.c.establishment_id == Establishment.id)
        .where(*conditions)
        .order_by(Establishment.id)
    )


ESTABLISHMENT_FIELDS = [
    Field(Column("FINESS / GID"), lambda r: r["finess"]),
    Field(Column("Type d'identifiant"), lambda r: "GID (centre de vaccination)" if r["id_kind"] == "gid" else "FINESS"),
    Field(Column("Établissement"), lambda r: r["establishment"]),
    Field(Column("Catégorie"), lambda r: _category(r["category_code"])),
    Field(Column("Catégorie FINESS"), lambda r: _finess_category(r["finess_category_code"])),
    Field(Column("Adresse"), lambda r: r["address"]),
    Field(Column("Code postal"), lambda r: r["postal_code"]),
    Field(Column("Commune"), lambda r: r["city"]),
    Field(Column("Département"), lambda r: _department(r["department_code"])),
    Field(Column("ARS"), lambda r: _region(r["ars_code"])),
    Field(Column("Statut"), lambda r: ESTABLISHMENT_STATUS.get(r["status"], r["status"])),
    Field(Column("Comptes"), lambda r: r["accounts"]),
    Field(Column("Comptes actifs"), lambda r: r["active_accounts"]),
    Field(Column("Missions"), lambda r: r["missions"]),
    Field(Column("Besoins ouverts"), lambda r: r["open_missions"]),
    Field(Column("Postes ouverts non pourvus"), lambda r: r["unfilled"]),
    Field(Column("Inscrit le"), lambda r: paris_day(r["created_at"])),
]


def _establishments(session: so.Session, scope: Scope) -> list[Table]:
    records = _stream(session, _establishments_query(scope), scope)
    return [_table("Établissements", ESTABLISHMENT_FIELDS, records, scope)]


# ---------------------------------------------------------------- alertes


def _alerts_query(scope: Scope) -> sa.Select:
    f = scope.filters
    assigned = assigned_by_mission()
    closer = so.aliased(User)
    state = alert_state()
    conditions = [Mission.ccs_alert_at.is_not(None), *_mission_conditions(scope, period=False),
                  *_statuses(state, scope)]
    if f.start:  # alerts raised during the period (Paris days)
        conditions.append(Mission.ccs_alert_at >= paris_midnight(f.start))
    if f.end:
        conditions.append(Mission.ccs_alert_at < paris_midnight(f.end + timedelta(days=1)))
    query = (
        sa.select(Mission.id, *_establishment_columns(), Mission.profession_code, Mission.count,
                  sa.func.coalesce(assigned.c.assigned, 0).label("assigned"), Mission.start_date, Mission.end_date,
                  Mission.status, Mission.ccs_alert_at, Mission.pools_opened_at, Mission.alert_closed_at,
                  state.label("alert_state"), closer.role.label("closer_role"))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .outerjoin(assigned, assigned.c.mission_id == Mission.id)
        .outerjoin(closer, closer.id == Mission.alert_closed_by)
        .where(*conditions)
        .order_by(Mission.ccs_alert_at, Mission.id)
    )
    if scope.nominative:
        query = query.add_columns(Mission.ccs_alert_message, Mission.alert_close_note,
                                  closer.first_name.label("closer_first"), closer.last_name.label("closer_last"))
    return query


def _answered_in_hours(row: Mapping[str, Any]) -> float | None:
    """From the alert to the CCS's first answer (pools opened or alert closed), in hours."""
    answers = [moment for moment in (row["pools_opened_at"], row["alert_closed_at"]) if moment is not None]
    if not answers:
        return None
    return round((min(answers) - row["ccs_alert_at"]).total_seconds() / 3600, 1)


ALERT_FIELDS = [
    Field(Column("N° mission"), lambda r: r["id"]),
    *_establishment_fields(),
    Field(Column("Profession"), lambda r: _profession(r["profession_code"])),
    Field(Column("Postes demandés"), lambda r: r["count"]),
    Field(Column("Postes pourvus"), lambda r: r["assigned"]),
    Field(Column("Début"), lambda r: r["start_date"]),
    Field(Column("Fin"), lambda r: r["end_date"]),
    Field(Column("Statut de la mission"), lambda r: MISSION_STATUS.get(r["status"], r["status"])),
    Field(Column("Alerte le"), lambda r: r["ccs_alert_at"]),
    Field(Column("Message de l'ARS"), lambda r: r["ccs_alert_message"], NOMINATIVE),
    Field(Column("Viviers nationaux ouverts le"), lambda r: r["pools_opened_at"]),
    Field(Column("Alerte close le"), lambda r: r["alert_closed_at"]),
    Field(Column("Close par (rôle)"), lambda r: ROLE_LABELS.get(r["closer_role"], r["closer_role"])),
    Field(Column("Close par"), lambda r: _full_name(r["closer_first"], r["closer_last"]), NOMINATIVE),
    Field(Column("Note de clôture"), lambda r: r["alert_close_note"], NOMINATIVE),
    Field(Column("Suite donnée"), lambda r: ALERT_STATES[r["alert_state"]]),
    Field(Column("Délai de réponse (heures)", DECIMAL), _answered_in_hours),
]


def _alerts(session: so.Session, scope: Scope) -> list[Table]:
    return [_table("Alertes", ALERT_FIELDS, _stream(session, _alerts_query(scope), scope), scope)]


# ---------------------------------------------------------------- statistiques

POSTS_COLUMNS = [Column("Période (début)"), Column("Région"), Column("Département"), Column("Profession"),
                 Column("Missions"), Column("Postes demandés"), Column("Postes pourvus"),
                 Column("Postes non pourvus"), Column("Taux de pourvoi", PERCENT),
                 Column("Délai médian de pourvoi (heures)", DECIMAL)]
TENSION_COLUMNS = [Column("Région"), Column("Département"), Column("Profession"),
                   Column("Postes ouverts non pourvus"), Column("Volontaires disponibles"),
                   Column("Tension (postes par volontaire)", DECIMAL)]
FUNNEL_COLUMNS = [Column("Région"), Column("Département"), Column("Profession"), Column("Inscrits"),
                  Column("Vérifiés"), Column("Sollicités"), Column("Affectés"),
                  Column("Taux d'affectation", PERCENT)]


def _bucket(day: date, step: str) -> date:
    return day - timedelta(days=day.weekday()) if step == "semaine" else day


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _posts_rows(session: so.Session, scope: Scope) -> list[tuple]:
    """Needs (open, filled or closed missions) by week or day of their start, region, department and
    profession: posts requested, filled (assignments, ended ones included), unfilled, the fill rate and
    the median time from a mission's creation to its first assignment."""
    f = scope.filters
    assigned = assigned_by_mission()
    first = (sa.select(Proposal.mission_id, sa.func.min(Proposal.decided_at).label("first_at"))
             .where(Proposal.state.in_(ASSIGNED), Proposal.decided_at.is_not(None))
             .group_by(Proposal.mission_id).subquery("first_assignment"))
    conditions = [*_mission_conditions(scope, period=False), Mission.status.in_(NEEDS),
                  Establishment.status != EstablishmentStatus.REJECTED.value]
    if f.start:
        conditions.append(Mission.start_date >= f.start)
    if f.end:
        conditions.append(Mission.start_date <= f.end)
    query = (
        sa.select(Mission.start_date, Establishment.ars_code, Establishment.department_code, Mission.profession_code,
                  Mission.count, sa.func.coalesce(assigned.c.assigned, 0).label("assigned"),
                  hours_between(Mission.created_at, first.c.first_at).label("hours"))
        .join(Establishment, Establishment.id == Mission.establishment_id)
        .outerjoin(assigned, assigned.c.mission_id == Mission.id)
        .outerjoin(first, first.c.mission_id == Mission.id)
        .where(*conditions)
    )
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    delays: dict[tuple, list[float]] = defaultdict(list)
    for row in session.execute(query.execution_options(yield_per=STREAM_BATCH)).mappings():
        key = (_bucket(_as_date(row["start_date"]), scope.step), row["ars_code"], row["department_code"],
               row["profession_code"])
        figures = groups[key]
        figures[0] += 1
        figures[1] += row["count"]
        figures[2] += row["assigned"]
        figures[3] += max(row["count"] - row["assigned"], 0)
        if row["hours"] is not None:
            delays[key].append(float(row["hours"]))
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], _region(k[1]) or "", k[2], _profession(k[3]) or "")):
        missions, requested, filled, unfilled = groups[key]
        median = round(statistics.median(delays[key]), 1) if delays[key] else None
        rows.append((key[0], _region(key[1]), _department(key[2]), _profession(key[3]), missions, requested,
                     filled, unfilled, filled / requested if requested else None, median))
    return rows


def _indicator_filters(scope: Scope) -> IndicatorFilters:
    f = scope.filters
    period = Period(f.start or date.min, f.end or date.max) if (f.start or f.end) else None
    return IndicatorFilters(period=period, profession_code=f.profession_code, department_code=f.department_code)


def _in_region(department_code: str, scope: Scope) -> bool:
    row = reference.departements().get(department_code)
    return scope.filters.ars_code is None or (row is not None and row.ars_code == scope.filters.ars_code)


def _tension_rows(session: so.Session, scope: Scope) -> list[tuple]:
    """Unfilled posts of the open needs and the available volunteers of the same profession, per department
    (the figures of « Vue nationale », core.figures.indicators)."""
    filters = _indicator_filters(scope)
    posts = posts_by_department_and_profession(session, filters)
    available = available_by_department_and_profession(session, filters)
    rows = []
    for department, profession in sorted(set(posts) | set(available)):
        if not _in_region(department, scope):
            continue
        unfilled = posts[(department, profession)].unfilled if (department, profession) in posts else 0
        people = available.get((department, profession), 0)
        region = reference.departements()[department].ars_code if department in reference.departements() else None
        rows.append((_region(region), _department(department), _profession(profession), unfilled, people,
                     tension(unfilled, people)))
    return rows


def _funnel_rows(session: so.Session, scope: Scope) -> list[tuple]:
    """Registered (not deleted) → verified → solicited (any proposal; with a period, for a mission in it) →
    assigned, per region, department and profession of the volunteers (the funnel of « Indicateurs »)."""
    f = scope.filters
    proposals = (sa.select(Proposal.professional_id.label("professional_id"),
                           sa.func.max(as_int(Proposal.state.in_(ASSIGNED))).label("assigned"))
                 .group_by(Proposal.professional_id))
    if f.start or f.end:
        proposals = proposals.join(Mission, Mission.id == Proposal.mission_id)
        if f.start:
            proposals = proposals.where(Mission.end_date >= f.start)
        if f.end:
            proposals = proposals.where(Mission.start_date <= f.end)
    solicited = proposals.subquery("solicited")
    query = (
        sa.select(Professional.ars_code, Professional.department_code, Professional.profession_code,
                  sa.func.count(), sa.func.sum(as_int(Professional.verified.is_(True))),
                  sa.func.count(solicited.c.professional_id), sa.func.sum(sa.func.coalesce(solicited.c.assigned, 0)))
        .outerjoin(solicited, solicited.c.professional_id == Professional.id)
        .where(*_volunteer_conditions(scope))
        .group_by(Professional.ars_code, Professional.department_code, Professional.profession_code)
    )
    rows = []
    for region, department, profession, registered, verified, asked, assigned in session.execute(query):
        registered, assigned = int(registered), int(assigned or 0)
        rows.append((_region(region), _department(department), _profession(profession), registered,
                     int(verified or 0), int(asked or 0), assigned, assigned / registered if registered else None))
    return sorted(rows, key=lambda row: (row[0] or "", row[1] or "", row[2] or ""))


def _statistics(session: so.Session, scope: Scope) -> list[Table]:
    posts = _posts_rows(session, scope)
    if scope.limit is not None:
        return [Table("Postes", POSTS_COLUMNS, posts[:scope.limit])]
    return [Table("Postes", POSTS_COLUMNS, posts), Table("Tension", TENSION_COLUMNS, _tension_rows(session, scope)),
            Table("Entonnoir", FUNNEL_COLUMNS, _funnel_rows(session, scope))]


# ---------------------------------------------------------------- the catalogue

MISSION_FILTERS = frozenset({REGION, DEPARTMENT, PROFESSION, CATEGORY, PERIOD, STATUS})

DATASETS: dict[str, Dataset] = {
    dataset.code: dataset for dataset in (
        Dataset("missions", "Missions",
                "Les besoins des établissements (hors demandes de compte sans besoin) : établissement, FINESS, "
                "département, région, profession, postes demandés et pourvus (POURVUE x/n), dates, statut, "
                "score d'urgence, alerte au CCS. Période : missions dont les dates la chevauchent.",
                MISSION_FILTERS, MISSION_STATUS, True, _missions,
                lambda session, scope: _count(session, _missions_query(scope))),
        Dataset("affectations", "Affectations",
                "Les affectations de professionnels aux missions (en cours, terminées ou annulées) : qui, où, "
                "quand, à l'initiative de qui. Période : missions dont les dates la chevauchent.",
                MISSION_FILTERS, ASSIGNMENT_STATE, True, _assignments,
                lambda session, scope: _count(session, _assignments_query(scope))),
        Dataset("professionnels", "Professionnels",
                "Le vivier de volontaires : profession, département, mobilité, disponibilités, statut, "
                f"vérification, sollicitations des {SOLICITATION_WINDOW_DAYS} derniers jours. Période : "
                "volontaires disponibles pendant la période.",
                frozenset({REGION, DEPARTMENT, PROFESSION, PERIOD, STATUS}), VOLUNTEER_STATUS, False, _volunteers,
                lambda session, scope: _count(session, _volunteers_query(scope))),
        Dataset("etablissements", "Établissements",
                "Les établissements inscrits : FINESS ou GID, catégorie, ARS, comptes, besoins ouverts et postes "
                "non pourvus.",
                frozenset({REGION, DEPARTMENT, CATEGORY, STATUS}), ESTABLISHMENT_STATUS, False, _establishments,
                lambda session, scope: _count(session, _establishments_query(scope))),
        Dataset("statistiques", "Statistiques",
                "Postes demandés, pourvus et non pourvus par période de début des missions, région, département "
                "et profession, avec le taux de pourvoi et le délai médian de pourvoi (création → première "
                "affectation) ; dans le classeur .xlsx, la tension actuelle (postes ouverts non pourvus par "
                "volontaire disponible) et l'entonnoir des volontaires (inscrits → vérifiés → sollicités → "
                "affectés), qui ne dépendent pas de la catégorie d'établissement. Période : missions qui "
                "commencent pendant la période (tension : missions qui la chevauchent).",
                frozenset({REGION, DEPARTMENT, PROFESSION, CATEGORY, PERIOD}), {}, False, _statistics,
                lambda session, scope: len(_posts_rows(session, scope)), grouped=True),
        Dataset("alertes", "Alertes",
                "Les alertes des ARS au CCS et la suite donnée : viviers nationaux ouverts, alerte close, délai "
                "de réponse. Période : alertes lancées pendant la période.",
                MISSION_FILTERS, ALERT_STATES, False, _alerts,
                lambda session, scope: _count(session, _alerts_query(scope))),
    )
}
