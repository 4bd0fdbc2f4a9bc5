"""CCS « Simulation » service (core.figures.simulation, issue 17): who may use it, what a request must hold, which
report is the last one, how a run's progress is read — its process dead or alive — and one real run of
`python -m core simulate` started as the page starts it, on the tiny data set."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.figures import simulation
from core.figures.simulation import SimulationRequest, latest_report, simulation_progress, start_simulation
from core.shared.config import ROOT, load_settings
from core.shared.errors import Conflict, FormErrors, NotFound, PermissionDenied
from db import models as m
from db.session import session_scope
from tests.factories import make_actor
from tests.unit.test_simulation_charts import sample_report, write_comparison_directory

MINI = SimulationRequest(seed=1, rules="renfort", days=2, wave=10, scale="mini")


@pytest.fixture
def actors(sqlite_url: str) -> dict:
    with session_scope(sqlite_url) as session:
        return {role: make_actor(session, role) for role in ("ccs", "ars", "ministere", "admin", "etablissement",
                                                             "professionnel")}


def _write_report(directory: Path, report: dict, *, at: float) -> None:
    directory.mkdir(parents=True)
    (directory / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (directory / "report.html").write_text("<!DOCTYPE html><p>rapport</p>", encoding="utf-8")
    os.utime(directory / "report.json", (at, at))


def _started(run_dir: Path, pid: int, progress: dict | None) -> None:
    """A run folder as start_simulation leaves it, with the progress the command wrote."""
    run_dir.mkdir(parents=True)
    (run_dir / "processus.json").write_text(json.dumps({"pid": pid, "started_at": "2027-01-04T09:00:00+00:00"}),
                                            encoding="utf-8")
    if progress is not None:
        (run_dir / "progress.json").write_text(json.dumps(progress), encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """RENFORT_SIMULATION_DIR of the test (the test database lives beside it, in tmp_path)."""
    return tmp_path / "simulations"


def test_only_the_ccs_reads_and_starts_simulations(sqlite_url: str, actors: dict, folder: Path) -> None:
    _write_report(folder / "20270104-090000", sample_report(), at=time.time())
    with session_scope(sqlite_url) as session:
        for actor in [None, *(actors[r] for r in ("ars", "ministere", "admin", "etablissement", "professionnel"))]:
            with pytest.raises(PermissionDenied):
                latest_report(session, actor=actor, directory=folder)
            with pytest.raises(PermissionDenied):
                start_simulation(session, actor=actor, request=MINI, directory=folder)
            with pytest.raises(PermissionDenied):
                simulation_progress(session, actor=actor, run_id="20270104-090000", directory=folder)
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event)) == 0
    assert [p.name for p in folder.iterdir()] == ["20270104-090000"]


def test_a_request_is_checked_field_by_field_in_french(sqlite_url: str, actors: dict, folder: Path) -> None:
    wrong = SimulationRequest(seed=-1, rules="2019", days=31, wave=5, scale="national")
    with session_scope(sqlite_url) as session, pytest.raises(FormErrors) as refused:
        start_simulation(session, actor=actors["ccs"], request=wrong, directory=folder)
    assert refused.value.by_field() == {
        "seed": "La graine doit être un nombre entier entre 0 et 9\u202f999.",
        "days": "Le nombre de jours doit être un nombre entier entre 1 et 30.",
        "wave": "Le nombre de besoins doit être un nombre entier entre 10 et 600.",
        "rules": "Choisissez les règles : celles de 2020, celles de Renfort RH, ou les deux comparées.",
        "scale": "L'échelle doit être « demo » (le jeu de démonstration) ; « mini » est réservée aux tests."}
    for value in (None, "", "douze", 2.5, True):
        with pytest.raises(FormErrors) as refused:
            simulation.validate_request(SimulationRequest(seed=value))
        assert list(refused.value.by_field()) == ["seed"]
    # what a number field gives (a float), or a typed text, is a whole number all the same
    assert simulation.validate_request(SimulationRequest(seed=7.0, days="12", wave=" 300 ")) == {
        "seed": 7, "rules": "both", "days": 12, "wave": 300, "scale": "demo"}
    assert not folder.exists()


def test_the_latest_report_is_the_newest_run_single_or_compared(sqlite_url: str, actors: dict,
                                                                 folder: Path) -> None:
    with session_scope(sqlite_url) as session:
        overview = latest_report(session, actor=actors["ccs"], directory=folder / "absent")
        assert overview.latest is None and overview.running is None and overview.can_start

        _write_report(folder / "20270104-090000", sample_report("2020", seed=4), at=time.time() - 3600)
        compared = folder / "20270104-100000"
        compared.mkdir(parents=True)
        write_comparison_directory(compared)
        (compared / "comparaison.html").write_text("<!DOCTYPE html><p>comparaison</p>", encoding="utf-8")
        latest = latest_report(session, actor=actors["ccs"], directory=folder).latest
        assert (latest.kind, latest.run_id, latest.path) == ("comparison", "20270104-100000", compared)
        assert latest.comparison["targets"][0]["met"] is True and latest.report is None
        assert {rules: report["final"]["posts_filled"] for rules, report in latest.reports.items()} == {
            "2020": 3, "renfort": 7}
        assert latest.html == b"<!DOCTYPE html><p>comparaison</p>"
        assert latest.html_name == "comparaison-simulations-20270104-100000.html"

        # a newer report being written (cut short) is passed over; once whole, it is the last one
        newer = folder / "20270104-110000"
        _write_report(newer, sample_report("renfort", seed=9), at=time.time() + 60)
        (newer / "report.json").write_text('{"version": 1, "param', encoding="utf-8")
        os.utime(newer / "report.json", (time.time() + 60, time.time() + 60))
        assert latest_report(session, actor=actors["ccs"], directory=folder).latest.run_id == "20270104-100000"
        (newer / "report.json").write_text(json.dumps(sample_report("renfort", seed=9)), encoding="utf-8")
        latest = latest_report(session, actor=actors["ccs"], directory=folder).latest
        assert (latest.kind, latest.report["parameters"]["seed"], list(latest.reports)) == ("report", 9, ["renfort"])
        assert latest.html == b"<!DOCTYPE html><p>rapport</p>" and latest.html_name == "simulation-20270104-110000.html"
        assert latest.finished_at.tzinfo is not None and " à " in latest.finished_label


def test_a_run_in_progress_shows_its_progress_and_blocks_another(sqlite_url: str, actors: dict, folder: Path,
                                                                 sleeper: subprocess.Popen) -> None:
    run_dir = folder / "20270104-120000"
    _started(run_dir, sleeper.pid, {"phase": "simulation", "done": 3, "total": 8,
                                    "message": "Jour 2/4 — règles renfort, graine 1", "error": None})
    with session_scope(sqlite_url) as session:
        progress = simulation_progress(session, actor=actors["ccs"], run_id="20270104-120000", directory=folder)
        assert (progress.phase_label, progress.fraction, progress.message) == (
            "Simulation en cours", 3 / 8, "Jour 2/4 — règles renfort, graine 1")
        overview = latest_report(session, actor=actors["ccs"], directory=folder)
        assert overview.running == progress and not overview.can_start
        with pytest.raises(Conflict, match="Une simulation est déjà en cours .* attendez qu'elle se termine"):
            start_simulation(session, actor=actors["ccs"], request=MINI, directory=folder)
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event)) == 0

        # the process dies without « termine »: the run has failed, and says where its output is
        sleeper.send_signal(signal.SIGKILL)
        sleeper.wait()
        progress = simulation_progress(session, actor=actors["ccs"], run_id="20270104-120000", directory=folder)
        assert progress.failed and not progress.running
        assert progress.error.startswith("Le processus de la simulation s'est arrêté avant la fin")
        assert str(run_dir / "journal.txt") in progress.error
        overview = latest_report(session, actor=actors["ccs"], directory=folder)
        assert overview.running is None and overview.can_start and overview.failed == progress


def test_a_run_that_ends_badly_says_how(sqlite_url: str, actors: dict, folder: Path) -> None:
    """A child of this process (as the runs the page starts are) is reaped here, its exit code told."""
    process = subprocess.Popen([sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)", "simulate"])
    _started(folder / "20270104-123000", process.pid, {"phase": "simulation", "done": 1, "total": 8, "message": "",
                                                       "error": None})
    deadline = time.monotonic() + 20
    with session_scope(sqlite_url) as session:
        while (progress := simulation_progress(session, actor=actors["ccs"], run_id="20270104-123000",
                                               directory=folder)).running:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert progress.error.startswith("Le processus de la simulation s'est arrêté avant la fin (code de sortie 3), "
                                     "sans écrire de rapport : voir son journal")
    process.returncode = 3  # reaped by the service: Popen must not wait for it again


def test_a_finished_or_failed_run_reads_as_the_command_left_it(sqlite_url: str, actors: dict, folder: Path) -> None:
    with session_scope(sqlite_url) as session:
        # process ids beyond Linux's largest (2**22): processes that are gone
        _started(folder / "20270104-130000", 2 ** 22 + 7, {"phase": "termine", "done": 8, "total": 8,
                                                             "message": "Simulation terminée.", "error": None})
        progress = simulation_progress(session, actor=actors["ccs"], run_id="20270104-130000", directory=folder)
        assert progress.finished and progress.fraction == 1.0 and progress.error is None
        _started(folder / "20270104-140000", 2 ** 22 + 8, {
            "phase": "erreur", "done": 2, "total": 8, "message": "Échec.",
            "error": "Le jeu de données « demo » est introuvable."})
        progress = simulation_progress(session, actor=actors["ccs"], run_id="20270104-140000", directory=folder)
        assert progress.failed and progress.error == "Le jeu de données « demo » est introuvable."
        for wrong in ("../20270104-130000", "inconnu", "20270104-150000"):
            with pytest.raises(NotFound, match="Cette simulation est introuvable"):
                simulation_progress(session, actor=actors["ccs"], run_id=wrong, directory=folder)


def test_a_simulation_started_by_the_ccs_runs_to_its_report(sqlite_url: str, actors: dict, folder: Path) -> None:
    """The page's path end to end: the command in its own process, its progress read until it ends, its report
    then the last one. The tiny data set, two days, ten needs (about 8 s)."""
    with session_scope(sqlite_url) as session:
        run_id = start_simulation(session, actor=actors["ccs"], request=MINI, directory=folder)
    run_dir = folder / run_id
    process = json.loads((run_dir / "processus.json").read_text(encoding="utf-8"))
    assert process["parameters"] == {"seed": 1, "rules": "renfort", "days": 2, "wave": 10, "scale": "mini"}
    assert process["command"][1:4] == ["-m", "core", "simulate"] and process["command"][-1] == str(run_dir)
    try:
        deadline = time.monotonic() + 120
        with session_scope(sqlite_url) as session:
            event = session.scalars(sa.select(m.Event)).one()
            assert (event.entity, event.entity_id, event.action, event.actor_user_id, event.ars_code) == (
                "simulation", run_id, "simulation_started", actors["ccs"].id, None)
            assert event.details == process["parameters"]
            while (progress := simulation_progress(session, actor=actors["ccs"], run_id=run_id,
                                                   directory=folder)).running:
                assert time.monotonic() < deadline, progress
                time.sleep(0.3)
            assert progress.finished, (progress, (run_dir / "journal.txt").read_text(encoding="utf-8")[-2000:])
            latest = latest_report(session, actor=actors["ccs"], directory=folder).latest
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process["pid"], signal.SIGKILL)
    assert (latest.run_id, latest.kind) == (run_id, "report")
    assert latest.report["parameters"] | {"behaviour": None} == {
        "rules": "renfort", "rules_label": "Règles Renfort RH", "seed": 1, "days": 2, "scale": "mini", "wave": 10,
        "start": latest.report["parameters"]["start"], "behaviour": None}
    assert len(latest.report["days"]) == 2 and latest.report["final"]["posts_requested"] > 0
    assert latest.html.startswith(b"<!DOCTYPE html>") and b"Plotly.newPlot" in latest.html


def test_the_folder_of_the_simulations_is_a_setting() -> None:
    assert load_settings({}).simulation_dir == ROOT / "data" / "simulations"
    assert load_settings({"RENFORT_SIMULATION_DIR": "/srv/renfort/simulations"}).simulation_dir == Path(
        "/srv/renfort/simulations")
    # relative to the project, not to wherever the server was started
    assert load_settings({"RENFORT_SIMULATION_DIR": "autres/simulations"}).simulation_dir == (
        ROOT / "autres" / "simulations")


def test_a_process_that_cannot_start_leaves_nothing_behind(sqlite_url: str, actors: dict, folder: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*_arguments, **_options):  # noqa: ANN002, ANN003, ANN202
        raise OSError(11, "Ressource temporairement non disponible")

    monkeypatch.setattr("core.figures.simulation.subprocess.Popen", no_process)
    refusal = "La simulation n'a pas pu démarrer \\(Ressource temporairement non disponible"
    with pytest.raises(Conflict, match=refusal), session_scope(sqlite_url) as session:
        start_simulation(session, actor=actors["ccs"], request=MINI, directory=folder)
    assert list(folder.iterdir()) == []
    with session_scope(sqlite_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.Event)) == 0
