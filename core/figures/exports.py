"""« Exports » (DESIGN §6, issue 11): who may export what, the preview, the audit Event, the file.

Who: the ministry (national, pseudonymised only), the CCS (national) and each ARS (its region), who may
choose a nominative export, and each establishment user (the missions and assignments of its own
establishments). The command line acts as the platform's operator: national, pseudonymised unless asked.

An export is two steps, so that no file ever leaves without its Event and no write lock is held while a
large file is built:
1. `prepare_export` (a write transaction of its own) checks the rights, counts the rows and records the
   Event — who, which dataset, which filters, nominative or not, how many rows;
2. `build_export` (a read-only transaction, the replica's when there is one) checks the rights again,
   finds that Event, and streams the rows into the .xlsx or CSV file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, BinaryIO

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.datasets import (
    CATEGORY,
    DATASETS,
    DEPARTMENT,
    PERIOD,
    PROFESSION,
    REGION,
    STATUS,
    STEPS,
    Dataset,
    ExportFilters,
    Scope,
    Table,
)
from core.figures.spreadsheet import CSV_MIME, XLSX_MIME, XlsxWriter, neutralise, write_csv, write_xlsx
from core.places import reference
from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import NATIONAL, record_event
from core.shared.clock import PARIS, paris_today, utcnow
from core.shared.config import get_settings
from core.shared.errors import NotFound, PermissionDenied, ValidationError
from core.shared.permissions import require_role
from core.shared.validation import format_phone
from core.staffing.missions import assigned_staff
from db.models import Establishment, Event

__all__ = ["neutralise", "write_xlsx"]  # the spreadsheet writers, where the other exports found them

EXPORTERS = ("ministere", "ccs", "ars", "etablissement", OPERATOR_ROLE)
NAMES_ALLOWED = ("ccs", "ars", "etablissement", OPERATOR_ROLE)  # may ask for a nominative export
PREVIEW_ROWS = 20
PROGRESS_EVERY = 1000  # rows between two progress reports
FORMATS = {"xlsx": (XLSX_MIME, "xlsx"), "csv": (CSV_MIME, "csv")}
EXPORT_ENTITY, EXPORT_ACTION = "export", "exported"
ROLE_LABELS = {"ministere": "Ministère", "ccs": "Centre de crise sanitaire", "ars": "ARS",
               "etablissement": "Établissement", OPERATOR_ROLE: "opérateur de la plateforme"}
Progress = Callable[[int, int], None]  # (rows written, rows expected)


@dataclass(frozen=True)
class ExportRequest:
    """What the user asks for: a dataset, its filters, names or pseudonyms, .xlsx or CSV, and (for
    « statistiques ») posts per week or per day."""

    dataset: str
    filters: ExportFilters = ExportFilters()
    nominative: bool = False
    file_format: str = "xlsx"
    step: str = "semaine"


@dataclass(frozen=True)
class ExportOptions:
    """What the « Exports » page offers this reader."""

    datasets: dict[str, str]  # code → label, in the order of the page
    descriptions: dict[str, str]
    filters: dict[str, frozenset[str]]  # dataset → the filters it uses
    statuses: dict[str, dict[str, str]]  # dataset → its statuses (code → label)
    steps: dict[str, dict[str, str]]  # dataset → how its figures may be grouped (« statistiques »: week, day)
    regions: dict[str, str]  # the regions the reader may choose (an ARS: its own only)
    fixed_region: str | None  # an ARS's own region, which its exports always keep
    names_allowed: bool  # may tick « Export nominatif »
    scope_label: str


@dataclass(frozen=True)
class ExportPreview:
    columns: list[str]
    rows: list[tuple]  # the first rows, as they will be written (datetimes in Paris time)
    total: int  # rows of the file (its main table)
    file_name: str
    mime: str
    scope_label: str


@dataclass(frozen=True)
class ExportReceipt:
    """An export recorded in the audit trail, ready to be built."""

    event_id: int
    request: ExportRequest
    rows: int
    at: datetime
    file_name: str


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    file_name: str
    mime: str
    rows: int


# ---------------------------------------------------------------- who may export what


def _require_exporter(actor: SessionUser | None) -> SessionUser:
    return require_role(actor, *EXPORTERS)


def _datasets_for(actor: SessionUser) -> dict[str, Dataset]:
    if actor.role == "etablissement":
        return {code: dataset for code, dataset in DATASETS.items() if dataset.for_establishments}
    return dict(DATASETS)


def _fixed_region(actor: SessionUser) -> str | None:
    return actor.ars_code if actor.role == "ars" else None


def _scope_label(session: so.Session, actor: SessionUser, filters: ExportFilters) -> str:
    if actor.role == "etablissement":
        names = session.scalars(sa.select(Establishment.name).where(Establishment.id.in_(actor.establishment_ids))
                                .order_by(Establishment.name)).all()
        return "Établissement : " + ", ".join(names) if len(names) == 1 else "Établissements : " + ", ".join(names)
    if filters.ars_code:
        return f"ARS {reference.ars_names().get(filters.ars_code, filters.ars_code)}"
    return "National"


def export_options(session: so.Session, *, actor: SessionUser | None) -> ExportOptions:
    """The datasets, filters and choices the page offers this reader."""
    actor = _require_exporter(actor)
    datasets = _datasets_for(actor)
    fixed = _fixed_region(actor)
    names = reference.ars_names()
    regions = {fixed: names[fixed]} if fixed else dict(sorted(names.items(), key=lambda item: item[1]))
    if actor.role == "etablissement":
        regions = {}  # its own establishments: no region to choose
    return ExportOptions(
        datasets={code: dataset.label for code, dataset in datasets.items()},
        descriptions={code: dataset.description for code, dataset in datasets.items()},
        filters={code: dataset.filters - ({REGION} if actor.role == "etablissement" else set())
                 for code, dataset in datasets.items()},
        statuses={code: dict(dataset.statuses) for code, dataset in datasets.items()},
        steps={code: dict(STEPS) if dataset.grouped else {} for code, dataset in datasets.items()},
        regions=regions,
        fixed_region=fixed,
        names_allowed=actor.role in NAMES_ALLOWED,
        scope_label=_scope_label(session, actor, ExportFilters(ars_code=fixed)),
    )


def _clean_filters(dataset: Dataset, filters: ExportFilters) -> ExportFilters:
    """The filters the dataset uses, each checked against the reference data (others are dropped)."""
    used = dataset.filters
    cleaned = ExportFilters(
        ars_code=filters.ars_code if REGION in used else None,
        department_code=filters.department_code if DEPARTMENT in used else None,
        profession_code=filters.profession_code if PROFESSION in used else None,
        category_code=filters.category_code if CATEGORY in used else None,
        start=filters.start if PERIOD in used else None,
        end=filters.end if PERIOD in used else None,
        statuses=tuple(dict.fromkeys(filters.statuses)) if STATUS in used else (),
    )
    if cleaned.ars_code and cleaned.ars_code not in reference.ars_names():
        raise ValidationError("ars_code", f"Région inconnue : « {cleaned.ars_code} » (code INSEE de la région, "
                                          "par exemple 52 pour les Pays de la Loire).")
    department = reference.departements().get(cleaned.department_code or "")
    if cleaned.department_code and department is None:
        raise ValidationError("department_code", f"Département inconnu : « {cleaned.department_code} ».")
    if department is not None and cleaned.ars_code and department.ars_code != cleaned.ars_code:
        raise ValidationError("department_code", "Ce département ne relève pas de la région choisie.")
    if cleaned.profession_code and cleaned.profession_code not in reference.profession_labels():
        raise ValidationError("profession_code", f"Profession inconnue : « {cleaned.profession_code} ».")
    if cleaned.category_code and cleaned.category_code not in reference.category_labels():
        raise ValidationError("category_code", f"Catégorie d'établissement inconnue : « {cleaned.category_code} ».")
    unknown = [status for status in cleaned.statuses if status not in dataset.statuses]
    if unknown:
        raise ValidationError("statuses", f"Statut inconnu pour ce jeu de données : {', '.join(unknown)}.")
    if cleaned.start and cleaned.end and cleaned.end < cleaned.start:
        raise ValidationError("period", "La date de fin de la période précède sa date de début.")
    return cleaned


def _scope(actor: SessionUser | None, request: ExportRequest, now: datetime,
           limit: int | None = None) -> tuple[SessionUser, Dataset, Scope]:
    """The rights of this reader on this request: the dataset allowed, the filters narrowed to its region
    or establishments, names only when allowed and asked."""
    actor = _require_exporter(actor)
    allowed = _datasets_for(actor)
    if request.dataset not in DATASETS:
        raise ValidationError("dataset", "Jeu de données inconnu : choisissez parmi " + ", ".join(DATASETS) + ".")
    if request.dataset not in allowed:
        raise PermissionDenied("Un établissement exporte ses missions et ses affectations seulement.")
    if request.file_format not in FORMATS:
        raise ValidationError("file_format", "Format inconnu : choisissez .xlsx ou .csv.")
    if request.step not in STEPS:
        raise ValidationError("step", "Regroupement inconnu : par semaine ou par jour.")
    if request.nominative and actor.role not in NAMES_ALLOWED:
        raise PermissionDenied("Le ministère reçoit des exports pseudonymisés uniquement.")
    dataset = allowed[request.dataset]
    filters = _clean_filters(dataset, request.filters)
    fixed = _fixed_region(actor)
    if fixed and filters.ars_code and filters.ars_code != fixed:
        raise PermissionDenied("Une ARS exporte les données de sa région seulement.")
    if fixed and REGION in dataset.filters:
        filters = _clean_filters(dataset, replace(filters, ars_code=fixed))
    establishments = None
    if actor.role == "etablissement":
        if not actor.establishment_ids:
            raise PermissionDenied("Ce compte n'est rattaché à aucun établissement.")
        establishments = actor.establishment_ids
        filters = replace(filters, ars_code=None)
    scope = Scope(filters=filters, establishment_ids=establishments, nominative=request.nominative,
                  pseudonym_key=get_settings().pseudonym_key, now=now, step=request.step, limit=limit)
    return actor, dataset, scope


def file_name(request: ExportRequest, scope: Scope, today: date) -> str:
    """missions-national-2026-11-23.xlsx, professionnels-region-52-nominatif-2026-11-23.csv"""
    where = ("etablissement" if scope.establishment_ids is not None
             else f"region-{scope.filters.ars_code}" if scope.filters.ars_code else "national")
    names = "-nominatif" if request.nominative else ""
    return f"{request.dataset}-{where}{names}-{today:%Y-%m-%d}.{FORMATS[request.file_format][1]}"


# ---------------------------------------------------------------- the three services


def preview_export(session: so.Session, *, actor: SessionUser | None, request: ExportRequest,
                   limit: int = PREVIEW_ROWS, now: datetime | None = None) -> ExportPreview:
    """The first rows and the row count of what the file would hold (nothing is recorded: a screen, not a file)."""
    now = now or utcnow()
    actor, dataset, scope = _scope(actor, request, now, limit=limit)
    main = dataset.tables(session, scope)[0]
    rows = [tuple(neutralise(value) for value in row) for row in main.rows]
    return ExportPreview(columns=[column.header for column in main.columns], rows=rows,
                         total=dataset.count(session, replace(scope, limit=None)),
                         file_name=file_name(request, scope, paris_today(now)), mime=FORMATS[request.file_format][0],
                         scope_label=_scope_label(session, actor, scope.filters))


def prepare_export(session: so.Session, *, actor: SessionUser | None, request: ExportRequest,
                   now: datetime | None = None) -> ExportReceipt:
    """Record the export in the audit trail — who, dataset, filters, nominative or not, rows — in its own write
    transaction, before any byte is built (`build_export`)."""
    now = now or utcnow()
    actor, dataset, scope = _scope(actor, request, now)
    rows = dataset.count(session, scope)
    details: dict[str, Any] = {"dataset": dataset.code, "filters": scope.filters.as_details(),
                               "nominative": request.nominative, "rows": rows, "format": request.file_format}
    if scope.establishment_ids is not None:
        details["establishments"] = list(scope.establishment_ids)
    if dataset.grouped:
        details["step"] = request.step
    event = record_event(session, actor_id=actor.id, entity=EXPORT_ENTITY, entity_id=None, action=EXPORT_ACTION,
                         details=details, at=now, ars_code=_event_region(session, scope))
    session.flush()
    return ExportReceipt(event_id=event.id, request=request, rows=rows, at=now,
                         file_name=file_name(request, scope, paris_today(now)))


def _event_region(session: so.Session, scope: Scope) -> str:
    """The region the export concerns (its ARS sees it in its journal), else national."""
    if scope.filters.ars_code:
        return scope.filters.ars_code
    if scope.establishment_ids is not None:
        regions = set(session.scalars(sa.select(Establishment.ars_code)
                                      .where(Establishment.id.in_(scope.establishment_ids))))
        if len(regions) == 1:
            return regions.pop()
    return NATIONAL


def build_export(session: so.Session, *, actor: SessionUser | None, receipt: ExportReceipt,
                 progress: Progress | None = None, target: BinaryIO | None = None) -> ExportFile:
    """The file of a recorded export, streamed: .xlsx (« À propos », then the data sheets) or CSV (the main
    table). `progress(rows written, rows expected)` follows a large file. With `target` (a file open for writing,
    the command line's), the bytes go there as they are made and the result's content is empty."""
    actor, dataset, scope = _scope(actor, receipt.request, receipt.at)
    _check_recorded(session, actor, receipt)
    tables = dataset.tables(session, scope)
    main = replace(tables[0], rows=_reporting(tables[0].rows, receipt.rows, progress))
    mime = FORMATS[receipt.request.file_format][0]
    if receipt.request.file_format == "csv":
        content, rows = write_csv(main.columns, main.rows, target)
        return ExportFile(content, receipt.file_name, mime, rows)
    writer = XlsxWriter(target)
    counts = [writer.add_sheet(table.title, table.columns, table.rows) for table in [main, *tables[1:]]]
    lines = about_lines(actor, dataset, scope, receipt, list(zip(tables, counts, strict=True)),
                        scope_label=_scope_label(session, actor, scope.filters))
    writer.add_about("À propos", lines, position=0)
    return ExportFile(writer.close(), receipt.file_name, mime, counts[0])


def _check_recorded(session: so.Session, actor: SessionUser, receipt: ExportReceipt) -> None:
    """The receipt names an Event of this export, recorded for this reader (the command line's carries no user)."""
    event = session.get(Event, receipt.event_id)
    if (event is None or event.entity != EXPORT_ENTITY or event.action != EXPORT_ACTION
            or (event.details or {}).get("dataset") != receipt.request.dataset):
        raise NotFound("Cet export n'est pas inscrit au journal : préparez-le de nouveau.")
    if event.actor_user_id != (None if actor.role == OPERATOR_ROLE else actor.id):
        raise PermissionDenied("Cet export a été préparé par un autre compte.")


def _reporting(rows: Iterable[Sequence[Any]], expected: int, progress: Progress | None) -> Iterator[Sequence[Any]]:
    if progress is None:
        yield from rows
        return
    done = 0
    progress(0, expected)
    for done, row in enumerate(rows, start=1):
        yield row
        if done % PROGRESS_EVERY == 0:
            progress(done, max(expected, done))
    progress(done, max(expected, done))


def _filter_lines(dataset: Dataset, scope: Scope) -> list[tuple[str, Any]]:
    f = scope.filters
    lines: list[tuple[str, Any]] = []
    if f.ars_code:
        lines.append(("Filtre : région", f"ARS {reference.ars_names()[f.ars_code]}"))
    if f.department_code:
        lines.append(("Filtre : département", f"{f.department_code} — {reference.departements()[f.department_code].name}"))
    if f.profession_code:
        lines.append(("Filtre : profession", reference.profession_labels()[f.profession_code]))
    if f.category_code:
        lines.append(("Filtre : catégorie d'établissement", reference.category_labels()[f.category_code]))
    if f.start or f.end:
        since = f"du {f.start:%d/%m/%Y}" if f.start else "depuis toujours"
        until = f"au {f.end:%d/%m/%Y}" if f.end else "sans date de fin"
        lines.append(("Filtre : période", f"{since} {until}"))
    if f.statuses:
        lines.append(("Filtre : statut", ", ".join(dataset.statuses[status] for status in f.statuses)))
    return lines or [("Filtres", "aucun")]


def about_lines(actor: SessionUser, dataset: Dataset, scope: Scope, receipt: ExportReceipt,
                sheets: Sequence[tuple[Table, int]], *, scope_label: str) -> list[tuple[str, Any]]:
    """The « À propos » sheet: dataset, scope, filters, personal data, who, when, rows, source."""
    personal = ("Nominatives : noms, coordonnées et identifiants des personnes, à protéger (RGPD)."
                if scope.nominative else
                "Pseudonymisées : chaque volontaire est un pseudonyme stable (le même d'un export à l'autre), son "
                "département remplace sa commune ; ni nom, ni courriel, ni téléphone, ni numéro RPPS ou ADELI, ni "
                "texte libre.")
    who = ("Ligne de commande (opérateur de la plateforme)" if actor.role == OPERATOR_ROLE
           else f"{actor.display_name} — {ROLE_LABELS.get(actor.role, actor.role)}")
    lines: list[tuple[str, Any]] = [
        ("Jeu de données", dataset.label),
        ("Contenu", dataset.description),
        ("Périmètre", scope_label),
        *_filter_lines(dataset, scope),
    ]
    if dataset.grouped:
        lines.append(("Regroupement", f"Postes {STEPS[scope.step]} de début des missions"))
    lines += [
        ("Données personnelles", personal),
        ("Exporté par", who),
        ("Exporté le", receipt.at.astimezone(PARIS).replace(tzinfo=None)),
        ("Nombre de lignes", sheets[0][1]),
    ]
    lines += [(f"Lignes de la feuille « {table.title} »", count) for table, count in sheets[1:]]
    lines += [
        ("Source", f"Renfort RH ({get_settings().base_url}), base de la plateforme lue au moment de l'export"),
        ("Journal", f"Export inscrit au journal d'audit (événement n° {receipt.event_id})"),
        ("Lecture", "Dates au format JJ/MM/AAAA, heures de Paris ; en-tête figé, filtres sur chaque colonne."),
    ]
    return lines


# ---------------------------------------------------------------- an establishment's assigned staff


ASSIGNED_COLUMNS = ("Nom", "Prénom", "Profession", "Téléphone", "Courriel", "Mission", "Début", "Fin", "Affecté le")


def export_filename(kind: str, name: str, today: date) -> str:
    """affectations-CHU-de-Nantes-2026-11-23.xlsx"""
    safe_name = "-".join("".join(c if c.isalnum() else " " for c in name).split())[:40]
    return f"{kind}-{safe_name}-{today:%Y-%m-%d}.xlsx"


def export_assigned_staff(session: so.Session, *, actor: SessionUser | None, establishment_id: int,
                          now: datetime | None = None) -> bytes:
    """The "Voir affectation professionnels" list as .xlsx; the export itself is recorded (who, what)."""
    now = now or utcnow()
    rows = assigned_staff(session, actor=actor, establishment_id=establishment_id)
    content = write_xlsx("Affectations", ASSIGNED_COLUMNS, (
        (r["last_name"], r["first_name"], r["profession"], format_phone(r["phone"]), r["email"], r["mission"],
         r["start_date"], r["end_date"], r["decided_at"]) for r in rows
    ))
    record_event(session, actor_id=actor.id, entity="export", entity_id=establishment_id, action="assigned_staff",
                 details={"rows": len(rows), "nominative": True}, at=now)
    return content
