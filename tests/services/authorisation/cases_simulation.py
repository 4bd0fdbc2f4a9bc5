"""Rows of the authorisation table for the crisis simulator's page (core/figures/simulation.py, issue 17).

The CCS alone reads the simulations' reports and starts one: they show the platform's rules at work on a
temporary database, and a run takes the server's processors for a minute or two. The folders the cells read are
written once per test process in a temporary directory; the run a CCS cell starts (the tiny data set) is stopped
as soon as the cell has checked what it left, its folder removed.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import tempfile
from functools import cache
from pathlib import Path

import sqlalchemy.orm as so

from core.figures import simulation
from tests.services.authorisation.world import Service, last_action

CCS = frozenset({"ccs"})
REPORT_RUN, PROGRESS_RUN = "20270104-090000", "20270104-100000"
TINY = simulation.SimulationRequest(seed=1, rules="renfort", days=1, wave=10, scale="mini")


@cache
def _folder() -> Path:
    """A finished run (its report) and one in progress (no process of ours: the command line's), to read."""
    folder = Path(tempfile.mkdtemp(prefix="renfort-simulations-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / REPORT_RUN).mkdir()
    (folder / REPORT_RUN / simulation.REPORT_JSON).write_text(
        json.dumps({"version": 1, "parameters": {"rules": "renfort", "seed": 1}}), encoding="utf-8")
    (folder / PROGRESS_RUN).mkdir()
    (folder / PROGRESS_RUN / simulation.PROGRESS_FILE).write_text(
        json.dumps({"phase": "simulation", "done": 3, "total": 8, "message": "Jour 2/4", "error": None}),
        encoding="utf-8")
    return folder


def _start_folder() -> Path:
    """Where the CCS cells start their run: created by the service itself (a refused cell creates nothing)."""
    return Path(tempfile.gettempdir()) / f"renfort-simulations-lancees-{os.getpid()}"


def _started_then_stopped(session: so.Session, run_id: str) -> bool:
    run_dir = _start_folder() / run_id
    process = json.loads((run_dir / simulation.PROCESS_FILE).read_text(encoding="utf-8"))
    try:
        os.killpg(process["pid"], signal.SIGKILL)
        os.waitpid(process["pid"], 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    shutil.rmtree(_start_folder(), ignore_errors=True)
    return (process["parameters"]["scale"] == "mini" and process["command"][1:4] == ["-m", "core", "simulate"]
            and last_action(session, "simulation") == "simulation_started")


CASES: dict[str, Service] = {
    "simulation.latest_report": Service(
        lambda s, w, a: simulation.latest_report(s, actor=a, directory=_folder()), CCS,
        lambda s, w, r: r.latest.run_id == REPORT_RUN and list(r.latest.reports) == ["renfort"],
        "le dernier rapport du simulateur de crise : le CCS seulement"),
    "simulation.start_simulation": Service(
        lambda s, w, a: simulation.start_simulation(s, actor=a, request=TINY, directory=_start_folder()), CCS,
        lambda s, w, r: _started_then_stopped(s, r),
        "une simulation sur sa propre base temporaire, jamais la base réelle"),
    "simulation.simulation_progress": Service(
        lambda s, w, a: simulation.simulation_progress(s, actor=a, run_id=PROGRESS_RUN, directory=_folder()), CCS,
        lambda s, w, r: (r.phase, r.done, r.total) == ("simulation", 3, 8)),
}
