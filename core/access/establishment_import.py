"""Bulk creation of establishment accounts from the ministry's spreadsheet (DGS launch circular, July 2020, annex 2).

Sheet 1 holds one establishment account per row (ARS de rattachement, Finess géographique, nom établissement,
Type établissement, adresse, CP, ville, nom, prenom, e-mail, telephone), sheet 2 the lists of types and ARS.

The file is never trusted: the sheet is found by its headers, the columns by their names (accents, case, spaces
and punctuation ignored), merged cells are filled, formulas are read from the value the spreadsheet computed,
numbers typed as text and text typed as numbers are put back in shape (a FINESS or a postal code that lost its
leading zero is corrected, and the row says so). Each row goes through the cleaning of the public account request
(core.access.accounts), and the existing FINESS, e-mails and memberships are read in a few queries for the whole
file, never row by row: 5,000 rows import well within a minute.

A row is « à créer » (a new establishment and its account, or a new account for an establishment created by an
earlier row), « déjà existant » (the FINESS is known: the account joins it, or is already one of its members and
nothing changes — importing the same file twice creates nothing the second time) or « rejeté » with its reasons.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.exc import IntegrityError

from core.access.accounts import (
    VACCINATION_CENTRE,
    AccountRequest,
    activation_links,
    clean_establishment,
    clean_identity,
    new_establishment,
    new_establishment_user,
)
from core.mail import emails
from core.mail.outbox import queue_emails
from core.places import geo, reference
from core.shared.actor import OPERATOR_ROLE, SessionUser
from core.shared.audit import NATIONAL, record_event
from core.shared.clock import utcnow
from core.shared.errors import Conflict, ErrorCollector, PermissionDenied, ValidationError
from core.shared.permissions import own_region, require_role
from core.shared.validation import compact, validate_finess
from db.models import AccountStatus, Establishment, EstablishmentStatus, Membership, User

TO_CREATE, EXISTING, REJECTED = "à créer", "déjà existant", "rejeté"
OUTCOMES = (TO_CREATE, EXISTING, REJECTED)
IMPORT_ROLES = ("admin", "ccs", "ars", OPERATOR_ROLE)

# Below Streamlit's maxUploadSize (64 Mo, .streamlit/config.toml) so that a bigger file gets this French message;
# 5,000 rows weigh about 300 Ko.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # an .xlsx is a zip: a tiny file may inflate to gigabytes
MAX_ROWS = 20_000
HEADER_SCAN_ROWS = 20  # the header row may sit under a title or a few notes
MIN_MATCHED_HEADERS = 6  # fewer recognised headers than this: not the template's sheet
TEMPLATE_ROWS = 5_000  # rows of the template that carry the drop-down lists
IN_CHUNK = 900  # values per IN (…) list, under SQLite's variable limit on old builds
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE, LISTS_TITLE, REJECTED_TITLE = "Établissements", "Listes", "Lignes rejetées"
LINE_HEADER, MOTIVE_HEADER = "ligne", "motif"

Progress = Callable[[float, str], None]


def _key(text: Any) -> str:
    """A header or list value reduced to lower-case letters and digits: « E-mail » = « email » = « E mail »."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]", "", plain)


@dataclass(frozen=True)
class Column:
    field: str  # key of a row's values
    header: str  # as the ministry's template writes it
    request_field: str  # the AccountRequest field it feeds (and the field of its cleaning errors)
    aliases: tuple[str, ...] = ()  # other headers met in real files, as _key gives them
    required: bool = True  # a file without this column is refused; an optional one may be absent or left empty

    def header_keys(self) -> set[str]:
        return {_key(self.header), *self.aliases}


COLUMNS = (
    Column("ars", "ARS de rattachement", "ars_code", ("ars", "arsrattachement", "arsderegion", "region")),
    Column("finess", "Finess géographique", "identifier",
           ("finess", "nfiness", "nofiness", "numerofiness", "finessgeo", "finessgeographiqueougid", "finessougid",
            "gid")),
    Column("establishment_name", "nom établissement", "establishment_name",
           ("etablissement", "nomdeletablissement", "nometab", "raisonsociale")),
    Column("category", "Type établissement", "category_code",
           ("type", "typedetablissement", "categorie", "categorieetablissement", "categoriedetablissement")),
    Column("address", "adresse", "address", ("adressepostale", "adresseetablissement", "voie")),
    Column("postal_code", "CP", "postal_code", ("codepostal",)),
    Column("city", "ville", "city", ("commune", "localite")),
    Column("last_name", "nom", "last_name", ("nomducontact", "nomcontact", "nomdefamille")),
    Column("first_name", "prenom", "first_name", ("prenomducontact", "prenomcontact")),
    Column("email", "e-mail", "email",
           ("mail", "courriel", "adressemail", "adresseemail", "adressecourriel", "adresseelectronique",
            "emailducontact")),
    Column("phone", "telephone", "phone", ("tel", "numerodetelephone", "telephoneducontact", "portable")),
    # Not in the ministry's template of 2020 (issue 14): optional, so that its files still import as they are.
    Column("finess_category", "Catégorie FINESS", "finess_category_code",
           ("categoriefinessetablissement", "codecategoriefiness", "codecategorie", "categfiness"), required=False),
)
COLUMN_BY_KEY = {key: column for column in COLUMNS for key in column.header_keys()}
HEADERS = tuple(column.header for column in COLUMNS)
FINESS_CATEGORY_HEADER = "Catégorie FINESS (facultative)"


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class RowOutcome:
    """One row of the file: what the import does with it, and why."""

    line: int  # the row's number in the sheet, as the spreadsheet shows it
    values: dict[str, str]  # each field's text as read (for the preview and the rejected rows' file)
    outcome: str  # TO_CREATE, EXISTING or REJECTED
    detail: str = ""  # what will happen (or happened), in French
    reasons: tuple[str, ...] = ()  # why the row is rejected
    notes: tuple[str, ...] = ()  # corrections made on the way (a FINESS's lost leading zero…)
    creates_account: bool = False  # a user is created (new establishment, or joining an existing one)
    creates_establishment: bool = False


@dataclass(frozen=True)
class ImportReport:
    """A preview (imported False) or the result of an import, row by row."""

    sheet: str
    rows: tuple[RowOutcome, ...]
    imported: bool = False
    establishments_created: int = 0
    accounts_created: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome: self.count(outcome) for outcome in OUTCOMES}

    @property
    def accounts_to_create(self) -> int:
        return sum(1 for row in self.rows if row.creates_account)

    @property
    def joined_existing(self) -> int:
        """Accounts joining an establishment already in the database."""
        return sum(1 for row in self.rows if row.outcome == EXISTING and row.creates_account)

    @property
    def unchanged(self) -> int:
        """Rows already imported: the establishment and its account are there, nothing changes."""
        return sum(1 for row in self.rows if row.outcome == EXISTING and not row.creates_account)

    @property
    def can_import(self) -> bool:
        """Whether confirming would create anything (the page offers the button only then)."""
        return not self.imported and self.accounts_to_create > 0

    @property
    def rejected(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.outcome == REJECTED]

    def summary(self) -> str:
        """The French sentence of an import's result (flash message, command line)."""
        joined = self.joined_existing
        parts = [f"{self.establishments_created} établissement(s) créé(s)",
                 f"{self.accounts_created} compte(s) créé(s)"
                 + (f" dont {joined} rattaché(s) à un établissement existant" if joined else ""),
                 f"{self.unchanged} ligne(s) déjà présente(s) sans changement",
                 f"{self.count(REJECTED)} ligne(s) rejetée(s)"]
        return "Import terminé : " + ", ".join(parts) + "."


# ---------------------------------------------------------------- the template


@lru_cache(maxsize=1)
def import_template() -> bytes:
    """The ministry's template as .xlsx: sheet 1 headers with drop-down lists for the type and the ARS, sheet 2
    the lists (from the reference data, so that every value offered is one the import accepts)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(list(HEADERS))
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="000091")
        cell.alignment = Alignment(vertical="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 4)
        if column.field in ("finess", "postal_code", "phone"):
            # Typed as text, so that Excel keeps the leading zeros of 010000024, 01000 or 0612345678.
            sheet.column_dimensions[letter].number_format = "@"
    sheet.column_dimensions["D"].width = 60
    sheet.column_dimensions["A"].width = 34
    sheet.freeze_panes = "A2"
    lists = workbook.create_sheet(LISTS_TITLE)
    lists.append([HEADERS[3], HEADERS[0], FINESS_CATEGORY_HEADER])
    categories = [category["label"] for category in reference.establishment_categories()]
    agencies = [f"ARS {row.name}" for row in reference.ars_list()]
    finess = [f"{category['code']} - {category['short_label']}" for category in reference.finess_categories()]
    for row in range(max(len(categories), len(agencies), len(finess))):
        lists.append([values[row] if row < len(values) else None for values in (categories, agencies, finess)])
    lists.column_dimensions["A"].width = 80
    lists.column_dimensions["B"].width = 40
    lists.column_dimensions["C"].width = 34
    finess_column = get_column_letter(len(COLUMNS))
    for lists_column, sheet_column, count, label in (("A", "D", len(categories), "un type d'établissement"),
                                                     ("B", "A", len(agencies), "une ARS"),
                                                     ("C", finess_column, len(finess), "une catégorie FINESS")):
        source = f"{quote_sheetname(LISTS_TITLE)}!${lists_column}$2:${lists_column}${count + 1}"
        validation = DataValidation(type="list", formula1=source,
                                    allow_blank=True, showErrorMessage=True, errorTitle="Valeur hors liste",
                                    error=f"Choisissez {label} dans la liste (feuille « {LISTS_TITLE} »).")
        validation.add(f"{sheet_column}2:{sheet_column}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(validation)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# ---------------------------------------------------------------- reading the file


def _refuse_file(message: str) -> ValidationError:
    return ValidationError("file", message)


def _check_container(content: bytes) -> None:
    """An .xlsx is a zip archive: anything else (a renamed .csv, an old .xls, a program) is refused in French."""
    if not content:
        raise _refuse_file("Le fichier est vide.")
    if len(content) > MAX_IMPORT_BYTES:
        size = f"{len(content) / 1024 / 1024:.1f}".replace(".", ",")
        raise _refuse_file(f"Le fichier pèse {size} Mo : la limite est de {MAX_IMPORT_BYTES // (1024 * 1024)} Mo. "
                           "Découpez-le en plusieurs fichiers.")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse_file("Ce fichier est au format Excel 97-2003 (.xls) ou protégé par un mot de passe : "
                           "enregistrez-le sans mot de passe au format « Classeur Excel (.xlsx) », puis recommencez.")
    if not content.startswith(b"PK"):
        kind = "un fichier texte (CSV ?)" if _looks_like_text(content) else "un autre type de fichier"
        raise _refuse_file(f"Ce fichier n'est pas un classeur Excel (.xlsx) : c'est {kind}. Ouvrez-le dans un "
                           "tableur et enregistrez-le au format « Classeur Excel (.xlsx) », ou partez du modèle.")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise _refuse_file("Ce fichier .xlsx est endommagé (archive illisible) : enregistrez-le de nouveau depuis "
                           "votre tableur.") from None
    if "xl/workbook.xml" not in names:
        raise _refuse_file("Ce fichier n'est pas un classeur Excel (.xlsx) : c'est une archive d'un autre type "
                           "(document Word, archive zip…).")
    if inflated > MAX_UNZIPPED_BYTES:
        raise _refuse_file("Ce classeur est trop volumineux une fois décompressé : découpez-le en plusieurs fichiers.")


def _looks_like_text(content: bytes) -> bool:
    sample = content[:2048]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            sample.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return b"\x00" not in sample


def _open_workbook(content: bytes, *, formulas: bool = False) -> Any:
    """openpyxl on untrusted bytes: whatever goes wrong becomes a French refusal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Data Validation extension is not supported"… (harmless)
            return load_workbook(io.BytesIO(content), data_only=not formulas, read_only=formulas)
    except Exception:  # noqa: BLE001 - any failure of the parser on a hostile or broken file
        raise _refuse_file("Ce classeur n'a pas pu être lu : enregistrez-le de nouveau au format « Classeur Excel "
                           "(.xlsx) » depuis votre tableur, ou partez du modèle.") from None


@dataclass(frozen=True)
class _Layout:
    sheet: Any
    header_row: int
    columns: dict[str, int]  # field → column index (1-based)


def _header_match(cells: Iterable[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(cells, start=1):
        column = COLUMN_BY_KEY.get(_key(value))
        if column is not None and column.field not in found:  # a repeated header: the first one counts
            found[column.field] = index
    return found


def _find_layout(workbook: Any) -> _Layout:
    """The sheet and row whose cells name the most template columns, whatever the sheet is called."""
    best: _Layout | None = None
    for sheet in workbook.worksheets:
        for row_number, cells in enumerate(sheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True), start=1):
            matched = _header_match(cells)
            if best is None or len(matched) > len(best.columns):
                best = _Layout(sheet, row_number, matched)
    if best is None or len(best.columns) < MIN_MATCHED_HEADERS:
        raise _refuse_file("Aucune feuille de ce classeur ne contient les colonnes du modèle (" + ", ".join(HEADERS)
                           + ") : partez du modèle téléchargeable sur cette page.")
    missing = [column.header for column in COLUMNS if column.required and column.field not in best.columns]
    if missing:
        raise _refuse_file(f"La feuille « {best.sheet.title} » n'a pas de colonne "
                           + ", ".join(f"« {header} »" for header in missing)
                           + " : ajoutez-la (l'ordre des colonnes est libre).")
    if best.sheet.max_row - best.header_row > MAX_ROWS:
        raise _refuse_file(f"La feuille « {best.sheet.title} » compte {best.sheet.max_row - best.header_row} lignes : "
                           f"au plus {MAX_ROWS} par import. Découpez le fichier.")
    return best


def _merged_values(sheet: Any) -> dict[tuple[int, int], Any]:
    """Every cell of a merged range takes the value of its top-left cell (an ARS merged over ten rows…)."""
    values: dict[tuple[int, int], Any] = {}
    for merged in sheet.merged_cells.ranges:
        top_left = sheet.cell(row=merged.min_row, column=merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                values[(row, column)] = top_left
    return values


def cell_text(value: Any) -> str:
    """A cell as text: 10000024.0 → 10000024, stray and non-breaking spaces removed, dates as JJ/MM/AAAA."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() != time(0) else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return re.sub(r"\s+", " ", str(value).replace("\xa0", " ")).strip()


@dataclass
class _RawRow:
    line: int
    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)  # field → what is wrong with its cell
    cells: dict[str, str] = field(default_factory=dict)  # field → its cell's reference (« L12 »)


def _read_rows(content: bytes, workbook: Any, layout: _Layout) -> list[_RawRow]:
    merged = _merged_values(layout.sheet)
    rows: list[_RawRow] = []
    blanks: list[tuple[_RawRow, str, int]] = []  # empty cells of non-empty rows: formulas without a value?
    for line, cells in enumerate(layout.sheet.iter_rows(min_row=layout.header_row + 1), start=layout.header_row + 1):
        raw = _RawRow(line, {column.field: "" for column in COLUMNS})  # an optional column may be absent
        for name, index in layout.columns.items():
            raw.cells[name] = f"{get_column_letter(index)}{line}"
            cell = cells[index - 1] if index <= len(cells) else None
            value = merged.get((line, index), cell.value if cell is not None else None)
            if isinstance(value, str) and value.strip() in ERROR_CODES:
                raw.problems[name] = (f"La cellule {get_column_letter(index)}{line} contient une erreur de "
                                      f"calcul ({value.strip()}).")
                value = None
            raw.values[name] = cell_text(value)
        if not any(raw.values.values()) and not raw.problems:
            continue  # an empty row (or one only formatted) is skipped
        blanks += [(raw, name, index) for name, index in layout.columns.items()
                   if not raw.values[name] and name not in raw.problems]
        rows.append(raw)
    if blanks:
        _flag_formulas_without_value(content, layout, blanks)
    return rows


def _flag_formulas_without_value(content: bytes, layout: _Layout, blanks: list[tuple[_RawRow, str, int]]) -> None:
    """A formula the spreadsheet never computed (a file written by a program) reads as empty: say so."""
    formulas = _open_workbook(content, formulas=True)
    try:
        sheet = formulas[layout.sheet.title]
        wanted = {(raw.line, index) for raw, _, index in blanks}
        found: dict[tuple[int, int], str] = {}
        first, last = min(line for line, _ in wanted), max(line for line, _ in wanted)
        for line, cells in enumerate(sheet.iter_rows(min_row=first, max_row=last), start=first):
            for cell in cells:
                position = (line, getattr(cell, "column", 0))
                if position in wanted and getattr(cell, "data_type", "") == "f":
                    found[position] = str(cell.value)
    finally:
        formulas.close()
    for raw, name, index in blanks:
        formula = found.get((raw.line, index))
        if formula is not None:
            raw.problems[name] = (f"La cellule {get_column_letter(index)}{raw.line} contient une formule sans valeur "
                                  f"calculée ({formula[:40]}) : ouvrez le fichier dans un tableur et enregistrez-le, "
                                  "ou remplacez la formule par sa valeur.")


def read_rows(content: bytes) -> tuple[str, list[_RawRow]]:
    """The template's sheet and its non-empty rows, whatever the file's layout; a French error otherwise."""
    _check_container(content)
    workbook = _open_workbook(content)
    layout = _find_layout(workbook)
    return layout.sheet.title, _read_rows(content, workbook, layout)


# ---------------------------------------------------------------- checking a row (no database)


@lru_cache(maxsize=1)
def _category_codes() -> dict[str, str]:
    codes = {}
    for category in reference.establishment_categories():
        codes[_key(category["label"])] = category["code"]
        codes[_key(category["code"])] = category["code"]
    return codes


ARS_ACRONYMS = {"idf": "11", "cvl": "24", "bfc": "27", "hdf": "32", "pdl": "52", "naq": "75", "ara": "84",
                "paca": "93", "reunion": "04"}


@lru_cache(maxsize=1)
def _ars_codes() -> dict[str, str]:
    codes = {_key(row.name): row.code for row in reference.ars_list()}
    return {**codes, **ARS_ACRONYMS}


def _unnumbered(text: str) -> str:
    """« 16-ARS Pays de la Loire » → « ARS Pays de la Loire »: the ministry's lists number their entries."""
    return re.sub(r"^\s*\d+\s*[-–—.)]\s*(?=\D)", "", text)


def category_code(text: str) -> str | None:
    """The category of a « Type établissement » cell: its label (as our template or the ministry's writes it) or code."""
    return _category_codes().get(_key(_unnumbered(text)))


@lru_cache(maxsize=1)
def _finess_category_codes() -> dict[str, str]:
    codes = {}
    for category in reference.finess_categories():
        for text in (category["code"], category["short_label"], category["label"],
                     f"{category['code']} - {category['short_label']}"):
            codes[_key(text)] = category["code"]
    return codes


def finess_category_code(text: str) -> str | None:
    """The FINESS category of a « Catégorie FINESS » cell: its code (500), short label (EHPAD), label, or the list's
    « 500 - EHPAD »."""
    return _finess_category_codes().get(_key(text))


def _finess_category_reason(raw: _RawRow) -> str:
    text = raw.values["finess_category"]
    where = raw.cells.get("finess_category", "")
    return (f"Catégorie FINESS inconnue « {text} » (ligne {raw.line}, colonne « Catégorie FINESS », cellule {where}) : "
            "indiquez le code (500) ou le sigle (EHPAD) d'une catégorie de la feuille « Listes » du modèle, ou "
            "laissez la cellule vide.")


def ars_code(text: str) -> str | None:
    """The ARS of an « ARS de rattachement » cell: « ARS Grand-Est », « Grand Est », « 6-ARS Grand-Est », 44…"""
    if re.fullmatch(r"\d{1,2}", text.strip()):
        code = text.strip().zfill(2)
        return code if code in reference.ars_names() else None
    key = _key(_unnumbered(text))
    if key.startswith("ars") and key != "ars":
        key = key[3:]
    return _ars_codes().get(key)


@lru_cache(maxsize=65_536)  # the reference communes of every row's postal code, again and again
def _city_key(name: str) -> str:
    """Communes compared the forgiving way: « St-Herblain » = « SAINT HERBLAIN » = « Saint Herblain Cedex », and
    « Paris 13e » = « PARIS 13 », « Lyon 1er » = « LYON 01 »."""
    words = ["SAINT" if w == "ST" else "SAINTE" if w == "STE" else w for w in geo.normalize_commune(name).split()]
    text = re.sub(r"\s+CEDEX(\s+\d+)?$", "", " ".join(words))
    text = re.sub(r"\b0*(\d+)(?:IEME|EME|ER|E)?\b", r"\1", text)
    return text.replace(" ", "")


def _reference_commune(postal_code: str, city: str) -> str:
    """The commune's name as La Poste writes it when the typed name is the same one written otherwise."""
    wanted = _city_key(city)
    names = geo.communes(postal_code)
    same = [name for name in names if _city_key(name) == wanted]
    # « Paris » for 75013: the only arrondissement that postal code serves.
    city_only = [name for name in names if re.sub(r"\d+$", "", _city_key(name)) == wanted]
    return same[0] if same else city_only[0] if len(city_only) == 1 else city


def _without_lost_zero(validate: Callable[[str], Any], raw: str, label: str, notes: list[str]) -> str:
    """A value a spreadsheet stored as a number loses its leading zero: put it back when the validator says
    so (the corrected value is valid), and note the correction."""
    try:
        validate(raw)
    except ValidationError as error:
        if error.suggestion:
            notes.append(f"{label} « {compact(raw)} » corrigé en {error.suggestion} : le tableur avait supprimé "
                         "le zéro initial.")
            return error.suggestion
    return raw


def _phone_text(raw: str, notes: list[str]) -> str:
    """0612345678 stored as a number reads 612345678; +33612345678 stored as a number reads 33612345678."""
    digits = compact(raw)
    if re.fullmatch(r"[1-9]\d{8}", digits):
        notes.append(f"Téléphone « {digits} » corrigé en 0{digits} : le tableur avait supprimé le zéro initial.")
        return "0" + digits
    if re.fullmatch(r"(33|262|590|594|596)\d{9}", digits):
        return "+" + digits
    return raw


@dataclass
class _Checked:
    raw: _RawRow
    reasons: list[str]
    notes: list[str]
    identity: dict | None = None
    place: dict | None = None

    @property
    def email_key(self) -> str:
        return (self.identity or {}).get("email") or self.raw.values["email"].lower()


def _check_row(raw: _RawRow) -> _Checked:
    """Every check that needs no database, with the public request's own cleaning (core.access.accounts)."""
    values, notes = raw.values, []
    category = category_code(values["category"]) if values["category"] else None
    finess_category = finess_category_code(values["finess_category"]) if values["finess_category"] else None
    is_gid = category == VACCINATION_CENTRE
    identifier = values["finess"] if is_gid else _without_lost_zero(validate_finess, values["finess"], "FINESS", notes)
    postal_code = _without_lost_zero(geo.validate_postal_code, values["postal_code"], "Code postal", notes)
    postal_code = compact(postal_code)
    agency = ars_code(values["ars"]) if values["ars"] else None
    request = AccountRequest(
        last_name=values["last_name"], first_name=values["first_name"], email=values["email"],
        phone=_phone_text(values["phone"], notes), category_code=category or "",
        finess_category_code=finess_category, identifier=identifier,
        establishment_name=values["establishment_name"], address=values["address"], postal_code=postal_code,
        city=_reference_commune(postal_code, values["city"]) if values["city"] else "", ars_code=agency or "",
    )
    errors = ErrorCollector()
    identity, place = clean_identity(request, errors), clean_establishment(request, errors)
    reasons = _reasons(raw, errors)
    if values["finess_category"] and finess_category is None and "finess_category" not in raw.problems:
        reasons.append((COLUMN_POSITION["finess_category_code"], _finess_category_reason(raw)))
    ars_reason = _ars_reason(values["ars"], agency, place["location"] or _postal_code_location(postal_code))
    if ars_reason:
        reasons.append((0, ars_reason))
    return _Checked(raw, [message for _, message in sorted(reasons, key=lambda pair: pair[0])], notes,
                    identity, place)


def _postal_code_location(postal_code: str) -> geo.Location | None:
    """The postal code's place when the city was wrong: enough to compare its ARS with the row's."""
    try:
        return geo.locate(postal_code)
    except ValidationError:
        return None


def _ars_reason(text: str, agency: str | None, location: geo.Location | None) -> str | None:
    if text and agency is None:
        return f"ARS inconnue « {text} » : choisissez-la dans la liste de la feuille « {LISTS_TITLE} » du modèle."
    if agency is not None and location is not None and location.ars != agency:
        names = reference.ars_names()
        return (f"Le code postal {location.postal_code} relève de l'ARS {names[location.ars]}, pas de l'ARS "
                f"{names[agency]} indiquée sur la ligne.")
    return None


COLUMN_POSITION = {column.request_field: position for position, column in enumerate(COLUMNS)}


def _reasons(raw: _RawRow, errors: ErrorCollector) -> list[tuple[int, str]]:
    """The cleaning's messages in the order of the columns, with the template's column names for empty cells and
    unknown types."""
    values = raw.values
    reasons = [(position, raw.problems[column.field]) for position, column in enumerate(COLUMNS)
               if column.field in raw.problems]
    reasons += [(position, f"Champ manquant : « {column.header} ».") for position, column in enumerate(COLUMNS)
                if column.required and not values[column.field] and column.field not in raw.problems]
    for error in errors.errors:
        position = COLUMN_POSITION.get(error.field, len(COLUMNS))
        if position < len(COLUMNS) and not values[COLUMNS[position].field]:
            continue  # already said: empty cell
        if error.field == "category_code":
            reasons.append((position, f"Type d'établissement inconnu « {values['category']} » : choisissez-le dans "
                                      f"la liste de la feuille « {LISTS_TITLE} » du modèle."))
        elif error.field != "ars_code":  # the ARS is checked against the list and the postal code by the caller
            reasons.append((position, error.message))
    return reasons


# ---------------------------------------------------------------- what the database already holds


@dataclass(frozen=True)
class _KnownEstablishment:
    id: int
    status: str
    ars_code: str
    name: str


@dataclass
class _Known:
    establishments: dict[tuple[str, str], _KnownEstablishment]  # (id kind, identifier) → live establishment
    users: dict[str, int]  # lower-case e-mail → live user id
    memberships: set[tuple[int, int]]  # (user id, establishment id)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == IN_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _known(session: so.Session, rows: list[_Checked]) -> _Known:
    """The FINESS, e-mails and memberships of the file already in the database: a few queries for the whole file."""
    identifiers = {row.place["finess"] for row in rows if row.place and row.place["finess"]}
    emails_ = {row.email_key for row in rows if row.email_key}
    establishments: dict[tuple[str, str], _KnownEstablishment] = {}
    for batch in _chunks(sorted(identifiers)):
        for row in session.execute(
            sa.select(Establishment.id, Establishment.id_kind, Establishment.finess, Establishment.status,
                      Establishment.ars_code, Establishment.name)
            .where(Establishment.finess.in_(batch), Establishment.status != EstablishmentStatus.REJECTED.value)
        ):
            establishments[(row.id_kind, row.finess)] = _KnownEstablishment(row.id, row.status, row.ars_code, row.name)
    users: dict[str, int] = {}
    for batch in _chunks(sorted(emails_)):
        for user_id, email in session.execute(
            sa.select(User.id, sa.func.lower(User.email))
            .where(sa.func.lower(User.email).in_(batch), User.status != AccountStatus.REJECTED.value)
        ):
            users[email] = user_id
    memberships: set[tuple[int, int]] = set()
    for batch in _chunks(sorted(users.values())):
        memberships.update(tuple(row) for row in session.execute(
            sa.select(Membership.user_id, Membership.establishment_id).where(Membership.user_id.in_(batch))))
    return _Known(establishments, users, memberships)


# ---------------------------------------------------------------- deciding each row


def _may_import(actor: SessionUser, region: str) -> bool:
    return actor.role != "ars" or actor.ars_code == region


def _decide(checked: list[_Checked], known: _Known, actor: SessionUser) -> list[RowOutcome]:
    """Each row's outcome, in file order: the first row of an e-mail wins, a FINESS created by an earlier row
    is joined by the later ones."""
    names = reference.ars_names()
    first_line_of_email: dict[str, int] = {}
    created_by_line: dict[tuple[str, str], int] = {}
    outcomes = []
    for row in checked:
        reasons = list(row.reasons)
        email = row.email_key
        if email in first_line_of_email:
            reasons.append(f"Adresse électronique déjà présente ligne {first_line_of_email[email]} du fichier : "
                           "seule la première ligne est importée.")
        elif email:
            first_line_of_email[email] = row.raw.line
        outcome = RowOutcome(row.raw.line, row.raw.values, REJECTED, notes=tuple(row.notes))
        if reasons:
            outcomes.append(replace(outcome, reasons=tuple(reasons)))
            continue
        place = row.place
        key = (place["id_kind"], place["finess"])
        establishment = known.establishments.get(key)
        region = establishment.ars_code if establishment else place["ars_code"]
        user_id = known.users.get(email)
        if not _may_import(actor, region):
            reason = (f"Cet établissement relève d'une autre ARS (ARS {names.get(region, region)}) : "
                      "seuls cette ARS, le CCS ou un administrateur peuvent l'importer.")
        elif establishment and user_id is not None and (user_id, establishment.id) in known.memberships:
            outcomes.append(replace(outcome, outcome=EXISTING,
                                    detail="Établissement et compte déjà présents : rien ne change."))
            continue
        elif user_id is not None:
            reason = "Un compte existe déjà avec cette adresse électronique (pour un autre établissement)."
        elif establishment and establishment.status == EstablishmentStatus.PENDING.value:
            reason = ("Une demande de compte pour cet établissement attend la validation de l'ARS : traitez-la "
                      "d'abord dans « Validation des comptes ».")
        elif establishment:
            outcomes.append(replace(outcome, outcome=EXISTING, creates_account=True,
                                    detail=f"Établissement déjà présent (« {establishment.name} ») : le compte "
                                           "y est rattaché."))
            continue
        elif key in created_by_line:
            outcomes.append(replace(outcome, outcome=TO_CREATE, creates_account=True,
                                    detail=f"Compte rattaché à l'établissement de la ligne {created_by_line[key]}."))
            continue
        else:
            created_by_line[key] = row.raw.line
            outcomes.append(replace(outcome, outcome=TO_CREATE, creates_account=True, creates_establishment=True,
                                    detail="Établissement et compte à créer."))
            continue
        outcomes.append(replace(outcome, reasons=(reason,)))
    return outcomes


@dataclass(frozen=True)
class _Analysis:
    sheet: str
    checked: list[_Checked]
    outcomes: list[RowOutcome]
    known: _Known


def _analyse(session: so.Session, actor: SessionUser, content: bytes, progress: Progress | None) -> _Analysis:
    say = progress or (lambda fraction, text: None)
    say(0.0, "Lecture du fichier…")
    sheet, raw_rows = read_rows(content)
    checked = []
    for index, raw in enumerate(raw_rows, start=1):
        checked.append(_check_row(raw))
        if index % 250 == 0:
            say(0.1 + 0.4 * index / len(raw_rows), f"Contrôle des lignes : {index} / {len(raw_rows)}")
    say(0.5, "Recherche des établissements et des comptes existants…")
    known = _known(session, checked)
    return _Analysis(sheet, checked, _decide(checked, known, actor), known)


def _require_importer(actor: SessionUser | None) -> SessionUser:
    actor = require_role(actor, *IMPORT_ROLES)
    if actor.role == "ars" and not actor.ars_code:
        raise PermissionDenied()
    return actor


def preview_import(session: so.Session, *, actor: SessionUser | None, content: bytes,
                   progress: Progress | None = None) -> ImportReport:
    """What importing this file would do, row by row; writes nothing."""
    actor = _require_importer(actor)
    analysis = _analyse(session, actor, content, progress)
    if progress:
        progress(1.0, "Aperçu prêt.")
    return ImportReport(analysis.sheet, tuple(analysis.outcomes))


# ---------------------------------------------------------------- importing


def import_establishments(session: so.Session, *, actor: SessionUser | None, content: bytes,
                          now: datetime | None = None, progress: Progress | None = None) -> ImportReport:
    """Create the valid rows' establishments (active) and accounts (active, awaiting their activation link), in
    the caller's one transaction; the file is checked again here, never trusted from a preview."""
    now = now or utcnow()
    actor = _require_importer(actor)
    say = progress or (lambda fraction, text: None)
    analysis = _analyse(session, actor, content, progress)
    rows = [(row, outcome) for row, outcome in zip(analysis.checked, analysis.outcomes, strict=True)
            if outcome.creates_account]
    establishments = _create_establishments(session, actor, rows, analysis.known, now)
    say(0.6, "Création des comptes…")
    _create_accounts(session, actor, rows, establishments, now, say)
    report = ImportReport(analysis.sheet, tuple(analysis.outcomes), imported=True,
                          establishments_created=sum(1 for _, outcome in rows if outcome.creates_establishment),
                          accounts_created=len(rows))
    record_event(session, actor_id=actor.id, entity="establishment_import", entity_id=None, action="imported",
                 details={"rows": len(report.rows), "establishments_created": report.establishments_created,
                          "accounts_created": report.accounts_created, "unchanged": report.unchanged,
                          "rejected": report.count(REJECTED)},
                 ars_code=own_region(actor) or NATIONAL, at=now)
    say(1.0, "Import terminé.")
    return report


def _flush(session: so.Session) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent import or request took a FINESS or an e-mail first
        raise Conflict("Certains de ces établissements ou comptes viennent d'être créés par ailleurs : rien n'a "
                       "été importé. Relancez l'aperçu puis l'import.") from error


def _create_establishments(session: so.Session, actor: SessionUser, rows: list[tuple[_Checked, RowOutcome]],
                           known: _Known, now: datetime) -> dict[tuple[str, str], int]:
    """The new establishments in one flush; returns the id of every establishment the rows join or create."""
    created = {}
    for row, outcome in rows:
        if outcome.creates_establishment:
            created[(row.place["id_kind"], row.place["finess"])] = new_establishment(
                row.place, status=EstablishmentStatus.ACTIVE.value, now=now)
    session.add_all(created.values())
    _flush(session)
    for establishment in created.values():
        record_event(session, actor_id=actor.id, entity="establishment", entity_id=establishment.id,
                     action="created", after=establishment.status, details={"source": "import"},
                     ars_code=establishment.ars_code, at=now)
    return {**{key: establishment.id for key, establishment in known.establishments.items()},
            **{key: establishment.id for key, establishment in created.items()}}


def _create_accounts(session: so.Session, actor: SessionUser, rows: list[tuple[_Checked, RowOutcome]],
                     establishments: dict[tuple[str, str], int], now: datetime, say: Progress) -> None:
    """Each account active without password, its membership, and an e-mail with its activation link: a few
    statements per batch of rows, never a round trip per row."""
    users = [new_establishment_user(row.identity, status=AccountStatus.ACTIVE.value, now=now) for row, _ in rows]
    session.add_all(users)
    _flush(session)
    names = reference.ars_names()
    done = 0
    for batch in _chunks(list(zip(rows, users, strict=True))):
        messages = []
        links = activation_links(session, user_ids=[user.id for _, user in batch], now=now)
        for ((row, outcome), user), link in zip(batch, links, strict=True):
            establishment_id = establishments[(row.place["id_kind"], row.place["finess"])]
            session.add(Membership(user_id=user.id, establishment_id=establishment_id, created_at=now))
            record_event(session, actor_id=actor.id, entity="user", entity_id=user.id, action="account_created",
                         after=user.status, details={"establishment_id": establishment_id, "source": "import",
                                                     "joined_existing": not outcome.creates_establishment},
                         ars_code=row.place["ars_code"], at=now)
            messages.append((f"account-imported:{user.id}", user.email, emails.establishment_account_opened(
                user.first_name, row.place["name"], names[row.place["ars_code"]], link)))
        queue_emails(session, messages=messages, now=now)
        done += len(batch)
        say(0.6 + 0.4 * done / len(rows), f"Création des comptes : {done} / {len(rows)}")
    _flush(session)


# ---------------------------------------------------------------- the rejected rows, to correct and import again


def rejected_rows_xlsx(report: ImportReport) -> bytes:
    """The rejected rows with the template's columns plus « ligne » and « motif »: corrected, the file imports as is
    (the importer ignores the two extra columns)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = REJECTED_TITLE
    sheet.append([*HEADERS, LINE_HEADER, MOTIVE_HEADER])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report.rejected:
        sheet.append([*(row.values.get(column.field, "") for column in COLUMNS), row.line, " ; ".join(row.reasons)])
        for cell in sheet[sheet.max_row][:len(COLUMNS)]:
            # Text cells, never formulas: a value read as « =… » stays inert, and 010000024 keeps its zero.
            cell.data_type = "s"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.header) + 4)
    sheet.column_dimensions[get_column_letter(len(COLUMNS) + 2)].width = 90
    sheet.freeze_panes = "A2"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
