"""Bulk import of establishments from the ministry's template (issue 11 §4), on SQLite and PostgreSQL.

Files are built from the template the app offers (tests.factories.import_workbook), then spoiled the way real
files are: reordered and renamed columns, merged cells, formulas, numbers that lost their leading zero, stray
spaces, a .csv renamed .xlsx… Speed is measured by `python -m core bench`, never here.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from core.access import establishment_import as importer
from core.access.accounts import activate, authenticate
from core.access.establishment_import import (
    COLUMNS,
    EXISTING,
    HEADERS,
    MAX_IMPORT_BYTES,
    REJECTED,
    TO_CREATE,
    import_establishments,
    import_template,
    preview_import,
    rejected_rows_xlsx,
)
from core.mail.outbox import links_in
from core.shared.actor import COMMAND_LINE, to_session_user
from core.shared.errors import Conflict, PermissionDenied, ValidationError
from db import models as m
from ops.cli import main as cli
from tests.factories import (
    NOW,
    import_row,
    import_workbook,
    make_establishment,
    make_professional,
    make_user,
    with_luhn_key,
    workbook_bytes,
)
from tests.readers import count, count_at, events, outbox

NEW_PASSWORD = "Nouveau-Mot-2026!"


def _file(*rows: dict[str, Any]) -> bytes:
    return workbook_bytes(import_workbook(list(rows)))


def _preview(uow, content: bytes, actor=COMMAND_LINE):  # noqa: ANN001, ANN202
    with uow() as session:
        return preview_import(session, actor=actor, content=content)


def _import(uow, content: bytes, actor=COMMAND_LINE):  # noqa: ANN001, ANN202
    with uow() as session:
        return import_establishments(session, actor=actor, content=content, now=NOW)


def _by_line(report) -> dict[int, Any]:  # noqa: ANN001
    return {row.line: row for row in report.rows}


def _written(session) -> tuple[int, ...]:  # noqa: ANN001
    return tuple(count(session, model) for model in (m.Establishment, m.User, m.Membership, m.Token, m.Outbox, m.Event))


def _bad_key(finess: str) -> str:
    return finess[:-1] + str((int(finess[-1]) + 1) % 10)


# ---------------------------------------------------------------- the template


def test_the_template_has_the_ministrys_columns_its_lists_and_drop_downs_fed_by_the_lists() -> None:
    workbook = load_workbook(io.BytesIO(import_template()))
    sheet, lists = workbook.worksheets
    assert [cell.value for cell in sheet[1]] == [
        "ARS de rattachement", "Finess géographique", "nom établissement", "Type établissement", "adresse", "CP",
        "ville", "nom", "prenom", "e-mail", "telephone", "Catégorie FINESS"]
    types = [row[0] for row in lists.iter_rows(min_row=2, values_only=True) if row[0]]
    agencies = [row[1] for row in lists.iter_rows(min_row=2, values_only=True) if row[1]]
    finess = [row[2] for row in lists.iter_rows(min_row=2, values_only=True) if row[2]]
    assert types[0] == "Établissements relevant de la loi hospitalière" and len(types) == 7
    assert "ARS Pays de la Loire" in agencies and len(agencies) == 18
    assert finess[:4] == ["500 - EHPAD", "354 - SSIAD", "209 - SPASAD", "460 - SAAD"] and len(finess) == 14
    validations = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    assert validations == {"A2:A5001": "'Listes'!$B$2:$B$19", "D2:D5001": "'Listes'!$A$2:$A$8",
                           "L2:L5001": "'Listes'!$C$2:$C$15"}
    assert sheet.column_dimensions["B"].number_format == "@"  # a FINESS typed in keeps its leading zero


def test_the_empty_template_imports_nothing_and_says_so(uow) -> None:
    report = _preview(uow, import_template())
    assert (report.sheet, report.rows, report.can_import) == ("Établissements", (), False)


@pytest.mark.parametrize(("text", "code"), [
    ("ARS Pays de la Loire", "52"), ("16-ARS Pays de la Loire", "52"), ("pays de la loire", "52"),
    ("ARS Grand-Est", "44"), ("6-ARS Grand-Est", "44"), ("ARS Île-de-France", "11"), ("ile de france", "11"),
    ("ARS PACA", "93"), ("  ARS  La Réunion ", "04"), ("52", "52"), ("6", "06"), ("ARS Gascogne", None), ("99", None),
])
def test_the_ars_is_recognised_however_the_file_spells_it(text: str, code: str | None) -> None:
    assert importer.ars_code(text) == code


@pytest.mark.parametrize(("text", "code"), [
    ("1-Établissements relevant de la loi hospitalière", "loi_hospitaliere"),
    ("4-etablissements-et-services-sociaux-daccueil-hebergement-assistance-readaptation", "sociaux_hebergement"),
    ("ÉTABLISSEMENTS ET SERVICES SOCIAUX D'AIDE À LA FAMILLE", "sociaux_famille"),
    ("Centre de vaccination", "centre_vaccination"), ("Clinique vétérinaire", None),
])
def test_the_type_is_recognised_in_the_ministrys_list_or_ours(text: str, code: str | None) -> None:
    assert importer.category_code(text) == code


# ---------------------------------------------------------------- a good file


def test_a_good_file_creates_active_establishments_and_accounts_awaiting_activation(uow) -> None:
    rows = [import_row(1), import_row(2, establishment_name="  Clinique   du Parc ", city="nantes",
                                      category="Établissements relevant de la loi hospitalière")]
    report = _preview(uow, _file(*rows))
    assert [(row.line, row.outcome, row.detail) for row in report.rows] == [
        (2, TO_CREATE, "Établissement et compte à créer."), (3, TO_CREATE, "Établissement et compte à créer.")]
    assert report.can_import and report.accounts_to_create == 2
    with uow() as session:
        assert count(session, m.Establishment) == 0  # the preview writes nothing

    report = _import(uow, _file(*rows))
    assert (report.imported, report.establishments_created, report.accounts_created) == (True, 2, 2)
    assert report.summary() == ("Import terminé : 2 établissement(s) créé(s), 2 compte(s) créé(s), 0 ligne(s) déjà "
                                "présente(s) sans changement, 0 ligne(s) rejetée(s).")
    with uow() as session:
        establishments = session.scalars(sa.select(m.Establishment).order_by(m.Establishment.id)).all()
        assert [(e.finess, e.name, e.category_code, e.postal_code, e.city, e.department_code, e.ars_code, e.status)
                for e in establishments] == [
            (rows[0]["finess"], "EHPAD des Tilleuls 1", "sociaux_hebergement", "44000", "NANTES", "44", "52", "active"),
            (rows[1]["finess"], "Clinique du Parc", "loi_hospitaliere", "44000", "NANTES", "44", "52", "active")]
        users = session.scalars(sa.select(m.User).order_by(m.User.id)).all()
        assert [(u.email, u.last_name, u.first_name, u.phone, u.role, u.status, u.password_hash) for u in users] == [
            ("direction1@ehpad-test.fr", "Durand1", "Claire", "+33240123456", "etablissement", "active", None),
            ("direction2@ehpad-test.fr", "Durand2", "Claire", "+33240123456", "etablissement", "active", None)]
        memberships = session.execute(sa.select(m.Membership.user_id, m.Membership.establishment_id)).all()
        assert sorted(memberships) == [(users[0].id, establishments[0].id), (users[1].id, establishments[1].id)]


def test_each_account_gets_an_activation_email_whose_link_sets_the_password(uow) -> None:
    _import(uow, _file(import_row(1), import_row(2)))
    with uow() as session:
        mails = outbox(session)
        assert [(mail.to, mail.subject) for mail in mails] == [
            ("direction1@ehpad-test.fr", "Renfort RH — un compte a été ouvert pour votre établissement"),
            ("direction2@ehpad-test.fr", "Renfort RH — un compte a été ouvert pour votre établissement")]
        assert "« EHPAD des Tilleuls 1 » (ARS Pays de la Loire)" in mails[0].body_text
        token = links_in(mails[0].body_text)[0].split("jeton=")[1]
    with uow() as session:
        assert activate(session, actor=None, token=token, password=NEW_PASSWORD, now=NOW) == "direction1@ehpad-test.fr"
    with uow() as session:
        signed_in = authenticate(session, email="direction1@ehpad-test.fr", password=NEW_PASSWORD, now=NOW)
        assert signed_in.user is not None and signed_in.user.role == "etablissement"


def test_every_creation_and_the_import_itself_are_recorded_without_personal_values(uow) -> None:
    with uow() as session:
        ccs = to_session_user(session, user=make_user(session, "ccs"))
    _import(uow, _file(import_row(1), import_row(2), import_row(3, email="direction1@ehpad-test.fr")), actor=ccs)
    with uow() as session:
        created = events(session, "created")
        assert [(e.entity, e.after, e.details, e.ars_code, e.actor_user_id) for e in created] == [
            ("establishment", "active", {"source": "import"}, "52", ccs.id)] * 2
        accounts = events(session, "account_created")
        assert [(e.entity, e.after, e.ars_code) for e in accounts] == [("user", "active", "52")] * 2
        assert all(set(e.details) == {"establishment_id", "source", "joined_existing"} for e in accounts)
        [imported] = events(session, "imported")
        assert (imported.entity, imported.entity_id, imported.actor_user_id, imported.ars_code) == (
            "establishment_import", None, ccs.id, None)
        assert imported.details == {"rows": 3, "establishments_created": 2, "accounts_created": 2, "unchanged": 0,
                                    "rejected": 1}


def test_the_command_line_operator_is_recorded_as_such(uow) -> None:
    _import(uow, _file(import_row(1)))
    with uow() as session:
        [imported] = events(session, "imported")
        assert imported.actor_user_id is None and imported.details["acteur"] == "ligne de commande"


# ---------------------------------------------------------------- every kind of bad row


GOOD_FINESS = with_luhn_key("44000099")
IN_DATABASE = "deja.inscrite@ehpad-test.fr"
BAD_ROWS: list[tuple[dict[str, Any], str]] = [
    ({"finess_category": "Maison de retraite"},  # first: line 3 of the file
     "Catégorie FINESS inconnue « Maison de retraite » (ligne 3, colonne « Catégorie FINESS », cellule L3) : indiquez "
     "le code (500) ou le sigle (EHPAD) d'une catégorie de la feuille « Listes » du modèle, ou laissez la cellule "
     "vide."),
    ({"finess": _bad_key(GOOD_FINESS)},
     f"Le numéro FINESS « {_bad_key(GOOD_FINESS)} » est invalide : sa clé de contrôle (dernier chiffre) ne "
     "correspond pas. Vérifiez la saisie."),
    ({"finess": "4400"}, "Le numéro FINESS « 4400 » doit compter 9 caractères : 9 chiffres, ou 2A / 2B suivis de "
                         "7 chiffres pour la Corse."),
    ({"ars": "ARS de Gascogne"},
     "ARS inconnue « ARS de Gascogne » : choisissez-la dans la liste de la feuille « Listes » du modèle."),
    ({"ars": "ARS Bretagne"},
     "Le code postal 44000 relève de l'ARS Pays de la Loire, pas de l'ARS Bretagne indiquée sur la ligne."),
    ({"postal_code": "44999"}, "Le code postal 44999 n'existe pas dans la base de La Poste."),
    ({"city": "Rennes"},
     "La ville « Rennes » ne correspond pas au code postal 44000. Communes de ce code postal : NANTES."),
    ({"category": "Clinique vétérinaire"}, "Type d'établissement inconnu « Clinique vétérinaire » : choisissez-le "
                                           "dans la liste de la feuille « Listes » du modèle."),
    ({"email": "direction2@ehpad-test.fr"},
     "Adresse électronique déjà présente ligne 2 du fichier : seule la première ligne est importée."),
    ({"email": IN_DATABASE}, "Un compte existe déjà avec cette adresse électronique (pour un autre établissement)."),
    ({"email": "claire@"},
     "L'adresse électronique « claire@ » n'est pas valide (exemple attendu : prenom.nom@domaine.fr)."),
    ({"phone": "12 34"}, "Le numéro de téléphone « 12 34 » n'est pas un numéro français valide (exemples : "
                         "06 12 34 56 78, +33 6 12 34 56 78, 0690 12 34 56)."),
    *[({column.field: None}, f"Champ manquant : « {column.header} ».") for column in COLUMNS if column.required],
]


def test_a_file_with_every_kind_of_bad_row_rejects_each_with_its_reason_and_imports_the_good_one(uow) -> None:
    with uow() as session:
        make_user(session, email=IN_DATABASE)
    rows = [import_row(2)] + [import_row(100 + index, **overrides) for index, (overrides, _) in enumerate(BAD_ROWS)]
    preview = _preview(uow, _file(*rows))
    lines = _by_line(preview)
    assert lines[2].outcome == TO_CREATE
    for index, (overrides, reason) in enumerate(BAD_ROWS):
        row = lines[3 + index]
        assert (row.outcome, row.reasons) == (REJECTED, (reason,)), overrides
    assert preview.counts == {TO_CREATE: 1, EXISTING: 0, REJECTED: len(BAD_ROWS)}

    report = _import(uow, _file(*rows))
    assert (report.establishments_created, report.accounts_created) == (1, 1)
    with uow() as session:
        assert session.execute(sa.select(m.Establishment.finess, m.Establishment.finess_category_code)).all() == [
            (rows[0]["finess"], "500")]  # « 500 - EHPAD », as the template's list offers it
    rejected = load_workbook(io.BytesIO(rejected_rows_xlsx(report))).active
    values = list(rejected.values)
    assert values[0] == (*HEADERS, "ligne", "motif")
    assert [(row[-2], row[-1]) for row in values[1:]] == [(3 + i, reason) for i, (_, reason) in enumerate(BAD_ROWS)]


def test_a_row_with_several_faults_lists_them_all_in_the_order_of_the_columns(uow) -> None:
    row = import_row(1, ars="ARS Bretagne", finess="4400", city="Rennes", email="claire@")
    [outcome] = _preview(uow, _file(row)).rows
    assert outcome.reasons == (
        "Le code postal 44000 relève de l'ARS Pays de la Loire, pas de l'ARS Bretagne indiquée sur la ligne.",
        "Le numéro FINESS « 4400 » doit compter 9 caractères : 9 chiffres, ou 2A / 2B suivis de 7 chiffres pour "
        "la Corse.",
        "La ville « Rennes » ne correspond pas au code postal 44000. Communes de ce code postal : NANTES.",
        "L'adresse électronique « claire@ » n'est pas valide (exemple attendu : prenom.nom@domaine.fr).")


def test_the_first_row_of_an_email_wins_even_when_a_later_one_is_valid(uow) -> None:
    rows = [import_row(1, finess="4400"), import_row(2, email="direction1@ehpad-test.fr")]
    lines = _by_line(_preview(uow, _file(*rows)))
    assert lines[3].reasons == (
        "Adresse électronique déjà présente ligne 2 du fichier : seule la première ligne est importée.",)


# ---------------------------------------------------------------- a spreadsheet's habits


def test_a_finess_and_a_postal_code_that_lost_their_leading_zero_are_corrected_and_said_so(uow) -> None:
    row = import_row(1, ars="ARS Auvergne-Rhône-Alpes", finess=int(with_luhn_key("01000002")), postal_code=1000,
                     city="Bourg-en-Bresse", phone=240123456.0)
    [outcome] = _preview(uow, _file(row)).rows
    assert outcome.outcome == TO_CREATE
    assert outcome.notes == (
        "FINESS « 10000024 » corrigé en 010000024 : le tableur avait supprimé le zéro initial.",
        "Code postal « 1000 » corrigé en 01000 : le tableur avait supprimé le zéro initial.",
        "Téléphone « 240123456 » corrigé en 0240123456 : le tableur avait supprimé le zéro initial.")
    _import(uow, _file(row))
    with uow() as session:
        establishment = session.scalar(sa.select(m.Establishment))
        assert (establishment.finess, establishment.postal_code, establishment.city, establishment.ars_code) == (
            "010000024", "01000", "BOURG EN BRESSE", "84")
        assert session.scalar(sa.select(m.User.phone)) == "+33240123456"


def test_numbers_typed_as_text_stray_spaces_and_city_spellings_are_forgiven(uow) -> None:
    rows = [
        import_row(1, finess=f" {with_luhn_key('44000001')} ", postal_code=" 44800", city="  st-herblain ",
                   email="  Direction1@EHPAD-test.fr ", phone="02.40.12.34.56", ars="\xa0ARS  Pays de la Loire"),
        import_row(2, finess=int(with_luhn_key("75000002")), postal_code=75013, city="Paris 13e", ars="11",
                   category="1-Établissements relevant de la loi hospitalière"),
        import_row(3, finess=with_luhn_key("67000003"), postal_code="67000", city="STRASBOURG CEDEX",
                   ars="6-ARS Grand-Est"),
    ]
    report = _import(uow, _file(*rows))
    assert [(row.outcome, row.reasons) for row in report.rows] == [(TO_CREATE, ())] * 3
    with uow() as session:
        assert session.execute(sa.select(m.Establishment.city, m.Establishment.ars_code, m.Establishment.category_code)
                               .order_by(m.Establishment.id)).all() == [
            ("SAINT HERBLAIN", "52", "sociaux_hebergement"), ("PARIS 13", "11", "loi_hospitaliere"),
            ("STRASBOURG", "44", "sociaux_hebergement")]
        assert session.scalars(sa.select(m.User.email).order_by(m.User.id)).all()[0] == "direction1@ehpad-test.fr"


def _sheet(title: str, rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    return workbook_bytes(workbook)


def test_columns_in_another_order_renamed_on_another_sheet_under_a_title_are_found(uow) -> None:
    row = import_row(1)
    headers = ["  E-MAIL ", "Téléphone", "Code postal", "Commune", "N° FINESS", "Nom de l'établissement",
               "Type d'établissement", "Adresse", "NOM", "Prénom", "ARS", "Commentaire"]
    fields = ["email", "phone", "postal_code", "city", "finess", "establishment_name", "category", "address",
              "last_name", "first_name", "ars"]
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Fichier préparé par l'ARS"])
    sheet = workbook.create_sheet("Feuil1")
    sheet.append(["Création des comptes établissements — Pays de la Loire"])
    sheet.append([])
    sheet.append(headers)
    sheet.append([row[field] for field in fields] + ["à relancer"])
    report = _import(uow, workbook_bytes(workbook))
    assert report.sheet == "Feuil1"
    assert [(r.line, r.outcome) for r in report.rows] == [(4, TO_CREATE)]
    with uow() as session:
        assert session.scalar(sa.select(m.Establishment.name)) == "EHPAD des Tilleuls 1"


def test_merged_cells_give_their_value_to_every_row_they_cover(uow) -> None:
    workbook = import_workbook([import_row(n, ars=None) for n in (1, 2, 3)])
    sheet = workbook.worksheets[0]
    sheet["A2"] = "ARS Pays de la Loire"
    sheet.merge_cells("A2:A4")
    report = _import(uow, workbook_bytes(workbook))
    assert [(row.outcome, row.values["ars"]) for row in report.rows] == [(TO_CREATE, "ARS Pays de la Loire")] * 3


def test_empty_rows_are_skipped(uow) -> None:
    workbook = import_workbook([import_row(1)])
    sheet = workbook.worksheets[0]
    sheet.append([None] * len(COLUMNS))
    sheet.append(["  ", None, " "])
    sheet.append([import_row(2)[column.field] for column in COLUMNS])
    report = _preview(uow, workbook_bytes(workbook))
    assert [(row.line, row.outcome) for row in report.rows] == [(2, TO_CREATE), (5, TO_CREATE)]


def _with_cached_value(content: bytes, cell: str, value: str, kind: str = "str") -> bytes:
    """The file as a spreadsheet program saves it: the formula of `cell` with the value it computed."""
    source = zipfile.ZipFile(io.BytesIO(content))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text, replaced = re.subn(rf'<c r="{cell}"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?',
                                         rf'<c r="{cell}"\1 t="{kind}"><f>\2</f><v>{value}</v>', data.decode())
                assert replaced == 1
                data = text.encode()
            target.writestr(item, data)
    return output.getvalue()


def test_a_formula_is_read_from_its_computed_value_and_one_without_value_rejects_its_row(uow) -> None:
    finess = with_luhn_key("44000001")
    workbook = import_workbook([import_row(1), import_row(2), import_row(3)])
    sheet = workbook.worksheets[0]
    sheet["B2"] = f'="{finess[:4]}"&"{finess[4:]}"'
    sheet["B3"] = '="44"&"0000"'
    sheet["B4"] = "=1/0"
    content = _with_cached_value(workbook_bytes(workbook), "B2", finess)
    content = _with_cached_value(content, "B4", "#DIV/0!", kind="e")
    lines = _by_line(_preview(uow, content))
    assert (lines[2].outcome, lines[2].values["finess"]) == (TO_CREATE, finess)
    assert lines[3].reasons == ('La cellule B3 contient une formule sans valeur calculée (="44"&"0000") : ouvrez le '
                                "fichier dans un tableur et enregistrez-le, ou remplacez la formule par sa valeur.",)
    assert lines[4].reasons == ("La cellule B4 contient une erreur de calcul (#DIV/0!).",)


# ---------------------------------------------------------------- files that are not the template


def _zip(**members: str) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return output.getvalue()


NOT_XLSX = "Ouvrez-le dans un tableur et enregistrez-le au format « Classeur Excel (.xlsx) », ou partez du modèle."


@pytest.mark.parametrize(("content", "message"), [
    pytest.param("ARS de rattachement;Finess géographique;CP\nARS Bretagne;350000014;35000\n".encode("cp1252"),
                 f"Ce fichier n'est pas un classeur Excel (.xlsx) : c'est un fichier texte (CSV ?). {NOT_XLSX}",
                 id="csv-renomme"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)),
                 f"Ce fichier n'est pas un classeur Excel (.xlsx) : c'est un autre type de fichier. {NOT_XLSX}",
                 id="exe-renomme"),
    pytest.param(b"", "Le fichier est vide.", id="vide"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
                 "Ce fichier est au format Excel 97-2003 (.xls) ou protégé par un mot de passe : enregistrez-le sans "
                 "mot de passe au format « Classeur Excel (.xlsx) », puis recommencez.", id="xls"),
    pytest.param(_zip(**{"word/document.xml": "<w/>"}),
                 "Ce fichier n'est pas un classeur Excel (.xlsx) : c'est une archive d'un autre type (document Word, "
                 "archive zip…).", id="docx"),
    pytest.param(b"PK\x03\x04" + bytes(100),
                 "Ce fichier .xlsx est endommagé (archive illisible) : enregistrez-le de nouveau depuis votre tableur.",
                 id="zip-casse"),
    pytest.param(_zip(**{"xl/workbook.xml": "<pas du xml"}),
                 "Ce classeur n'a pas pu être lu : enregistrez-le de nouveau au format « Classeur Excel (.xlsx) » "
                 "depuis votre tableur, ou partez du modèle.", id="classeur-illisible"),
    pytest.param(b"PK" + bytes(MAX_IMPORT_BYTES), "Le fichier pèse 10,0 Mo : la limite est de 10 Mo. Découpez-le en "
                                                  "plusieurs fichiers.", id="trop-gros"),
    pytest.param(_sheet("Budget", [["Poste", "Montant"], ["Loyer", 1200]]),
                 "Aucune feuille de ce classeur ne contient les colonnes du modèle (" + ", ".join(HEADERS)
                 + ") : partez du modèle téléchargeable sur cette page.", id="autre-classeur"),
    pytest.param(_sheet("Comptes", [[h for h in HEADERS if h not in ("CP", "ville")]]),
                 "La feuille « Comptes » n'a pas de colonne « CP », « ville » : ajoutez-la (l'ordre des colonnes "
                 "est libre).", id="colonnes-manquantes"),
])
def test_a_file_that_is_not_the_template_gets_a_french_error_and_nothing_is_written(uow, content: bytes,
                                                                                      message: str) -> None:
    for service in (preview_import, import_establishments):
        with pytest.raises(ValidationError) as refused, uow() as session:
            service(session, actor=COMMAND_LINE, content=content)
        assert (refused.value.field, refused.value.message) == ("file", message)
    with uow() as session:
        assert _written(session) == (0, 0, 0, 0, 0, 0)


# ---------------------------------------------------------------- what the database already holds


def test_importing_the_same_file_twice_creates_nothing_the_second_time(uow) -> None:
    content = _file(import_row(1), import_row(2), import_row(3, email="direction1@ehpad-test.fr"),
                    import_row(4, finess=with_luhn_key("44000001"), email="adjoint1@ehpad-test.fr"))
    first = _import(uow, content)
    assert (first.establishments_created, first.accounts_created) == (2, 3)
    with uow() as session:
        written = _written(session)
    second = _import(uow, content)
    assert (second.establishments_created, second.accounts_created, second.unchanged) == (0, 0, 3)
    assert [(row.outcome, row.detail) for row in second.rows if row.outcome == EXISTING] == [
        (EXISTING, "Établissement et compte déjà présents : rien ne change.")] * 3
    with uow() as session:
        assert _written(session) == (*written[:-1], written[-1] + 1)  # only the import's own event
    assert not second.can_import


def test_a_known_finess_with_a_new_email_adds_the_account_to_that_establishment(uow) -> None:
    with uow() as session:
        known = make_establishment(session, finess=with_luhn_key("44000001"), name="EHPAD déjà inscrit")
        first_user = make_user(session, establishment=known)
        known_id = known.id
    row = import_row(1, establishment_name="Autre nom dans le fichier")
    [outcome] = _preview(uow, _file(row)).rows
    assert (outcome.outcome, outcome.detail, outcome.creates_account) == (
        EXISTING, "Établissement déjà présent (« EHPAD déjà inscrit ») : le compte y est rattaché.", True)
    report = _import(uow, _file(row))
    assert (report.establishments_created, report.accounts_created, report.joined_existing) == (0, 1, 1)
    with uow() as session:
        assert count(session, m.Establishment) == 1
        assert session.get(m.Establishment, known_id).name == "EHPAD déjà inscrit"  # the file changes nothing
        members = session.scalars(sa.select(m.Membership.user_id).where(m.Membership.establishment_id == known_id)
                                  .order_by(m.Membership.user_id)).all()
        assert len(members) == 2 and members[0] == first_user.id
        assert events(session, "account_created")[0].details["joined_existing"] is True


def test_two_rows_of_one_finess_make_one_establishment_with_two_accounts(uow) -> None:
    rows = [import_row(1), import_row(1, email="adjointe@ehpad-test.fr", first_name="Inès")]
    lines = _by_line(_preview(uow, _file(*rows)))
    assert (lines[3].outcome, lines[3].detail) == (TO_CREATE, "Compte rattaché à l'établissement de la ligne 2.")
    _import(uow, _file(*rows))
    with uow() as session:
        assert (count(session, m.Establishment), count(session, m.User), count(session, m.Membership)) == (1, 2, 2)


def test_a_finess_awaiting_validation_is_rejected_until_the_ars_decides(uow) -> None:
    with uow() as session:
        make_establishment(session, finess=with_luhn_key("44000001"), status="pending")
    [outcome] = _preview(uow, _file(import_row(1))).rows
    assert outcome.reasons == ("Une demande de compte pour cet établissement attend la validation de l'ARS : "
                               "traitez-la d'abord dans « Validation des comptes ».",)


def test_a_vaccination_centre_gives_its_gid(uow) -> None:
    report = _import(uow, _file(import_row(1, category="Centre de vaccination", finess="1234")))
    assert report.accounts_created == 1
    with uow() as session:
        assert session.execute(sa.select(m.Establishment.id_kind, m.Establishment.finess)).one() == ("gid", "1234")


# ---------------------------------------------------------------- one transaction


def test_a_failure_in_the_middle_of_the_import_leaves_nothing(uow, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("panne au milieu de l'import")

    monkeypatch.setattr(importer, "queue_emails", broken)  # after the establishments and users are flushed
    with pytest.raises(RuntimeError), uow() as session:
        import_establishments(session, actor=COMMAND_LINE, content=_file(import_row(1), import_row(2)), now=NOW)
    with uow() as session:
        assert _written(session) == (0, 0, 0, 0, 0, 0)


def test_a_finess_taken_meanwhile_by_someone_else_stops_the_whole_import(uow, monkeypatch: pytest.MonkeyPatch) -> None:
    with uow() as session:
        make_establishment(session, finess=with_luhn_key("44000002"))
        before = _written(session)
    # The check ran before the other creation committed: the database's unique index still says no.
    monkeypatch.setattr(importer, "_known", lambda session, rows: importer._Known({}, {}, set()))
    with pytest.raises(Conflict) as refused, uow() as session:
        import_establishments(session, actor=COMMAND_LINE, content=_file(import_row(1), import_row(2)), now=NOW)
    assert "rien n'a été importé" in refused.value.message
    with uow() as session:
        assert _written(session) == before


# ---------------------------------------------------------------- size


def test_five_thousand_rows_import(uow) -> None:
    content = _file(*(import_row(n) for n in range(1, 5001)))
    report = _import(uow, content)
    assert (report.establishments_created, report.accounts_created, report.count(REJECTED)) == (5000, 5000, 0)
    with uow() as session:
        assert (count(session, m.Establishment), count(session, m.User), count(session, m.Token),
                count(session, m.Outbox)) == (5000, 5000, 5000, 5000)


# ---------------------------------------------------------------- who may import


ROLES = ("anonyme", "professionnel", "etablissement", "pool", "ars", "ars_autre_region", "ccs", "ministere", "admin",
         "operateur")
ALLOWED = {"ars", "ccs", "admin", "operateur"}
SERVICES = {"preview_import": preview_import, "import_establishments": import_establishments}


def _actor(session, role: str):  # noqa: ANN001, ANN202
    if role == "anonyme":
        return None
    if role == "operateur":
        return COMMAND_LINE
    if role == "professionnel":
        user = make_user(session, "professionnel", professional_id=make_professional(session).id)
    elif role == "etablissement":
        user = make_user(session, establishment=make_establishment(session))
    elif role == "ars_autre_region":
        user = make_user(session, "ars", ars_code="53")
    else:
        user = make_user(session, role)  # an ARS of Pays de la Loire (52), the file's region
    return to_session_user(session, user=user)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(uow, role: str, service: str) -> None:
    with uow() as session:
        actor = _actor(session, role)
        before = _written(session)
    content = _file(import_row(1))
    call = SERVICES[service]
    if role in ALLOWED:
        with uow() as session:
            report = call(session, actor=actor, content=content)
        assert report.count(TO_CREATE) == 1
        with uow() as session:
            assert count(session, m.Establishment) == before[0] + (service == "import_establishments")
    elif role == "ars_autre_region":
        with uow() as session:
            report = call(session, actor=actor, content=content)
        [row] = report.rows
        assert row.reasons == ("Cet établissement relève d'une autre ARS (ARS Pays de la Loire) : seuls cette ARS, "
                               "le CCS ou un administrateur peuvent l'importer.",)
        with uow() as session:
            assert count(session, m.Establishment) == before[0]
    else:
        with pytest.raises(PermissionDenied), uow() as session:
            call(session, actor=actor, content=content)
        with uow() as session:
            assert _written(session) == before


def test_an_ars_imports_the_rows_of_its_region_and_the_others_are_rejected(uow) -> None:
    with uow() as session:
        ars = to_session_user(session, user=make_user(session, "ars", ars_code="52"))
    rennes = import_row(2, ars="ARS Bretagne", finess=with_luhn_key("35000002"), postal_code="35000", city="Rennes")
    report = _import(uow, _file(import_row(1), rennes), actor=ars)
    assert [(row.outcome, row.reasons) for row in report.rows] == [
        (TO_CREATE, ()),
        (REJECTED, ("Cet établissement relève d'une autre ARS (ARS Bretagne) : seuls cette ARS, le CCS ou un "
                    "administrateur peuvent l'importer.",))]
    with uow() as session:
        assert session.scalars(sa.select(m.Establishment.ars_code)).all() == ["52"]
        assert events(session, "imported")[0].ars_code == "52"


# ---------------------------------------------------------------- the rejected rows, corrected and imported again


def test_the_rejected_rows_file_corrected_imports_as_is(uow) -> None:
    rows = [import_row(1), import_row(2, finess="010000024", postal_code="44999"), import_row(3, city=None)]
    report = _import(uow, _file(*rows))
    workbook = load_workbook(io.BytesIO(rejected_rows_xlsx(report)))
    sheet = workbook.active
    assert sheet.title == "Lignes rejetées"
    assert [(r[1], r[5], r[6], r[12], r[13]) for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("010000024", "44999", "Nantes", 3, "Le code postal 44999 n'existe pas dans la base de La Poste."),
        (rows[2]["finess"], "44000", None, 4, "Champ manquant : « ville »."),
    ]
    sheet["F2"], sheet["G3"] = "44000", "Nantes"  # the two mistakes corrected in the rejected rows' file
    again = _import(uow, workbook_bytes(workbook))
    assert [(row.line, row.outcome) for row in again.rows] == [(2, TO_CREATE), (3, TO_CREATE)]
    with uow() as session:
        assert count(session, m.Establishment) == 3


def test_a_text_that_looks_like_a_formula_stays_inert_text_in_the_rejected_rows_file(uow) -> None:
    workbook = import_workbook([import_row(1, postal_code="44999")])
    name = workbook.worksheets[0]["C2"]
    name.value = '=HYPERLINK("http://exemple.invalid","Cliquez")'
    name.data_type = "s"  # typed as text in the source file: never computed there either
    report = _preview(uow, workbook_bytes(workbook))
    cell = load_workbook(io.BytesIO(rejected_rows_xlsx(report))).active["C2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://exemple.invalid","Cliquez")', "s")


# ---------------------------------------------------------------- the command line


def test_the_command_line_dry_run_writes_nothing_and_the_real_run_creates(db_url: str, tmp_path, capsys) -> None:
    path = tmp_path / "etablissements.xlsx"
    path.write_bytes(_file(import_row(1), import_row(2, ars="ARS Bretagne")))
    assert cli(["import-establishments", str(path), "--dry-run", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert ("Ligne 3 (rejeté) : Le code postal 44000 relève de l'ARS Pays de la Loire, pas de l'ARS Bretagne "
            "indiquée sur la ligne.") in out
    assert "Aperçu de la feuille « Établissements », rien n'est écrit : 1 à créer, 0 déjà existant(s), 1 rejeté(s)." in out
    assert count_at(db_url, m.Establishment) == count_at(db_url, m.Event) == 0

    rejected = tmp_path / "rejets.xlsx"
    assert cli(["import-establishments", str(path), "--db", db_url, "--rejets", str(rejected)]) == 0
    out = capsys.readouterr().out
    assert ("Import terminé : 1 établissement(s) créé(s), 1 compte(s) créé(s), 0 ligne(s) déjà présente(s) sans "
            "changement, 1 ligne(s) rejetée(s).") in out
    assert (count_at(db_url, m.Establishment), count_at(db_url, m.Outbox)) == (1, 1)
    assert [row[-1] for row in load_workbook(rejected).active.iter_rows(min_row=2, values_only=True)] == [
        "Le code postal 44000 relève de l'ARS Pays de la Loire, pas de l'ARS Bretagne indiquée sur la ligne."]


def test_the_command_line_refuses_a_file_that_is_not_an_xlsx_in_french(db_url: str, tmp_path, capsys) -> None:
    path = tmp_path / "etablissements.xlsx"
    path.write_text("ARS;FINESS\n", encoding="utf-8")
    assert cli(["import-establishments", str(path), "--db", db_url]) == 1
    assert capsys.readouterr().err == ("Erreur : Ce fichier n'est pas un classeur Excel (.xlsx) : c'est un fichier "
                                       f"texte (CSV ?). {NOT_XLSX}\n")
    assert cli(["import-establishments", str(tmp_path / "absent.xlsx"), "--db", db_url]) == 1
    assert "Fichier introuvable" in capsys.readouterr().err
