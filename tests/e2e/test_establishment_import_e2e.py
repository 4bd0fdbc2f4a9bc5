"""« Import d'établissements » in Chromium: an ARS downloads the template, fills it, uploads it, downloads the
rejected rows with their motif and imports the valid ones. Each file is the one the browser received."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.access.establishment_import import COLUMNS, HEADERS
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import grid_cells, open_page, screenshot, sign_in, wait_idle
from tests.factories import import_row, workbook_bytes

pytestmark = pytest.mark.e2e
ARS = "ars.paysdelaloire@example.org"
# Numbered far above the demo's establishments, whose FINESS are drawn at random.
GOOD = [import_row(987101), import_row(987102)]
WRONG_REGION = import_row(987103, ars="ARS Bretagne")
MISMATCH = "Le code postal 44000 relève de l'ARS Pays de la Loire, pas de l'ARS Bretagne indiquée sur la ligne."


def _download(page, label: str) -> tuple[str, bytes]:  # noqa: ANN001 - a Playwright page
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name=label, exact=True).click()
    return download.value.suggested_filename, Path(download.value.path()).read_bytes()


def test_an_ars_fills_the_downloaded_template_previews_it_gets_the_rejected_rows_and_imports(
        live_app, e2e_database, page, tmp_path) -> None:
    sign_in(page, live_app, ARS, DEMO_PASSWORD)
    open_page(page, "Import d'établissements")

    filename, template = _download(page, "Télécharger le modèle (.xlsx)")
    assert filename == "modele-import-etablissements.xlsx"
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    assert tuple(cell.value for cell in sheet[1]) == HEADERS
    assert {str(v.sqref) for v in sheet.data_validations.dataValidation} == {"A2:A5001", "D2:D5001", "L2:L5001"}

    for row in (*GOOD, WRONG_REGION):
        sheet.append([row[column.field] for column in COLUMNS])
    filled = tmp_path / "etablissements.xlsx"
    filled.write_bytes(workbook_bytes(workbook))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(filled))
    expect(page.get_by_role("heading", name="Aperçu")).to_be_visible(timeout=60_000)
    wait_idle(page)
    expect(grid_cells(page, "Établissement et compte à créer.")).to_have_count(2)
    expect(grid_cells(page, MISMATCH)).to_have_count(1)
    screenshot(page, "80-import-etablissements-apercu")

    filename, rejected = _download(page, "Télécharger les lignes rejetées (1), avec leur motif")
    assert filename == "lignes-rejetees.xlsx"
    header, *rows = load_workbook(io.BytesIO(rejected)).active.iter_rows(values_only=True)
    assert header == (*HEADERS, "ligne", "motif")
    assert [(row[1], row[-2], row[-1]) for row in rows] == [(WRONG_REGION["finess"], 4, MISMATCH)]

    page.get_by_role("button", name="Importer les lignes valides : 2 compte(s)").click()
    expect(page.get_by_text("Import terminé : 2 établissement(s) créé(s), 2 compte(s) créé(s)").first).to_be_visible(
        timeout=60_000)
    wait_idle(page)
    screenshot(page, "81-import-etablissements-termine")
    with session_scope(e2e_database, read_only=True) as session:
        created = session.execute(sa.select(m.Establishment.finess, m.Establishment.status, m.Establishment.ars_code,
                                            m.Establishment.finess_category_code)
                                  .where(m.Establishment.finess.in_([row["finess"] for row in GOOD]))).all()
    assert sorted(created) == sorted((row["finess"], "active", "52", "500") for row in GOOD)
