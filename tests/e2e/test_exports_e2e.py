"""« Exports » in Chromium: the ministry downloads the pool (pseudonymised), an ARS the nurses' missions of its
region; the browser receives each .xlsx, which opens with openpyxl and holds the rows the database holds."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.figures.datasets import pseudonym
from core.shared.config import get_settings
from db import models as m
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import choose, open_page, screenshot, sign_in, wait_idle

pytestmark = pytest.mark.e2e
MINISTRY, ARS = "ministere@example.org", "ars.paysdelaloire@example.org"
NURSE = "Infirmier diplômé d'État"


def _open_exports(page, base_url: str, email: str) -> None:  # noqa: ANN001 - a Playwright page
    sign_in(page, base_url, email, DEMO_PASSWORD)
    open_page(page, "Exports")


def _prepare_and_download(page) -> tuple[str, bytes]:  # noqa: ANN001
    """« Préparer le fichier », wait for the download button, and return what the browser received."""
    page.get_by_role("button", name="Préparer le fichier").click()
    download_button = page.get_by_role("button", name="Télécharger le fichier Excel")
    expect(download_button).to_be_visible(timeout=60_000)
    wait_idle(page)
    with page.expect_download(timeout=60_000) as download:
        download_button.click()
    return download.value.suggested_filename, Path(download.value.path()).read_bytes()


def _sheets(content: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_the_ministry_downloads_the_pool_under_pseudonyms(live_app, e2e_database, page) -> None:
    _open_exports(page, live_app, MINISTRY)
    choose(page, "Jeu de données", "Professionnels")
    with session_scope(e2e_database, read_only=True) as session:
        ids = session.scalars(sa.select(m.Professional.id).where(m.Professional.status != "supprime")
                              .order_by(m.Professional.id)).all()
        names = set(session.scalars(sa.select(m.Professional.last_name)))
    expect(page.get_by_text(f"{len(ids)} ligne(s)")).to_be_visible()
    screenshot(page, "70-exports-ministere-apercu-professionnels")
    filename, content = _prepare_and_download(page)
    screenshot(page, "71-exports-ministere-fichier-prepare")

    assert filename.startswith("professionnels-national-") and filename.endswith(".xlsx")
    sheets = _sheets(content)
    assert list(sheets) == ["À propos", "Professionnels"]
    header, *rows = sheets["Professionnels"]
    assert header[:3] == ("Pseudonyme", "Département", "Région") and "Nom" not in header
    key = get_settings().pseudonym_key  # the server's: both run in development with the default key
    assert [row[0] for row in rows] == [pseudonym(identifier, key) for identifier in ids]
    assert not {str(cell) for row in rows for cell in row} & names
    about = dict(sheets["À propos"])
    assert about["Exporté par"] == "Anne Petit — Ministère" and about["Nombre de lignes"] == len(ids)


def test_an_ars_downloads_the_nurses_missions_of_its_region(live_app, e2e_database, page) -> None:
    _open_exports(page, live_app, ARS)
    choose(page, "Profession", NURSE)
    with session_scope(e2e_database, read_only=True) as session:
        expected = session.scalars(
            sa.select(m.Mission.id).join(m.Establishment, m.Establishment.id == m.Mission.establishment_id)
            .where(m.Establishment.ars_code == "52", m.Mission.profession_code == "infirmier_de", m.Mission.count > 0)
            .order_by(m.Mission.id)).all()
    assert expected
    expect(page.get_by_text(f"{len(expected)} ligne(s)")).to_be_visible()
    filename, content = _prepare_and_download(page)
    screenshot(page, "72-exports-ars-missions-infirmiers")

    assert filename.startswith("missions-region-52-") and filename.endswith(".xlsx")
    sheets = _sheets(content)
    header, *rows = sheets["Missions"]
    assert [row[0] for row in rows] == expected
    assert {row[header.index("Région")] for row in rows} == {"Pays de la Loire"}
    assert {row[header.index("Profession")] for row in rows} == {NURSE}
    about = dict(sheets["À propos"])
    assert about["Filtre : profession"] == NURSE and about["Périmètre"] == "ARS Pays de la Loire"


def test_the_ars_downloads_its_regions_territorial_pools(live_app, e2e_database, page) -> None:
    """Issue 14: the browser receives the pools' .xlsx, which lists the pools of the ARS's region and no other."""
    _open_exports(page, live_app, "ars.nouvelleaquitaine@example.org")
    page.get_by_role("button", name="Préparer l'export des plateformes").click()
    download_button = page.get_by_role("button", name="Télécharger les plateformes (.xlsx)")
    expect(download_button).to_be_visible(timeout=60_000)
    wait_idle(page)
    with page.expect_download(timeout=60_000) as download:
        download_button.click()
    content = Path(download.value.path()).read_bytes()
    screenshot(page, "72-exports-ars-plateformes")

    assert download.value.suggested_filename.endswith(".xlsx")
    with session_scope(e2e_database, read_only=True) as session:
        expected = sorted(session.scalars(sa.select(m.TerritorialPool.name).where(
            m.TerritorialPool.ars_code == "75", m.TerritorialPool.closed_at.is_(None))))
    assert expected
    header, *rows = _sheets(content)["Plateformes"]
    assert sorted(row[header.index("Plateforme")] for row in rows) == expected
