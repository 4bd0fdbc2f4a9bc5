"""The ARS's territorial pools and their funded projects (issue 14, DESIGN §9; the ARS Nouvelle-Aquitaine call for
projects of October 2020): create a pool, follow its project, close it; the table, the map and the export of the
pools of a region (ARS) or of the country (CCS, ministry, admins).

A pool (« plateforme territoriale solidaire ») belongs to one department: one open pool per department, except in
Gironde (33) and Pyrénées-Atlantiques (64) where the call allows infra-departmental pools. Its support establishment
(chosen by FINESS among the department's active establishments) receives the credits; its members are the
department's EHPAD, SSIAD, SPASAD and SAAD (core.pools.members). Volunteers register with its generated code
(« PT » + department + five characters, e.g. PT33-K7Q2M).

The project, as the call lays it out, in two steps:
1. the engagement letter (received on, summary, total budget, funding acquired and expected; its members are the
   pool's member establishments), after which a first credit may be granted — 50 000 € by default;
2. the convention (received on, signatories, progress report), on the basis of which a second credit (the 2021
   top-up) may be granted.
A credit with an amount is *committed*; with a date as well, it is *paid*. Amounts are whole euros.

Deadlines: by default those of the call, counted from the project's start date as the call counted them from its
publication (19 October 2020): the engagement letter 18 days later (6 November 2020), the convention 103 days later
(30 January 2021). Each deadline reads « à venir », « en retard » or « reçue le JJ/MM/AAAA ».

A pool is *operational* when its convention is received, it has at least one coordinator whose account is active
and activated (password chosen), and at least one volunteer member of its roster. Past the convention's deadline,
a pool not operational carries the warning the call implies: its credits may be recovered.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from core.figures.spreadsheet import XLSX_MIME, Column, XlsxWriter
from core.places import reference
from core.pools.members import (
    LIVE_STATES,
    add_members,
    category_short_label,
    check_candidate,
    coordinators_of,
    decides_joins,
    eligible_categories,
    join_requests,
    live_membership,
)
from core.pools.scope import (
    POOL_READERS,
    POOL_REGULATORS,
    coordinates,
    get_pool,
    regulates_pool,
    require_pool_reader,
    require_pool_regulator,
)
from core.shared.actions import NONE, Action, Actions
from core.shared.actor import SessionUser
from core.shared.audit import NATIONAL, record_event
from core.shared.clock import PARIS, paris_today, utcnow
from core.shared.errors import Conflict, ErrorCollector, NotFound, PermissionDenied
from core.shared.permissions import reads_names, require_role
from core.shared.validation import compact, parse_date, validate_text
from db.models import (
    SEVERAL_POOLS_DEPARTMENTS,
    Establishment,
    EstablishmentStatus,
    IdKind,
    PoolMember,
    PoolMemberState,
    PoolRosterEntry,
    RosterState,
    TerritorialPool,
)

DEFAULT_FIRST_CREDIT = 50_000  # € — the call's amount per project after the engagement letter
ENGAGEMENT_DELAY_DAYS = 18  # published 19/10/2020, engagement letter due 06/11/2020
CONVENTION_DELAY_DAYS = 103  # convention due 30/01/2021
MAX_AMOUNT = 100_000_000  # € — beyond, a typing slip
NAME_MAX, TEXT_MAX = 200, 4000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no O/0, I/1: read over the phone
CODE_LENGTH = 5
EXPORTERS = ("ars", "ccs", "ministere")
CLAWBACK_WARNING = ("plateforme non opérationnelle à l'échéance de la convention : les crédits peuvent être "
                    "récupérés")
SEVERAL_POOLS_WORDS = "plusieurs seulement en Gironde et dans les Pyrénées-Atlantiques"

# Map states of a department, from the calmest; a department with several pools takes the worst of them.
NO_POOL, OPERATIONAL, SETTING_UP, ALERT = "aucune", "operationnelle", "en_montage", "alerte"
MAP_STATES = {NO_POOL: "Aucune plateforme", OPERATIONAL: "Plateforme opérationnelle",
              SETTING_UP: "Plateforme en montage", ALERT: "Non opérationnelle à l'échéance de la convention"}


# ---------------------------------------------------------------- deadlines and the operational rule


A_VENIR, EN_RETARD, RECUE = "a_venir", "en_retard", "recue"


@dataclass(frozen=True)
class Deadline:
    """An engagement letter or a convention: its due date and where it stands on a given day."""

    due: date
    received_on: date | None
    state: str  # A_VENIR, EN_RETARD or RECUE

    @property
    def late(self) -> bool:
        return self.state == EN_RETARD

    @property
    def label(self) -> str:
        if self.state == RECUE:
            return f"reçue le {self.received_on:%d/%m/%Y}"
        return "en retard" if self.state == EN_RETARD else "à venir"


def deadline(due: date, received_on: date | None, today: date) -> Deadline:
    """« reçue le … » once received; else « en retard » the day after the due date, « à venir » until then."""
    if received_on is not None:
        return Deadline(due, received_on, RECUE)
    return Deadline(due, None, EN_RETARD if today > due else A_VENIR)


def default_deadlines(start: date) -> tuple[date, date]:
    """The call's deadlines counted from a project's start: engagement letter, convention."""
    return start + timedelta(days=ENGAGEMENT_DELAY_DAYS), start + timedelta(days=CONVENTION_DELAY_DAYS)


def missing_for_operation(*, convention_received: bool, coordinators: int, roster_members: int) -> list[str]:
    """What a pool lacks to be operational (empty: operational)."""
    gaps = []
    if not convention_received:
        gaps.append("convention reçue")
    if not coordinators:
        gaps.append("coordinateur au compte activé")
    if not roster_members:
        gaps.append("volontaire membre du vivier")
    return gaps


def warnings_for(pool: TerritorialPool, gaps: list[str], today: date) -> list[str]:
    """The clawback warning: past the convention's deadline, an open pool still not operational."""
    if pool.closed_at is None and gaps and today > pool.convention_due:
        return [CLAWBACK_WARNING]
    return []


# ---------------------------------------------------------------- inputs and their checks


@dataclass(frozen=True)
class NewPool:
    """The form « Créer une plateforme »; blank deadlines take the call's (default_deadlines)."""

    name: str = ""
    department_code: str = ""
    support_finess: str = ""
    member_ids: tuple[int, ...] = ()
    start_date: date | str | None = None
    engagement_due: date | str | None = None
    convention_due: date | str | None = None


@dataclass(frozen=True)
class ProjectFollowUp:
    """The project's follow-up, in the sections of its form; amounts in whole euros (a blank is « not yet »)."""

    engagement_due: date | str | None = None
    convention_due: date | str | None = None
    engagement_received_on: date | str | None = None
    engagement_summary: str = ""
    total_budget: int | float | str | None = None
    funding_acquired: int | float | str | None = None
    funding_expected: int | float | str | None = None
    first_credit_amount: int | float | str | None = None
    first_credit_on: date | str | None = None
    convention_received_on: date | str | None = None
    convention_signatories: str = ""
    progress_report: str = ""
    second_credit_amount: int | float | str | None = None
    second_credit_on: date | str | None = None


FIELD_LABELS = {
    "engagement_due": "échéance de la lettre d'engagement", "convention_due": "échéance de la convention",
    "engagement_received_on": "date de réception de la lettre d'engagement",
    "engagement_summary": "résumé de la lettre d'engagement", "total_budget": "budget total",
    "funding_acquired": "financements acquis", "funding_expected": "financements attendus",
    "first_credit_amount": "montant du premier crédit", "first_credit_on": "date du premier crédit",
    "convention_received_on": "date de réception de la convention",
    "convention_signatories": "signataires de la convention", "progress_report": "bilan d'étape",
    "second_credit_amount": "montant du second crédit", "second_credit_on": "date du second crédit",
}
START_LABEL = "date de début du projet"
DATES = ("engagement_due", "convention_due", "engagement_received_on", "first_credit_on", "convention_received_on",
         "second_credit_on")
AMOUNTS = ("total_budget", "funding_acquired", "funding_expected", "first_credit_amount", "second_credit_amount")
TEXTS = ("engagement_summary", "convention_signatories", "progress_report")
PAST_ONLY = ("engagement_received_on", "first_credit_on", "convention_received_on", "second_credit_on")


def euros(amount: int | None) -> str:
    """50000 → « 50 000 € »."""
    return "–" if amount is None else f"{amount:,} €".replace(",", "\u202f")


def _amount(value: Any, field: str, errors: ErrorCollector) -> int | None:
    label = FIELD_LABELS[field]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors.add(field, f"Le montant « {label} » doit être un nombre d'euros.")
        return None
    if isinstance(value, float):
        if not value.is_integer():
            errors.add(field, f"Le montant « {label} » s'indique en euros entiers, sans centimes.")
            return None
        value = int(value)
    if isinstance(value, str):
        text = value.replace(" ", "").replace("\u202f", "").replace("\xa0", "").removesuffix("€")
        if not text.lstrip("-").isdigit():
            errors.add(field, f"Le montant « {label} » (« {value.strip()} ») n'est pas un nombre d'euros entiers.")
            return None
        value = int(text)
    if value < 0:
        errors.add(field, f"Le montant « {label} » ne peut pas être négatif.")
        return None
    if value > MAX_AMOUNT:
        errors.add(field, f"Le montant « {label} » dépasse {euros(MAX_AMOUNT)} : vérifiez la saisie.")
        return None
    return value


def _date(value: Any, field: str, errors: ErrorCollector) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return errors.check(parse_date, value, field, FIELD_LABELS.get(field, START_LABEL))


def _check_deadlines(values: dict[str, Any], start: date | None, errors: ErrorCollector) -> None:
    for field in ("engagement_due", "convention_due"):
        if values[field] is None and not errors.has(field):
            errors.add(field, f"L'{FIELD_LABELS[field]} est obligatoire.")
    engagement, convention = values["engagement_due"], values["convention_due"]
    if start and engagement and engagement < start:
        errors.add("engagement_due", f"L'échéance de la lettre d'engagement ({engagement:%d/%m/%Y}) précède le début "
                                     f"du projet ({start:%d/%m/%Y}).")
    if engagement and convention and convention < engagement:
        errors.add("convention_due", f"L'échéance de la convention ({convention:%d/%m/%Y}) précède celle de la lettre "
                                     f"d'engagement ({engagement:%d/%m/%Y}).")


def _check_project(values: dict[str, Any], today: date, errors: ErrorCollector) -> None:
    """The order of the call: letter → first credit; letter → convention → second credit."""
    for field in PAST_ONLY:
        if values[field] and values[field] > today:
            errors.add(field, f"La {FIELD_LABELS[field]} ({values[field]:%d/%m/%Y}) est dans le futur : indiquez-la "
                              "une fois la pièce reçue ou le crédit versé.")
    letter = values["engagement_received_on"]
    if not letter and any(values[f] not in (None, "") for f in ("engagement_summary", "total_budget",
                                                                "funding_acquired", "funding_expected")):
        errors.add("engagement_received_on", "Indiquez la date de réception de la lettre d'engagement avant son "
                                             "contenu (résumé, budget, financements).")
    total, acquired, expected = values["total_budget"], values["funding_acquired"], values["funding_expected"]
    if total is not None and (acquired or 0) + (expected or 0) > total:
        errors.add("funding_expected", f"Les financements acquis et attendus ({euros((acquired or 0) + (expected or 0))})"
                                       f" dépassent le budget total du projet ({euros(total)}).")
    # First credit: granted after the analysis of the letter; its date defaults its amount to the call's.
    first, first_on = values["first_credit_amount"], values["first_credit_on"]
    if (first is not None or first_on) and not letter:
        errors.add("first_credit_amount" if first is not None else "first_credit_on",
                   "Le premier crédit est octroyé après analyse de la lettre d'engagement : indiquez d'abord la date "
                   "de réception de la lettre.")
    elif first_on and letter and first_on < letter:
        errors.add("first_credit_on", f"Le premier crédit ({first_on:%d/%m/%Y}) ne peut être versé avant la réception "
                                      f"de la lettre d'engagement ({letter:%d/%m/%Y}).")
    if first_on and first is None and not errors.has("first_credit_amount"):
        values["first_credit_amount"] = DEFAULT_FIRST_CREDIT
    # Convention: after the letter.
    convention = values["convention_received_on"]
    if convention and not letter and not errors.has("engagement_received_on"):
        errors.add("convention_received_on", "La convention suit la lettre d'engagement : indiquez d'abord la date de "
                                             "réception de la lettre.")
    elif convention and letter and convention < letter:
        errors.add("convention_received_on", f"La convention ({convention:%d/%m/%Y}) ne peut être reçue avant la "
                                             f"lettre d'engagement ({letter:%d/%m/%Y}).")
    if not convention and (values["convention_signatories"] or values["progress_report"]):
        errors.add("convention_received_on", "Indiquez la date de réception de la convention avant ses signataires "
                                             "et son bilan d'étape.")
    # Second credit: on the basis of the convention, after the first credit.
    second, second_on = values["second_credit_amount"], values["second_credit_on"]
    field = "second_credit_amount" if second is not None else "second_credit_on"
    if second is None and second_on:
        errors.add("second_credit_amount", "Indiquez le montant du second crédit versé.")
    elif (second is not None or second_on) and not convention:
        errors.add(field, "Le second crédit est délégué sur la base de la convention et du bilan d'étape : indiquez "
                          "d'abord la date de réception de la convention.")
    elif (second is not None or second_on) and values["first_credit_amount"] is None:
        errors.add(field, "Le second crédit complète le premier : renseignez d'abord le premier crédit.")
    elif second_on and convention and second_on < convention:
        errors.add("second_credit_on", f"Le second crédit ({second_on:%d/%m/%Y}) ne peut être versé avant la "
                                       f"réception de la convention ({convention:%d/%m/%Y}).")
    elif second_on and first_on and second_on < first_on:
        errors.add("second_credit_on", f"Le second crédit ({second_on:%d/%m/%Y}) ne peut être versé avant le premier "
                                       f"({first_on:%d/%m/%Y}).")
    elif second_on and not first_on:
        errors.add("second_credit_on", "Le second crédit ne peut être versé avant le premier : indiquez d'abord la "
                                       "date du premier crédit.")


def clean_follow_up(follow_up: ProjectFollowUp, *, start: date, today: date) -> dict[str, Any]:
    """Every field of the follow-up parsed and checked against the call's order; all errors at once (FormErrors)."""
    errors = ErrorCollector()
    values: dict[str, Any] = {}
    for field in DATES:
        values[field] = _date(getattr(follow_up, field), field, errors)
    for field in AMOUNTS:
        values[field] = _amount(getattr(follow_up, field), field, errors)
    for field in TEXTS:
        label = FIELD_LABELS[field]
        values[field] = errors.check(validate_text, getattr(follow_up, field), field, label[0].upper() + label[1:],
                                     max_length=TEXT_MAX, required=False, multiline=True)
    _check_deadlines(values, start, errors)
    _check_project(values, today, errors)
    errors.raise_if_any()
    return values


# ---------------------------------------------------------------- creating a pool


@dataclass(frozen=True)
class CreatedPool:
    id: int
    code: str
    name: str
    members: int


def _department_for(actor: SessionUser, code: str, errors: ErrorCollector) -> reference.DepartementRow | None:
    department = reference.departements().get((code or "").strip())
    if department is None or department.ars_code is None:
        errors.add("department_code", "Choisissez le département de la plateforme.")
        return None
    if actor.role == "ars" and department.ars_code != actor.ars_code:
        raise PermissionDenied(f"Le département {department.name} ({department.code}) relève d'une autre ARS : vous ne "
                               "pouvez pas y créer de plateforme.")
    return department


def open_pool_of(session: so.Session, department_code: str) -> TerritorialPool | None:
    """The department's open pool, where one only is allowed (None in Gironde and Pyrénées-Atlantiques)."""
    if department_code in SEVERAL_POOLS_DEPARTMENTS:
        return None
    return session.scalar(sa.select(TerritorialPool).where(TerritorialPool.department_code == department_code,
                                                           TerritorialPool.closed_at.is_(None)).limit(1))


def _one_per_department(session: so.Session, department: reference.DepartementRow, errors: ErrorCollector) -> None:
    existing = open_pool_of(session, department.code)
    if existing is not None:
        errors.add("department_code", f"Le département {department.name} ({department.code}) a déjà une plateforme "
                                      f"territoriale ouverte, « {existing.name} » : l'appel à projets en prévoit une "
                                      f"par département ({SEVERAL_POOLS_WORDS}).")


def _support(session: so.Session, finess: str, department: reference.DepartementRow | None,
             errors: ErrorCollector) -> Establishment | None:
    wanted = compact(finess).upper()
    if not wanted:
        errors.add("support_finess", "Choisissez l'établissement support (son FINESS) : c'est lui qui reçoit les "
                                     "crédits.")
        return None
    establishment = session.scalar(sa.select(Establishment).where(
        Establishment.finess == wanted, Establishment.id_kind == IdKind.FINESS.value,
        Establishment.status == EstablishmentStatus.ACTIVE.value))
    if establishment is None:
        errors.add("support_finess", f"Aucun établissement validé n'a le FINESS « {wanted} ».")
        return None
    if department is not None and establishment.department_code != department.code:
        errors.add("support_finess", f"« {establishment.name} » (FINESS {wanted}) n'est pas dans le département de la "
                                     f"plateforme ({department.name}).")
        return None
    return establishment


def _members(session: so.Session, ids: tuple[int, ...], support: Establishment | None,
             department: reference.DepartementRow | None, errors: ErrorCollector) -> list[Establishment]:
    """The chosen members, checked; the support establishment joins them when it is itself an EHPAD, SSIAD…"""
    wanted = list(dict.fromkeys(ids or ()))
    if support is not None and support.id not in wanted and support.finess_category_code in eligible_categories():
        wanted.insert(0, support.id)
    if department is None:
        return []
    found = []
    for establishment_id in wanted:
        establishment = session.get(Establishment, establishment_id)
        if establishment is None:
            errors.add("member_ids", "Un des établissements choisis n'existe plus : rechargez la page.")
            continue
        before = len(errors.errors)
        errors.check(check_candidate, session, None, establishment, department_code=department.code,
                     field="support_finess" if support is not None and establishment.id == support.id
                     else "member_ids")
        if len(errors.errors) == before:
            found.append(establishment)
    return found


def _new_code(session: so.Session, department_code: str) -> str:
    while True:
        code = f"PT{department_code}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(sa.select(TerritorialPool.id).where(TerritorialPool.code == code)) is None:
            return code


def create_pool(session: so.Session, *, actor: SessionUser | None, pool: NewPool,
                now: datetime | None = None) -> CreatedPool:
    """The ARS of the department's region (or the CCS) creates a pool with its support, members and deadlines;
    nothing is saved if any field is wrong."""
    now = now or utcnow()
    actor = require_role(actor, *POOL_REGULATORS)
    errors = ErrorCollector()
    department = _department_for(actor, pool.department_code, errors)
    name = errors.check(validate_text, pool.name, "name", "Nom de la plateforme", max_length=NAME_MAX)
    if department is not None:
        _one_per_department(session, department, errors)
    support = _support(session, pool.support_finess, department, errors)
    members = _members(session, tuple(pool.member_ids), support, department, errors)
    start = _date(pool.start_date, "start_date", errors) if pool.start_date else None
    if start is None and not errors.has("start_date"):
        errors.add("start_date", "La date de début du projet est obligatoire.")
    default_engagement, default_convention = default_deadlines(start) if start else (None, None)
    deadlines = {"engagement_due": _date(pool.engagement_due, "engagement_due", errors) or default_engagement,
                 "convention_due": _date(pool.convention_due, "convention_due", errors) or default_convention}
    if start:
        _check_deadlines(deadlines, start, errors)
    errors.raise_if_any()
    row = TerritorialPool(code=_new_code(session, department.code), name=name, ars_code=department.ars_code,
                          department_code=department.code, support_establishment_id=support.id, start_date=start,
                          created_at=now, created_by=actor.id, **deadlines)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as error:  # another pool of the department created at the same instant
        raise Conflict(f"Une plateforme vient d'être créée dans le département {department.name} : rechargez la "
                       "page.") from error
    record_event(session, actor_id=actor.id, entity="territorial_pool", entity_id=row.id, action="created",
                 details={"department": department.code, "support_establishment_id": support.id,
                          "members": [m.id for m in members]}, ars_code=row.ars_code, at=now)
    add_members(session, row, members, actor=actor, now=now)
    return CreatedPool(row.id, row.code, row.name, len(members))


@dataclass(frozen=True)
class PoolFormChoices:
    """What the creation form offers this regulator: departments, then for the chosen one its active establishments
    (support) and its eligible ones still in no pool (members)."""

    departments: dict[str, str]  # code → « 33 — Gironde »
    supports: dict[str, str]  # FINESS → « name — city (EHPAD) », eligible establishments first
    members: dict[int, str]  # id → « name — city (EHPAD) »
    taken: str | None  # the department's open pool, when it allows one only
    everyone: dict[int, str]  # id → « name — city (category) — FINESS n° »: whose category may be corrected
    default_first_credit: int = DEFAULT_FIRST_CREDIT


def pool_form_choices(session: so.Session, *, actor: SessionUser | None,
                      department_code: str | None = None) -> PoolFormChoices:
    """The choices of « Créer une plateforme » (an ARS: its region's departments; the CCS: all)."""
    actor = require_role(actor, *POOL_REGULATORS)
    departments = {d.code: f"{d.code} — {d.name}" for d in sorted(reference.departements().values(),
                                                                  key=lambda d: d.code)
                   if d.ars_code is not None and (actor.role != "ars" or d.ars_code == actor.ars_code)}
    if not department_code:
        return PoolFormChoices(departments, {}, {}, None, {})
    if department_code not in departments:
        raise PermissionDenied("Ce département relève d'une autre ARS.")
    rows = session.execute(
        sa.select(Establishment.id, Establishment.finess, Establishment.name, Establishment.city,
                  Establishment.finess_category_code)
        .where(Establishment.department_code == department_code, Establishment.id_kind == IdKind.FINESS.value,
               Establishment.status == EstablishmentStatus.ACTIVE.value)
        .order_by(Establishment.name, Establishment.id)).mappings().all()
    eligible = eligible_categories()
    taken_ids = set(session.scalars(sa.select(PoolMember.establishment_id).join(
        Establishment, Establishment.id == PoolMember.establishment_id).where(
        Establishment.department_code == department_code, PoolMember.state.in_(LIVE_STATES))))

    def label(row: Any) -> str:
        category = category_short_label(row["finess_category_code"])
        return f"{row['name']} — {row['city']}" + (f" ({category})" if category else "")

    ordered = sorted(rows, key=lambda r: (r["finess_category_code"] not in eligible, r["name"].lower(), r["id"]))
    def with_finess(row: Any) -> str:
        return f"{label(row)} — FINESS {row['finess']}"

    supports = {r["finess"]: with_finess(r) for r in ordered}
    members = {r["id"]: label(r) for r in rows if r["finess_category_code"] in eligible and r["id"] not in taken_ids}
    existing = open_pool_of(session, department_code)
    everyone = {r["id"]: with_finess(r) for r in rows}
    return PoolFormChoices(departments, supports, members, existing.name if existing else None, everyone)


# ---------------------------------------------------------------- the project follow-up, closing


def _regulated_open_pool(session: so.Session, actor: SessionUser | None, pool_id: int) -> tuple[SessionUser,
                                                                                                  TerritorialPool]:
    pool = get_pool(session, pool_id)
    actor = require_pool_regulator(actor, pool)
    pool = session.get(TerritorialPool, pool_id, with_for_update=True, populate_existing=True)
    if pool.closed_at is not None:
        raise Conflict("Cette plateforme est fermée : son suivi n'est plus modifiable.")
    return actor, pool


def update_project(session: so.Session, *, actor: SessionUser | None, pool_id: int, follow_up: ProjectFollowUp,
                   now: datetime | None = None) -> list[str]:
    """Record the project's follow-up (deadlines, letter, credits, convention) after checking it whole; returns the
    French names of the fields that changed (none: nothing recorded)."""
    now = now or utcnow()
    actor, pool = _regulated_open_pool(session, actor, pool_id)
    values = clean_follow_up(follow_up, start=pool.start_date, today=paris_today(now))
    changed = [field for field in FIELD_LABELS if getattr(pool, field) != values[field]]
    if not changed:
        return []
    for field in changed:
        setattr(pool, field, values[field])
    session.flush()
    record_event(session, actor_id=actor.id, entity="territorial_pool", entity_id=pool.id, action="project_updated",
                 details={"fields": changed}, ars_code=pool.ars_code, at=now)
    return [FIELD_LABELS[field] for field in changed]


def close_pool(session: so.Session, *, actor: SessionUser | None, pool_id: int, now: datetime | None = None) -> str:
    """Close a pool: its members are free to join another, pending requests are refused, its roster ends (its
    pool-only volunteers are released to the national pool) and its coordinators can no longer act. Returns its
    name."""
    now = now or utcnow()
    actor, pool = _regulated_open_pool(session, actor, pool_id)
    pool.closed_at = now
    for member in session.scalars(sa.select(PoolMember).where(PoolMember.pool_id == pool.id,
                                                              PoolMember.state.in_(LIVE_STATES))):
        member.state = (PoolMemberState.RETIRE.value if member.state == PoolMemberState.MEMBRE.value
                        else PoolMemberState.REFUSE.value)
        member.decided_at, member.decided_by = now, actor.id
    live_roster = (RosterState.INVITE.value, RosterState.MEMBRE.value)
    for entry in session.scalars(sa.select(PoolRosterEntry).where(PoolRosterEntry.pool_id == pool.id,
                                                                  PoolRosterEntry.state.in_(live_roster))):
        entry.state = RosterState.RETIRE.value
        if entry.pool_only and entry.released_at is None:
            entry.released_at = now
    session.flush()
    record_event(session, actor_id=actor.id, entity="territorial_pool", entity_id=pool.id, action="closed",
                 after="closed", ars_code=pool.ars_code, at=now)
    return pool.name


# ---------------------------------------------------------------- reading pools


def _counts(session: so.Session, model: Any, pool_ids: list[int]) -> dict[tuple[int, str], int]:
    if not pool_ids:
        return {}
    rows = session.execute(sa.select(model.pool_id, model.state, sa.func.count())
                           .where(model.pool_id.in_(pool_ids)).group_by(model.pool_id, model.state))
    return {(pool_id, state): count for pool_id, state, count in rows}


def _sees_staff_names(actor: SessionUser, pool: TerritorialPool) -> bool:
    """Coordinators' names and the project's free texts: the region's ARS, the CCS, admins and the pool's own
    coordinators; the ministry reads the figures."""
    return reads_names(actor, pool.ars_code) or coordinates(actor, pool)


def _pool_actions(actor: SessionUser, pool: TerritorialPool) -> Actions:
    if pool.closed_at is not None or not regulates_pool(actor, pool):
        return NONE
    return frozenset({Action.EDIT, Action.CLOSE, Action.MANAGE_MEMBERS})


def _summaries(session: so.Session, actor: SessionUser, pools: list[TerritorialPool],
               today: date) -> list[dict[str, Any]]:
    """One row per pool: department, support, members, coordinators, roster, money, deadlines, warnings, actions."""
    ids = [pool.id for pool in pools]
    members = _counts(session, PoolMember, ids)
    roster = _counts(session, PoolRosterEntry, ids)
    coordinators = coordinators_of(session, ids)
    support_ids = [pool.support_establishment_id for pool in pools]
    found = session.execute(sa.select(Establishment.id, Establishment.name, Establishment.finess)
                            .where(Establishment.id.in_(support_ids))).all() if pools else []
    supports = {row.id: row.name for row in found}
    finesses = {row.id: row.finess for row in found}
    departments, regions = reference.departements(), reference.ars_names()
    rows = []
    for pool in pools:
        active = [c for c in coordinators.get(pool.id, []) if c["activated"]]
        roster_members = roster.get((pool.id, RosterState.MEMBRE.value), 0)
        gaps = missing_for_operation(convention_received=pool.convention_received_on is not None,
                                     coordinators=len(active), roster_members=roster_members)
        credits = [(pool.first_credit_amount, pool.first_credit_on), (pool.second_credit_amount, pool.second_credit_on)]
        names = _sees_staff_names(actor, pool)
        rows.append({
            "id": pool.id, "code": pool.code, "name": pool.name, "ars_code": pool.ars_code,
            "region": regions.get(pool.ars_code, pool.ars_code), "department_code": pool.department_code,
            "department": departments[pool.department_code].name, "start_date": pool.start_date,
            "support": supports.get(pool.support_establishment_id), "support_id": pool.support_establishment_id,
            "support_finess": finesses.get(pool.support_establishment_id),
            "members": members.get((pool.id, PoolMemberState.MEMBRE.value), 0),
            "join_requests": members.get((pool.id, PoolMemberState.DEMANDE.value), 0),
            "coordinators": ([f"{c['first_name']} {c['last_name']}" for c in coordinators.get(pool.id, [])]
                             if names else None),
            "coordinator_count": len(coordinators.get(pool.id, [])),
            "roster": roster_members, "invited": roster.get((pool.id, RosterState.INVITE.value), 0),
            "committed": sum(amount or 0 for amount, _ in credits),
            "paid": sum(amount or 0 for amount, paid_on in credits if paid_on),
            "engagement": deadline(pool.engagement_due, pool.engagement_received_on, today),
            "convention": deadline(pool.convention_due, pool.convention_received_on, today),
            "operational": not gaps, "gaps": gaps, "warnings": warnings_for(pool, gaps, today),
            "closed_at": pool.closed_at, "actions": _pool_actions(actor, pool),
        })
    return rows


@dataclass(frozen=True)
class PoolList:
    rows: list[dict[str, Any]]
    region: str | None  # the region listed (an ARS: its own), None: every region
    can_create: bool
    totals: dict[str, int]


def _readable_region(actor: SessionUser | None, ars_code: str | None) -> tuple[SessionUser, str | None]:
    """An ARS reads its own region only; the national roles any region, or all."""
    actor = require_role(actor, *POOL_READERS)
    if actor.role == "ars":
        if ars_code not in (None, actor.ars_code):
            raise PermissionDenied("Les plateformes d'une autre région relèvent de son ARS.")
        return actor, actor.ars_code
    if ars_code is not None and ars_code not in reference.ars_names():
        raise NotFound("Cette région n'existe pas.")
    return actor, ars_code


def _pools(session: so.Session, region: str | None, include_closed: bool) -> list[TerritorialPool]:
    query = sa.select(TerritorialPool)
    if region:
        query = query.where(TerritorialPool.ars_code == region)
    if not include_closed:
        query = query.where(TerritorialPool.closed_at.is_(None))
    return list(session.scalars(query.order_by(TerritorialPool.department_code, TerritorialPool.name,
                                               TerritorialPool.id)))


def list_pools(session: so.Session, *, actor: SessionUser | None, ars_code: str | None = None,
               include_closed: bool = False, now: datetime | None = None) -> PoolList:
    """The pools of a region (an ARS: its own) or of the country, with their figures, deadlines and warnings."""
    actor, region = _readable_region(actor, ars_code)
    rows = _summaries(session, actor, _pools(session, region, include_closed), paris_today(now or utcnow()))
    totals = {"pools": len(rows), "members": sum(r["members"] for r in rows), "roster": sum(r["roster"] for r in rows),
              "committed": sum(r["committed"] for r in rows), "paid": sum(r["paid"] for r in rows),
              "warnings": sum(1 for r in rows if r["warnings"]),
              "operational": sum(1 for r in rows if r["operational"] and r["closed_at"] is None)}
    return PoolList(rows, region, actor.role in POOL_REGULATORS, totals)


def pools_map(session: so.Session, *, actor: SessionUser | None, ars_code: str | None = None,
              now: datetime | None = None) -> list[dict[str, Any]]:
    """Every department of the region (or of the country) with its open pools: count, names, members and the
    worst state among them (MAP_STATES), for a map by department."""
    actor, region = _readable_region(actor, ars_code)
    rows = _summaries(session, actor, _pools(session, region, False), paris_today(now or utcnow()))
    by_department: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_department.setdefault(row["department_code"], []).append(row)
    order = [NO_POOL, OPERATIONAL, SETTING_UP, ALERT]
    regions = reference.ars_names()
    found = []
    for department in sorted(reference.departements().values(), key=lambda d: d.code):
        if department.ars_code is None or (region and department.ars_code != region):
            continue
        pools = by_department.get(department.code, [])
        states = [ALERT if p["warnings"] else OPERATIONAL if p["operational"] else SETTING_UP for p in pools]
        state = max(states, key=order.index) if states else NO_POOL
        found.append({"code": department.code, "name": department.name, "region": regions[department.ars_code],
                      "lat": department.lat, "lon": department.lon, "pools": len(pools),
                      "names": ", ".join(p["name"] for p in pools), "members": sum(p["members"] for p in pools),
                      "roster": sum(p["roster"] for p in pools), "state": state, "state_label": MAP_STATES[state]})
    return found


def pool_detail(session: so.Session, *, actor: SessionUser | None, pool_id: int,
                now: datetime | None = None) -> dict[str, Any]:
    """One pool: its row of the table, its project's values, members (each removable by its ARS), join requests,
    the establishments its ARS may still add, and its coordinators' contacts."""
    pool = get_pool(session, pool_id)
    actor = require_pool_reader(actor, pool)
    today = paris_today(now or utcnow())
    [row] = _summaries(session, actor, [pool], today)
    manages = Action.MANAGE_MEMBERS in row["actions"]
    member_rows = session.execute(
        sa.select(PoolMember.id, PoolMember.decided_at, Establishment.id.label("establishment_id"),
                  Establishment.finess, Establishment.name, Establishment.city, Establishment.finess_category_code)
        .join(Establishment, Establishment.id == PoolMember.establishment_id)
        .where(PoolMember.pool_id == pool.id, PoolMember.state == PoolMemberState.MEMBRE.value)
        .order_by(Establishment.name, Establishment.id)).mappings().all()
    members = [{**m, "category": category_short_label(m["finess_category_code"]),
                "support": m["establishment_id"] == pool.support_establishment_id,
                "actions": frozenset({Action.MANAGE_MEMBERS}) if manages and m["establishment_id"]
                != pool.support_establishment_id else NONE} for m in member_rows]
    choices = pool_form_choices(session, actor=actor, department_code=pool.department_code) if manages else None
    names = _sees_staff_names(actor, pool)
    coordinators = coordinators_of(session, [pool.id]).get(pool.id, [])
    project = {field: getattr(pool, field) for field in FIELD_LABELS}
    if not names:
        project.update({field: None for field in TEXTS})
    return {
        **row, "project": project, "member_rows": members, "requests": join_requests(session, actor=actor,
                                                                                       pool_id=pool.id),
        "candidates": choices.members if choices else {}, "decides_joins": decides_joins(actor, pool),
        # the department's establishments whose FINESS category its regulator may correct (an EHPAD registered
        # under another category cannot join before)
        "correctable": choices.everyone if choices else {},
        "coordinator_rows": [{"name": f"{c['first_name']} {c['last_name']}", "email": c["email"],
                              "phone": c["phone"], "activated": c["activated"]} for c in coordinators] if names else [],
        "default_first_credit": DEFAULT_FIRST_CREDIT,
    }


def pool_of_member(session: so.Session, establishment_id: int) -> TerritorialPool | None:
    live = live_membership(session, establishment_id)
    return None if live is None else session.get(TerritorialPool, live.pool_id)


# ---------------------------------------------------------------- the export (« Exports »)


@dataclass(frozen=True)
class PoolExport:
    content: bytes
    file_name: str
    mime: str
    rows: int


POOL_COLUMNS = [Column(header) for header in (
    "Code", "Plateforme", "Région", "Département", "FINESS support", "Établissement support", "Début du projet",
    "Établissements membres", "Demandes d'adhésion", "Coordinateurs", "Vivier (membres)", "Invitations en attente",
    "Échéance lettre d'engagement", "Lettre d'engagement", "Budget total (€)", "Financements acquis (€)",
    "Financements attendus (€)", "Premier crédit (€)", "Premier crédit versé le", "Échéance convention",
    "Convention", "Second crédit (€)", "Second crédit versé le", "Crédits engagés (€)", "Crédits versés (€)",
    "Opérationnelle", "Manque", "Alerte", "Fermée le")]
MEMBER_COLUMNS = [Column(header) for header in (
    "Code plateforme", "Plateforme", "Département", "FINESS", "Établissement", "Catégorie FINESS", "Commune", "État",
    "Depuis le")]
MEMBER_STATES = {PoolMemberState.MEMBRE.value: "Membre", PoolMemberState.DEMANDE.value: "Demande d'adhésion"}


def _pool_line(row: dict[str, Any], pool: TerritorialPool) -> list[Any]:
    coordinators = (", ".join(row["coordinators"]) if row["coordinators"] is not None
                    else f"{row['coordinator_count']} désigné(s)")
    return [row["code"], row["name"], row["region"], f"{row['department_code']} — {row['department']}",
            row["support_finess"], row["support"], row["start_date"], row["members"], row["join_requests"],
            coordinators, row["roster"], row["invited"], pool.engagement_due, row["engagement"].label,
            pool.total_budget, pool.funding_acquired, pool.funding_expected, pool.first_credit_amount,
            pool.first_credit_on, pool.convention_due, row["convention"].label, pool.second_credit_amount,
            pool.second_credit_on, row["committed"], row["paid"], "Oui" if row["operational"] else "Non",
            ", ".join(row["gaps"]) or None, "; ".join(row["warnings"]) or None, row["closed_at"]]


@dataclass(frozen=True)
class PoolExportScope:
    label: str  # « ARS Nouvelle-Aquitaine », « toutes les régions »
    file_name: str


def _export_file_name(region: str | None, today: date) -> str:
    return f"plateformes-territoriales-{f'region-{region}' if region else 'national'}-{today:%Y-%m-%d}.xlsx"


def pool_export_scope(session: so.Session, *, actor: SessionUser | None,
                      now: datetime | None = None) -> PoolExportScope:
    """What « Exports » offers this reader of the pools: its region (an ARS) or all of them, and the file's name;
    refused to the roles that do not export them."""
    actor = require_role(actor, *EXPORTERS)
    region = actor.ars_code if actor.role == "ars" else None
    label = f"ARS {reference.ars_names()[region]}" if region else "toutes les régions"
    return PoolExportScope(label, _export_file_name(region, paris_today(now or utcnow())))


def export_pools(session: so.Session, *, actor: SessionUser | None, ars_code: str | None = None,
                 now: datetime | None = None) -> PoolExport:
    """The pools of a region (an ARS: its own) or of the country as .xlsx — « À propos », « Plateformes »,
    « Établissements membres » —, recorded in the audit trail. For the ARS, the CCS and the ministry."""
    now = now or utcnow()
    actor = require_role(actor, *EXPORTERS)
    actor, region = _readable_region(actor, ars_code)
    pools = _pools(session, region, include_closed=True)
    rows = _summaries(session, actor, pools, paris_today(now))
    members = session.execute(
        sa.select(TerritorialPool.code, TerritorialPool.name.label("pool"), TerritorialPool.department_code,
                  Establishment.finess, Establishment.name, Establishment.finess_category_code, Establishment.city,
                  PoolMember.state, PoolMember.decided_at, PoolMember.requested_at)
        .join(TerritorialPool, TerritorialPool.id == PoolMember.pool_id)
        .join(Establishment, Establishment.id == PoolMember.establishment_id)
        .where(PoolMember.pool_id.in_([p.id for p in pools]), PoolMember.state.in_(LIVE_STATES))
        .order_by(TerritorialPool.department_code, TerritorialPool.name, Establishment.name)).mappings().all()
    writer = XlsxWriter()
    count = writer.add_sheet("Plateformes", POOL_COLUMNS, (_pool_line(row, pool) for row, pool in zip(rows, pools,
                                                                                                    strict=True)))
    writer.add_sheet("Établissements membres", MEMBER_COLUMNS, (
        [m["code"], m["pool"], m["department_code"], m["finess"], m["name"],
         category_short_label(m["finess_category_code"]), m["city"], MEMBER_STATES[m["state"]],
         (m["decided_at"] or m["requested_at"]).astimezone(PARIS).date()] for m in members))
    where = f"ARS {reference.ars_names()[region]}" if region else "toutes les régions"
    event = record_event(session, actor_id=actor.id, entity="export", entity_id=None, action="exported",
                         details={"dataset": "plateformes_territoriales", "filters": {"region": region} if region
                                  else {}, "rows": count, "nominative": False, "format": "xlsx"},
                         ars_code=region or NATIONAL, at=now)
    session.flush()
    writer.add_about("À propos", [
        ("Jeu de données", "Plateformes territoriales (appel à manifestation d'intérêt « Renfort RH »)"),
        ("Périmètre", where),
        ("Contenu", "Une ligne par plateforme (ouverte ou fermée) : établissement support, membres, coordinateurs, "
                    "vivier, échéances et leur état, budget, financements, crédits engagés (montant indiqué) et versés "
                    "(avec une date) ; puis les établissements membres et les demandes d'adhésion."),
        ("Opérationnelle", "Convention reçue, au moins un coordinateur au compte activé et au moins un volontaire "
                           "membre du vivier."),
        ("Alerte", f"« {CLAWBACK_WARNING} » : échéance de la convention passée sans que la plateforme soit "
                   "opérationnelle."),
        ("Exporté par", f"{actor.display_name}"),
        ("Exporté le", now.astimezone(PARIS).replace(tzinfo=None)),
        ("Nombre de plateformes", count),
        ("Journal", f"Export inscrit au journal d'audit (événement n° {event.id})"),
    ], position=0)
    return PoolExport(writer.close(), _export_file_name(region, paris_today(now)), XLSX_MIME, count)

