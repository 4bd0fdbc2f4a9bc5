"""« Import d'établissements » through the whole app (AppTest on app.py): upload, preview, confirm."""

from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from db import models as m
from db.session import session_scope
from tests.factories import import_row, import_workbook, workbook_bytes
from tests.readers import count_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import button, errors, metrics

ARS = "ars.paysdelaloire@example.org"
UPLOADER = "establishment_import_file:0"
# Numbered far above the demo's establishments, whose FINESS are drawn at random.
GOOD = [import_row(987001), import_row(987002)]
WRONG_REGION = import_row(987003, ars="ARS Bretagne")
BRETON = import_row(987004, ars="ARS Bretagne", postal_code="35000", city="Rennes")


def _open_import(app: AppTest, email: str = ARS, role: str = "ars") -> AppTest:
    signed_in(app, email, role)
    return open_page(app, "import-etablissements")


def _upload(app: AppTest, content: bytes, name: str = "etablissements.xlsx") -> AppTest:
    app.file_uploader(key=UPLOADER).upload(name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return app.run()


def _table_rows(app: AppTest) -> dict[int, tuple[str, str]]:
    frame = app.dataframe[0].value
    return {int(line): (outcome, text) for line, outcome, text in
            zip(frame["Ligne"], frame["Résultat"], frame["Motifs et remarques"], strict=True)}


def test_an_ars_uploads_the_template_sees_the_preview_and_imports_the_valid_rows(app, demo_url) -> None:
    _open_import(app)
    assert not app.exception
    establishments = count_at(demo_url, m.Establishment)
    _upload(app, workbook_bytes(import_workbook([*GOOD, WRONG_REGION, BRETON])))
    assert not app.exception
    assert metrics(app) == {"À créer": "2", "Déjà existant": "0", "Rejeté": "2"}
    rows = _table_rows(app)
    assert rows[2] == ("à créer", "Établissement et compte à créer.")
    assert rows[4] == ("rejeté", "Le code postal 44000 relève de l'ARS Pays de la Loire, pas de l'ARS Bretagne "
                                 "indiquée sur la ligne.")
    assert rows[5][0] == "rejeté" and rows[5][1].startswith("Cet établissement relève d'une autre ARS (ARS Bretagne)")
    assert count_at(demo_url, m.Establishment) == establishments  # the preview writes nothing

    button(app, "Importer les lignes valides : 2 compte(s)").click()
    app.run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        "Import terminé : 2 établissement(s) créé(s), 2 compte(s) créé(s), 0 ligne(s) déjà présente(s) sans "
        "changement, 2 ligne(s) rejetée(s)."]
    with session_scope(demo_url, read_only=True) as session:
        created = session.scalars(sa.select(m.Establishment).where(
            m.Establishment.finess.in_([row["finess"] for row in GOOD])).order_by(m.Establishment.id)).all()
        assert [(e.name, e.status, e.ars_code, e.city) for e in created] == [
            ("EHPAD des Tilleuls 987001", "active", "52", "NANTES"), ("EHPAD des Tilleuls 987002", "active", "52", "NANTES")]
        users = session.scalars(sa.select(m.User).where(
            m.User.email.in_([row["email"] for row in GOOD]))).all()
        assert {(u.status, u.password_hash) for u in users} == {("active", None)}
    assert app.file_uploader(key="establishment_import_file:1").value is None  # emptied for the next file


def test_importing_the_same_file_again_shows_every_row_as_already_there(app, demo_url) -> None:
    content = workbook_bytes(import_workbook(GOOD))
    _open_import(app)
    _upload(app, content)
    button(app, "Importer les lignes valides : 2 compte(s)").click()
    app.run()
    app.file_uploader(key="establishment_import_file:1").upload("encore.xlsx", content, "application/octet-stream")
    app.run()
    assert metrics(app) == {"À créer": "0", "Déjà existant": "2", "Rejeté": "0"}
    assert {text for _, text in _table_rows(app).values()} == {
        "Établissement et compte déjà présents : rien ne change."}
    assert "Importer" not in " ".join(b.label for b in app.button)
    assert any("Aucune ligne à importer" in i.value for i in app.info)


def test_a_renamed_csv_gets_a_french_error_and_no_preview(app, demo_url) -> None:
    _open_import(app, "admin@example.org", "admin")
    _upload(app, "ARS de rattachement;Finess géographique\nARS Bretagne;350000014\n".encode(), "etablissements.xlsx")
    assert not app.exception
    assert errors(app) == ["Ce fichier n'est pas un classeur Excel (.xlsx) : c'est un fichier texte (CSV ?). Ouvrez-le "
                           "dans un tableur et enregistrez-le au format « Classeur Excel (.xlsx) », ou partez du modèle."]
    assert not app.dataframe and not metrics(app)
