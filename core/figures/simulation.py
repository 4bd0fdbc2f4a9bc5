"""CCS « Simulation » (issue 17): the crisis simulator's last report, and a small run started from the page.

The simulator (`python -m core simulate`, ops.simulation) replays a wave of needs on a temporary database of its
own, never the configured one. This service does not touch that database either: it reads the JSON files the
command writes under RENFORT_SIMULATION_DIR, and starts the command in a process of its own, detached (the page's
run does not wait for it, and a restart of the server does not stop it), in a new timestamped folder
`<RENFORT_SIMULATION_DIR>/<AAAAMMJJ-HHMMSS>/` that holds its files:

- `processus.json`: what this service started (process id, command, parameters) — written here;
- `journal.txt`: the process's output (its traceback, if it fails badly);
- `progress.json`: the phase and the half-days done, rewritten by the command during the run;
- `report.json` + `report.html` (one run), or one sub-folder per run and `comparaison.json` + `comparaison.html`.

Only the CCS reads and starts simulations: they show the platform's rules at work, not anyone's data.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy.orm as so

from core.shared.actor import SessionUser
from core.shared.audit import NATIONAL, record_event
from core.shared.clock import PARIS, paris_datetime, utcnow
from core.shared.config import ROOT, get_settings
from core.shared.errors import Conflict, ErrorCollector, NotFound, ValidationError
from core.shared.permissions import require_role

SIMULATION_ROLES = ("ccs",)
RULE_LABELS = {"2020": "Règles de 2020", "renfort": "Règles Renfort RH"}  # the simulator's two rule sets
RULES = {**RULE_LABELS, "both": "Les deux, comparées"}
SCALES = ("demo", "mini")  # the page runs the demo scale; "mini" is the tests' tiny data set
SEEDS, DAYS, WAVES = (0, 9999), (1, 30), (10, 600)
DEFAULTS = {"seed": 1, "rules": "both", "days": 30, "wave": 300, "scale": "demo"}

REPORT_JSON, REPORT_HTML = "report.json", "report.html"
COMPARISON_JSON, COMPARISON_HTML = "comparaison.json", "comparaison.html"
PROGRESS_FILE, PROCESS_FILE, LOG_FILE = "progress.json", "processus.json", "journal.txt"
RUN_NAME = "%Y%m%d-%H%M%S"  # a run's folder: its start, Paris time

PHASES = {"preparation": "Préparation de la base temporaire", "simulation": "Simulation en cours",
          "rapport": "Écriture du rapport", "termine": "Terminée", "erreur": "Échec"}
FINISHED, FAILED = "termine", "erreur"


@dataclass(frozen=True)
class SimulationRequest:
    """What the form « Lancer une simulation » asks for (validated by start_simulation)."""

    seed: Any = DEFAULTS["seed"]
    rules: Any = DEFAULTS["rules"]
    days: Any = DEFAULTS["days"]
    wave: Any = DEFAULTS["wave"]
    scale: Any = DEFAULTS["scale"]


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: its phase, the half-days simulated over all its runs (done / total), its message."""

    run_id: str
    phase: str
    done: int
    total: int
    message: str
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.phase == FINISHED

    @property
    def failed(self) -> bool:
        return self.phase == FAILED

    @property
    def running(self) -> bool:
        return not (self.finished or self.failed)

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    @property
    def phase_label(self) -> str:
        return PHASES.get(self.phase, self.phase)


@dataclass(frozen=True)
class SimulationRun:
    """A finished run: one report (`kind` "report") or the comparison of several (`kind` "comparison")."""

    run_id: str
    path: Path
    finished_at: datetime  # when its JSON was written (UTC)
    kind: str
    report: dict[str, Any] | None  # the run's report.json (kind "report")
    comparison: dict[str, Any] | None  # comparaison.json (kind "comparison")
    reports: dict[str, dict[str, Any]]  # rules → a report: its own, or the first seed's of each rules
    html: bytes | None  # the self-contained HTML report, to download
    html_name: str

    @property
    def finished_label(self) -> str:
        return paris_datetime(self.finished_at)


@dataclass(frozen=True)
class SimulationOverview:
    """What the page shows: the last report, a run in progress, and the last run if it failed since."""

    directory: Path
    latest: SimulationRun | None
    running: RunProgress | None = None
    failed: RunProgress | None = None
    can_start: bool = field(default=True)  # False while a run is in progress (start_simulation would refuse)


# ---------------------------------------------------------------- the services


def latest_report(session: so.Session, *, actor: SessionUser | None,
                  directory: Path | None = None) -> SimulationOverview:
    """The most recent finished run under the directory (a single report or a comparison), parsed, with its path
    and date; the run in progress, if any; the newest run, when it failed after that report."""
    require_role(actor, *SIMULATION_ROLES)
    base = _base(directory)
    latest = next(filter(None, (_finished_run(path) for path in _newest_first(base))), None)
    running = _running(base)
    failed = None
    for path in _started_runs(base):
        progress = _progress(path)
        if progress.failed and (latest is None or _started_at(path) > latest.finished_at):
            failed = progress
        break
    return SimulationOverview(directory=base, latest=latest, running=running, failed=failed,
                              can_start=running is None)


def start_simulation(session: so.Session, *, actor: SessionUser | None, request: SimulationRequest,
                     directory: Path | None = None) -> str:
    """Start `python -m core simulate` for this request in a new folder of the directory; its run id.

    Refused while another run started here is in progress (they would share the server's processors)."""
    actor = require_role(actor, *SIMULATION_ROLES)
    arguments = validate_request(request)
    base = _base(directory)
    running = _running(base)
    if running is not None:
        raise Conflict(f"Une simulation est déjà en cours (lancée le {_started_label(base / running.run_id)}, "
                       f"{running.phase_label.lower()}) : attendez qu'elle se termine pour en lancer une autre.")
    started = utcnow()
    run_id = started.astimezone(PARIS).strftime(RUN_NAME)
    run_dir = base / run_id
    try:
        base.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir()
    except FileExistsError:
        raise Conflict("Une simulation vient d'être lancée à l'instant : attendez qu'elle se termine pour en "
                       "lancer une autre.") from None
    except OSError as error:
        raise Conflict(f"Le dossier des simulations {base} n'est pas accessible en écriture ({error.strerror}) : "
                       "vérifiez RENFORT_SIMULATION_DIR.") from None
    record_event(session, actor_id=actor.id, entity="simulation", entity_id=run_id, action="simulation_started",
                 details=arguments, ars_code=NATIONAL, at=started)
    session.flush()  # the event is written before the process exists: a refused write starts nothing
    command = [sys.executable, "-m", "core", "simulate", "--seed", str(arguments["seed"]), "--rules",
               arguments["rules"], "--days", str(arguments["days"]), "--wave", str(arguments["wave"]),
               "--scale", arguments["scale"], "--out", str(run_dir)]
    try:
        with (run_dir / LOG_FILE).open("wb") as log:
            process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
    except OSError as error:  # no process: the event is rolled back with the refusal, the empty folder removed
        shutil.rmtree(run_dir, ignore_errors=True)
        raise Conflict(f"La simulation n'a pas pu démarrer ({error.strerror or error}) : réessayez dans un instant.") \
            from None
    with contextlib.suppress(OSError, AttributeError):  # behind the pages' own requests on a shared server
        os.setpriority(os.PRIO_PROCESS, process.pid, 10)
    _write_json(run_dir / PROCESS_FILE, {"pid": process.pid, "started_at": started.isoformat(),
                                         "parameters": arguments, "command": command})
    return run_id


def simulation_progress(session: so.Session, *, actor: SessionUser | None, run_id: str,
                        directory: Path | None = None) -> RunProgress:
    """Where the run stands, from its progress.json; a run whose process died without finishing has failed."""
    require_role(actor, *SIMULATION_ROLES)
    base = _base(directory)
    run_dir = base / str(run_id)
    if not _is_run_id(str(run_id)) or not run_dir.is_dir():
        raise NotFound("Cette simulation est introuvable : elle a peut-être été supprimée du dossier des "
                       "simulations.")
    return _progress(run_dir)


# ---------------------------------------------------------------- validation


def validate_request(request: SimulationRequest) -> dict[str, Any]:
    """The request's values, or FormErrors naming each wrong field in French."""
    errors = ErrorCollector()
    seed = errors.check(_whole, request.seed, "seed", "La graine", SEEDS)
    days = errors.check(_whole, request.days, "days", "Le nombre de jours", DAYS)
    wave = errors.check(_whole, request.wave, "wave", "Le nombre de besoins", WAVES)
    if request.rules not in RULES:
        errors.add("rules", "Choisissez les règles : celles de 2020, celles de Renfort RH, ou les deux comparées.")
    if request.scale not in SCALES:
        errors.add("scale", "L'échelle doit être « demo » (le jeu de démonstration) ; « mini » est réservée aux "
                            "tests.")
    errors.raise_if_any()
    return {"seed": seed, "rules": request.rules, "days": days, "wave": wave, "scale": request.scale}


def _whole(value: Any, field_name: str, label: str, bounds: tuple[int, int]) -> int:
    low, high = bounds
    message = f"{label} doit être un nombre entier entre {_fr(low)} et {_fr(high)}."
    if value is None or isinstance(value, bool):
        raise ValidationError(field_name, message)
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValidationError(field_name, message) from None
    if not number.is_integer() or not low <= number <= high:
        raise ValidationError(field_name, message)
    return int(number)


def _fr(number: int) -> str:
    return f"{number:,}".replace(",", "\u202f")


# ---------------------------------------------------------------- reading the directory


def _base(directory: Path | None) -> Path:
    return Path(directory) if directory is not None else get_settings().simulation_dir


def _is_run_id(name: str) -> bool:
    try:
        datetime.strptime(name, RUN_NAME)
    except ValueError:
        return False
    return True


def _children(base: Path) -> list[Path]:
    try:
        return [path for path in base.iterdir() if path.is_dir()]
    except OSError:  # not created yet
        return []


def _newest_first(base: Path) -> list[Path]:
    """The directory itself (`--out DIR` of a command-line run) and its folders, the last written first."""
    found = []
    for path in [base, *_children(base)]:
        for name in (COMPARISON_JSON, REPORT_JSON):
            try:
                found.append(((path / name).stat().st_mtime, path))
                break
            except OSError:
                continue
    return [path for _, path in sorted(found, key=lambda item: (item[0], item[1].name), reverse=True)]


def _finished_run(path: Path) -> SimulationRun | None:
    """The run of this folder, or None when its JSON cannot be read (being written, or damaged)."""
    kind, name, html_name = (("comparison", COMPARISON_JSON, COMPARISON_HTML) if (path / COMPARISON_JSON).is_file()
                             else ("report", REPORT_JSON, REPORT_HTML))
    data = _read_json(path / name)
    if not isinstance(data, dict):
        return None
    finished_at = datetime.fromtimestamp((path / name).stat().st_mtime, tz=timezone.utc)
    if kind == "comparison":
        reports = first_seed_reports(data, path)
    else:
        rules = (data.get("parameters") or {}).get("rules", "")
        reports = {rules: data}
    try:
        html = (path / html_name).read_bytes()
    except OSError:
        html = None
    run_id = path.name
    prefix = "comparaison-simulations" if kind == "comparison" else "simulation"
    return SimulationRun(run_id=run_id, path=path, finished_at=finished_at, kind=kind,
                         report=data if kind == "report" else None, comparison=data if kind == "comparison" else None,
                         reports=reports, html=html, html_name=f"{prefix}-{run_id}.html")


def first_seed_reports(comparison: dict[str, Any], directory: Path) -> dict[str, dict[str, Any]]:
    """The reports of the comparison's first seed, rules → report.json, read from their run folders."""
    seeds = comparison.get("seeds") or []
    reports: dict[str, dict[str, Any]] = {}
    for run in comparison.get("runs") or []:
        if seeds and run.get("seed") == seeds[0] and run.get("rules") not in reports:
            report = _read_json(Path(directory) / str(run.get("directory", "")) / REPORT_JSON)
            if isinstance(report, dict):
                reports[run["rules"]] = report
    return reports


def _read_json(path: Path, attempts: int = 3) -> Any:
    """A JSON file another process may be rewriting: read again after a moment when it is cut short."""
    for attempt in range(attempts):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            if attempt + 1 < attempts:
                time.sleep(0.05)
    return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)


def _started_runs(base: Path) -> list[Path]:
    """The runs this service started (they hold processus.json), the newest first."""
    runs = [path for path in _children(base) if _is_run_id(path.name) and (path / PROCESS_FILE).is_file()]
    return sorted(runs, key=lambda path: path.name, reverse=True)


def _process(run_dir: Path) -> dict[str, Any]:
    data = _read_json(run_dir / PROCESS_FILE)
    return data if isinstance(data, dict) else {}


def _started_at(run_dir: Path) -> datetime:
    started = _process(run_dir).get("started_at")
    try:
        return datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return datetime.fromtimestamp(run_dir.stat().st_mtime, tz=timezone.utc)


def _started_label(run_dir: Path) -> str:
    return paris_datetime(_started_at(run_dir))


def _running(base: Path) -> RunProgress | None:
    for path in _started_runs(base):
        progress = _progress(path)
        if progress.running:
            return progress
    return None


def _progress(run_dir: Path) -> RunProgress:
    """progress.json as the command left it. The process is looked at first: a process that has ended wrote its
    last progress before, so what is read then is final — « termine », « erreur », or a run cut short."""
    pid = _process(run_dir).get("pid")
    alive = pid is None or _alive(int(pid))  # a command-line run (no process of ours): its file says it all
    data = _read_json(run_dir / PROGRESS_FILE)
    if not isinstance(data, dict):
        data = {"phase": "preparation", "done": 0, "total": 0, "message": "Démarrage de la simulation…"}
    progress = RunProgress(run_id=run_dir.name, phase=str(data.get("phase") or "preparation"),
                           done=int(data.get("done") or 0), total=int(data.get("total") or 0),
                           message=str(data.get("message") or ""), error=data.get("error"))
    if progress.failed and not progress.error:
        progress = RunProgress(**{**asdict(progress), "error": "La simulation a échoué sans préciser pourquoi."})
    if progress.running and not alive:
        log = run_dir / LOG_FILE
        ended = _ENDINGS.get(int(pid), "")
        progress = RunProgress(**{**asdict(progress), "phase": FAILED, "error": (
            f"Le processus de la simulation s'est arrêté avant la fin{ended}, sans écrire de rapport : voir son "
            f"journal {log}.")})
    return progress


_ENDINGS: dict[int, str] = {}  # how the children this server process reaped ended, by process id


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f" (arrêté par le signal {os.WTERMSIG(status)})"
    return f" (code de sortie {os.WEXITSTATUS(status)})" if os.WIFEXITED(status) else ""


def _alive(pid: int) -> bool:
    """Whether the process still runs: not ended, not a zombie (reaped here when it is our own child), and still
    the simulator (a process id is reused once the process is gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            _ENDINGS[pid] = _ending(status)
            return False
        # Our own child, still running: its id cannot have been reused. (Just after the fork, before the exec,
        # its command line is still this server's: the check below would have called it gone.)
        return True
    except ChildProcessError:
        pass  # started by another server process: not ours to reap
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            return False
        return state != "Z" and b"simulate" in command
    return True
