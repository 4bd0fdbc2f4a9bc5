"""CCS page « Simulation » through the whole app (AppTest on app.py, issue 17): the last report of
RENFORT_SIMULATION_DIR with its figures and its HTML file, a comparison, the form's errors, a run followed by its
progress bar until its report shows."""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.config import get_settings
from db import models as m
from db.session import session_scope
from ops.simulation.report import write_comparison_html, write_report_html
from pages.simulation import RUN_KEY
from tests.conftest import clone_sqlite
from tests.factories import make_user
from tests.ui.conftest import ROOT, open_page, sign_in_as
from tests.ui.readers import charts, error_under, errors, metrics, plotly_array, served_files, texts
from tests.unit.test_simulation_charts import sample_report, write_comparison_directory

CCS = "ccs.simulation@example.org"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RENFORT_SIMULATION_DIR of the app under test."""
    path = tmp_path / "simulations"
    monkeypatch.setenv("RENFORT_SIMULATION_DIR", str(path))
    get_settings.cache_clear()
    return path


@pytest.fixture
def url(tmp_path: Path, sqlite_template: Path, app_env, folder: Path) -> str:  # noqa: ANN001 - a fixture
    """An empty database but for one CCS account: the page reads files, not the database."""
    database = clone_sqlite(sqlite_template, tmp_path / "simulation.db")
    app_env(database)
    with session_scope(database) as session:
        make_user(session, "ccs", email=CCS)
    return database


@pytest.fixture
def app(url: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, CCS, "ccs").run()
    return app


def _open(app: AppTest) -> AppTest:
    open_page(app, "simulation-de-crise")
    assert not app.exception, app.exception
    return app


def _single_run(folder: Path, rules: str = "2020") -> Path:
    run_dir = folder / "20270104-090000"
    run_dir.mkdir(parents=True)
    report = sample_report(rules)
    (run_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")
    write_report_html(report, run_dir / "report.html")
    return run_dir


def _progress_bar(app: AppTest) -> tuple[float, str] | None:
    bars = app.get("progress")
    return (bars[0].proto.value / 100, bars[0].proto.text) if bars else None


def _frame(app: AppTest, column: str) -> pd.DataFrame:
    """The first table of the page with this column (AppTest does not tell a table's key)."""
    return next(element.value for element in app.dataframe if column in element.value.columns)


def test_the_page_shows_the_last_report_and_serves_its_html(app: AppTest, folder: Path) -> None:
    run_dir = _single_run(folder)
    _open(app)
    assert [t.value for t in app.title] == ["Simulation"]
    assert any("sa propre base de données temporaire" in text and "la base réelle n'est jamais lue ni modifiée" in text
               for text in texts(app.main))
    assert metrics(app) == {
        "Postes pourvus": "3 / 10", "Taux de pourvoi": "30\u202f%", "Délai médian pour pourvoir": "3 j",
        "Gini des sollicitations": "0,68", "Éligibles jamais contactés": "10 (25\u202f%)",
        "Attentes de plus de 7 jours": "2", "Passages en mode crise": "1", "Viviers nationaux ouverts": "2"}
    figures = charts(app)
    assert set(figures) == {"simulation_postes", "simulation_delais", "simulation_lorenz", "simulation_sollicitations",
                            "simulation_attentes", "simulation_regions"}
    posts = {trace["name"]: plotly_array(trace["y"]) for trace in figures["simulation_postes"]["data"]}
    assert posts == {"Postes demandés": [6, 8, 10], "Postes pourvus": [0, 2, 3]}
    assert figures["simulation_lorenz"]["layout"]["title"]["text"].endswith("Gini 0,68")
    regions = app.dataframe[0].value
    assert regions["Région"].tolist() == ["Pays de la Loire", "Bretagne"]
    assert regions["Passage en mode crise"].tolist() == ["jour 2", "–"]
    served = served_files(app)
    assert served == {"Télécharger le rapport (.html)": (run_dir / "report.html").read_bytes()}
    assert served["Télécharger le rapport (.html)"].startswith(b"<!DOCTYPE html>")
    [launch] = [e for e in app.expander if e.label == "Lancer une simulation"]
    assert not launch.proto.expanded  # a report to read first: the form stays folded
    assert not app.get("progress")


def test_a_comparison_shows_both_rules_and_the_targets(app: AppTest, folder: Path) -> None:
    run_dir = folder / "20270104-100000"
    run_dir.mkdir(parents=True)
    comparison = write_comparison_directory(run_dir)
    write_comparison_html(comparison, run_dir / "comparaison.html")
    _open(app)
    medians, runs = (_frame(app, column) for column in ("Indicateur (médiane des graines)", "Graine"))
    [targets] = [table.value for table in app.table]  # wrapped in full, where a data grid would cut its values
    assert targets["Atteint"].tolist() == ["oui", "oui", "non"]
    assert targets["Valeur"].tolist()[1] == "0,23 (2020 : 0,68)"
    assert medians.columns.tolist() == ["Indicateur (médiane des graines)", "Règles de 2020", "Règles Renfort RH"]
    assert medians.set_index("Indicateur (médiane des graines)").loc["Postes pourvus"].tolist() == ["3", "7"]
    assert runs["Règles"].tolist() == ["Règles de 2020", "Règles Renfort RH"]
    figures = charts(app)
    filled = {trace["name"]: plotly_array(trace["y"]) for trace in figures["simulation_comparaison_postes"]["data"]}
    assert filled == {"Postes demandés": [6, 8, 10], "Postes pourvus — Règles de 2020": [0, 2, 3],
                      "Postes pourvus — Règles Renfort RH": [1, 4, 7]}
    # each rules' run in its tab, its own figures and regions
    assert [tab.label for tab in app.tabs] == ["Règles de 2020", "Règles Renfort RH"]
    assert {"simulation_2020_postes", "simulation_renfort_lorenz"} <= set(figures)
    served = served_files(app)
    assert served == {"Télécharger le rapport (.html)": (run_dir / "comparaison.html").read_bytes()}
    # the file received, opened: its medians hold the two rows this comparison reads the targets against
    report = html.unescape(served["Télécharger le rapport (.html)"].decode("utf-8"))
    assert report.startswith("<!DOCTYPE html>")
    for row in ("Gini le plus bas possible avec les mêmes demandes", "0,46", "0,12",
                "Délai médian sur les postes pourvus sous les deux règles", "60 h"):
        assert row in report


def test_without_a_report_the_page_says_so_and_opens_the_form(app: AppTest, folder: Path) -> None:
    _open(app)
    assert any(info.value.startswith("Aucune simulation n'a encore été faite") for info in app.info)
    [launch] = [e for e in app.expander if e.label == "Lancer une simulation"]
    assert launch.proto.expanded
    assert not [b for b in app.button if b.label == "Lancer la simulation"][0].disabled
    assert not app.get("plotly_chart") and not app.get("download_button")


def test_the_form_shows_each_error_beside_its_field(app: AppTest, url: str, folder: Path) -> None:
    _open(app)
    fields = {n.label.removesuffix(" *"): n for n in app.number_input}
    fields["Graine"].set_value(-3)
    fields["Jours simulés"].set_value(45)
    fields["Nombre de besoins de la vague"].set_value(5)
    [b for b in app.button if b.label == "Lancer la simulation"][0].click().run()
    assert not app.exception
    fields = {n.label.removesuffix(" *"): n for n in app.number_input}
    assert error_under(app, fields["Graine"]) == "La graine doit être un nombre entier entre 0 et 9\u202f999."
    assert error_under(app, fields["Jours simulés"]) == "Le nombre de jours doit être un nombre entier entre 1 et 30."
    assert error_under(app, fields["Nombre de besoins de la vague"]) == (
        "Le nombre de besoins doit être un nombre entier entre 10 et 600.")
    assert "3 champs à corriger : voir les messages en rouge ci-dessus." in errors(app)
    assert not folder.exists()  # nothing started
    with session_scope(url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event)) == 0


def test_a_run_in_progress_has_its_bar_and_no_second_start(app: AppTest, folder: Path,
                                                           sleeper: subprocess.Popen) -> None:
    _single_run(folder)
    run_dir = folder / "20270104-110000"
    run_dir.mkdir()
    (run_dir / "processus.json").write_text(json.dumps({"pid": sleeper.pid, "started_at": "2027-01-04T10:00:00+00:00"}),
                                            encoding="utf-8")
    (run_dir / "progress.json").write_text(json.dumps({
        "phase": "simulation", "done": 15, "total": 60, "message": "Jour 8/30 — règles renfort, graine 1",
        "error": None}), encoding="utf-8")
    _open(app)
    assert _progress_bar(app) == (0.25, "Simulation en cours — Jour 8/30 — règles renfort, graine 1")
    start = [b for b in app.button if b.label == "Lancer la simulation"][0]
    assert start.disabled and start.help == "Une simulation est en cours : attendez qu'elle se termine."
    assert metrics(app)["Postes pourvus"] == "3 / 10"  # the last report stays on the page meanwhile

    sleeper.kill()  # the run's process dies without finishing
    sleeper.wait()
    app.run()
    assert not app.get("progress") and not [b for b in app.button if b.label == "Lancer la simulation"][0].disabled
    assert any(e.startswith("La dernière simulation (20270104-110000) a échoué : Le processus de la simulation "
                            "s'est arrêté avant la fin") for e in errors(app))


def test_a_run_started_here_is_followed_until_its_report_shows(app: AppTest, url: str, folder: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's side of a run: the command it asks for is the real one (tests/services/test_simulation_service.py
    runs it to its end); here a stand-in process, which waits until stopped, takes its place, and the end is written
    as the command writes it."""
    launched = []

    def stand_in(command: list[str], **options):  # noqa: ANN003, ANN202 - subprocess.Popen's own
        launched.append(command)
        return real_popen([sys.executable, "-c", "import time; time.sleep(60)", *command[1:]], **options)

    real_popen = subprocess.Popen
    monkeypatch.setattr("core.figures.simulation.subprocess.Popen", stand_in)
    _open(app)
    fields = {n.label.removesuffix(" *"): n for n in app.number_input}
    fields["Graine"].set_value(12)
    fields["Jours simulés"].set_value(3)
    fields["Nombre de besoins de la vague"].set_value(40)
    next(r for r in app.radio if r.label.startswith("Règles")).set_value("renfort")
    [b for b in app.button if b.label == "Lancer la simulation"][0].click().run()
    assert not app.exception
    run_id = app.session_state[RUN_KEY]
    run_dir = folder / run_id
    process = json.loads((run_dir / "processus.json").read_text(encoding="utf-8"))
    assert process["parameters"] == {"seed": 12, "rules": "renfort", "days": 3, "wave": 40, "scale": "demo"}
    assert launched == [process["command"]] and process["command"][1:] == [
        "-m", "core", "simulate", "--seed", "12", "--rules", "renfort", "--days", "3", "--wave", "40", "--scale",
        "demo", "--out", str(run_dir)]
    assert any(s.value.startswith("Simulation lancée") for s in app.success)
    assert _progress_bar(app) == (0.0, "Préparation de la base temporaire — Démarrage de la simulation…")
    (run_dir / "progress.json").write_text(json.dumps({"phase": "simulation", "done": 3, "total": 6,
                                                       "message": "Jour 2/3 — règles renfort, graine 12",
                                                       "error": None}), encoding="utf-8")
    app.run()
    assert _progress_bar(app) == (0.5, "Simulation en cours — Jour 2/3 — règles renfort, graine 12")
    os.killpg(process["pid"], signal.SIGKILL)
    os.waitpid(process["pid"], 0)
    with session_scope(url) as session:
        assert session.scalars(sa.select(m.Event.action).where(m.Event.entity == "simulation")).all() == [
            "simulation_started"]

    report = sample_report("renfort", seed=12)
    (run_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")
    write_report_html(report, run_dir / "report.html")
    (run_dir / "progress.json").write_text(json.dumps({"phase": "termine", "done": 6, "total": 6,
                                                       "message": "Simulation terminée.", "error": None}),
                                           encoding="utf-8")
    app.run()
    assert not app.exception
    assert RUN_KEY not in app.session_state and not app.get("progress")
    assert [s.value for s in app.success] == ["La simulation est terminée : son rapport est affiché ci-dessous."]
    assert metrics(app)["Postes pourvus"] == "7 / 10"
    assert served_files(app)["Télécharger le rapport (.html)"] == (run_dir / "report.html").read_bytes()
