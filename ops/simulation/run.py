"""One simulated wave from start to report, and a series of them (both rule sets, several seeds) with the
comparison of their medians against the issue's targets.

The data set is built once per command on a temporary SQLite file (the demo set, a tiny one for tests, or the
national one), its missions of before the wave closed by the CCS through the service; each run then starts from
a copy of that file, so that every run of a series faces the same people. The configured database is never
opened."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from core.figures.tension_history import snapshot_tension
from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import paris_midnight, paris_today, simulated_clock
from core.staffing import jobs, missions, workflow
from core.volunteers.freshness import send_availability_checks
from db.models import Mission, MissionStatus, Outbox, User
from db.session import copy_sqlite, create_engine_for
from ops.simulation import metrics
from ops.simulation.agents import (
    World,
    establishments_act,
    regulators_act,
    volunteers_answer,
    volunteers_confirm,
)
from ops.simulation.behaviour import RULES, Behaviour, Dice
from ops.simulation.wave import Need, draw_wave

FIRST_DAY = date(2027, 1, 4)  # a Monday; fixed, so that a seed gives the same JSON on any day it runs
HOURS = (9, 15)  # the two half-days: staff open the platform in the morning and in the afternoon
DATA_SEED = 2020  # the population is the same for every seed: the seed draws the wave and the behaviour
SCALES: dict[str, dict[str, int] | None] = {
    "mini": {"establishments": 60, "volunteers": 600, "missions": 40},
    "demo": {},  # ops.seed's defaults: 300 establishments, 3,000 volunteers
    "national": None,  # ops.seed_national: 10,000 establishments, 100,000 volunteers
}
DEFAULT_WAVE = {"mini": 20, "demo": 300, "national": 1500}
Progress = Callable[[dict[str, Any]], None]


class SimulationRefused(Exception):
    """A French sentence: why the command will not run."""


@dataclass(frozen=True)
class Plan:
    days: int = 30
    seeds: tuple[int, ...] = (1,)
    rules: tuple[str, ...] = ("renfort",)
    scale: str = "demo"
    wave: int | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)

    @property
    def needs(self) -> int:
        return self.wave if self.wave is not None else DEFAULT_WAVE[self.scale]

    def runs(self) -> list[tuple[str, int]]:
        return [(rules, seed) for seed in self.seeds for rules in self.rules]


def instant(half_day: int) -> datetime:
    return paris_midnight(FIRST_DAY + timedelta(days=half_day // 2)) + timedelta(hours=HOURS[half_day % 2])


# ---------------------------------------------------------------- the data set


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def prepare_population(scale: str, path: Path) -> str:
    """The data set, built as the day before the wave, its earlier missions then closed by the CCS."""
    from ops.seed_national import ensure_regulators

    url = sqlite_url(path)
    eve = instant(0) - timedelta(days=1)
    with simulated_clock(eve):
        if scale == "national":
            from ops.seed_national import seed_national
            seed_national(url, seed=DATA_SEED, now=eve)
        else:
            from ops.seed import seed_demo
            seed_demo(url, seed=DATA_SEED, now=eve, **(SCALES[scale] or {}))
        ensure_regulators(url)
    with simulated_clock(instant(0) - timedelta(hours=12)) as clock:
        close_earlier_missions(url, clock.now)
    return url


def ccs_account(session: so.Session) -> SessionUser:
    """The crisis centre's first active account: it closes the earlier missions and opens the national pools."""
    user = session.scalars(sa.select(User).where(User.role == "ccs", User.status == "active").order_by(User.id)).first()
    return to_session_user(session, user=user)


def close_earlier_missions(url: str, now: datetime) -> None:
    engine = create_engine_for(url)
    sessions = so.sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as session:
        ccs = ccs_account(session)
        ids = list(session.scalars(sa.select(Mission.id).where(Mission.status == MissionStatus.OPEN.value)
                                   .order_by(Mission.id)))
        for mission_id in ids:
            workflow.close_mission(session, actor=ccs, mission_id=mission_id, now=now)
        session.commit()
    engine.dispose()


# ---------------------------------------------------------------- one run


@dataclass
class RunState:
    world: World
    needs: list[Need]
    eligibility: metrics.Eligibility = field(default_factory=metrics.Eligibility)
    days: list[dict[str, Any]] = field(default_factory=list)
    longest_wait: float = 0.0
    worst_long_waits: int = 0


def _world(sessions: so.sessionmaker[so.Session], rules: str, seed: int, behaviour: Behaviour) -> World:
    with sessions() as session:
        regulators = {}
        for user in session.scalars(sa.select(User).where(User.role == "ars", User.status == "active").order_by(User.id)):
            regulators.setdefault(user.ars_code, to_session_user(session, user=user))
        world = World(sessions=sessions, rules=RULES[rules], behaviour=behaviour, dice=Dice(seed), start=instant(0),
                      regions=sorted(regulators), regulators=regulators, ccs=ccs_account(session),
                      mail_read=session.scalar(sa.select(sa.func.max(Outbox.id))) or 0)
    return world


def simulate_one(url: str, plan: Plan, rules: str, seed: int, tick: Callable[[int], None]) -> dict[str, Any]:
    """The wave, half-day after half-day, on the database at `url`; returns the report (report.json)."""
    engine = create_engine_for(url)
    sessions = so.sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with simulated_clock(instant(0)) as clock:
            world = _world(sessions, rules, seed, plan.behaviour)
            with sessions() as session:
                needs = draw_wave(session, world.dice, plan.needs, plan.days, FIRST_DAY)
            state = RunState(world=world, needs=needs)
            for half_day in range(2 * plan.days):
                half_day_of(state, half_day, clock.set(instant(half_day)))
                tick(half_day + 1)
            with sessions() as session:
                figures = metrics.final_figures(session, world.start, state.eligibility, state.days,
                                                {ars: h // 2 + 1 for ars, h in world.crisis_since.items()},
                                                state.longest_wait)
                checks = metrics.invariants(session, world.start)
    finally:
        engine.dispose()
    return {"version": 1, "parameters": _parameters(plan, rules, seed), "days": state.days, **figures,
            "invariants": checks, "actions": dict(sorted(world.outcomes.items()))}


def _parameters(plan: Plan, rules: str, seed: int) -> dict[str, Any]:
    return {"rules": rules, "rules_label": RULES[rules].label, "seed": seed, "days": plan.days, "scale": plan.scale,
            "wave": plan.needs, "start": FIRST_DAY.isoformat(), "behaviour": plan.behaviour.as_dict()}


def half_day_of(state: RunState, half_day: int, now: datetime) -> None:
    world = state.world
    with world.sessions() as session:
        run_jobs(session, world, half_day, now)
        session.commit()
        long_waits, longest = metrics.waits(session, world.start, now)
    state.worst_long_waits = max(state.worst_long_waits, long_waits)
    state.longest_wait = max(state.longest_wait, longest)
    file_needs(state, half_day, now)
    volunteers_answer(world, half_day, now)
    volunteers_confirm(world, half_day, now)
    establishments_act(world, half_day, now)
    regulators_act(world, half_day, now)
    if half_day % 2 == 1:
        with world.sessions() as session:
            state.days.append(metrics.day_figures(session, world.start, half_day // 2 + 1, paris_today(now),
                                                  state.worst_long_waits))
        state.worst_long_waits = 0


def run_jobs(session: so.Session, world: World, half_day: int, now: datetime) -> None:
    """The worker's pass: reminders and expiries under our rules (none in 2020), missions ending, the day's
    tension snapshot each morning (what the ARS read)."""
    if world.rules.expiry:
        jobs.run_jobs(session, now=now)
    else:
        jobs.end_finished_missions(session, now=now)
    if world.rules.availability_checks:
        send_availability_checks(session, now=now)
    if half_day % 2 == 0:
        snapshot_tension(session, now=now)


def file_needs(state: RunState, half_day: int, now: datetime) -> None:
    world = state.world
    for need in (n for n in state.needs if n.half_day == half_day):
        def create(session: so.Session, need: Need = need) -> list[int]:
            actor = world.account(session, need.account_id)
            return missions.create_missions(session, actor=actor, establishment_id=need.establishment_id,
                                            missions=[need.form], now=now)
        created = world.act("filed", create)
        if created:
            world.present.add(need.establishment_id)
            with world.sessions() as session:
                state.eligibility.add_mission(session, created[0], now)


# ---------------------------------------------------------------- the command


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    temporary.replace(path)


def run_plan(plan: Plan, out: Path, *, workdir: Path | None = None,
             on_progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every run of the plan into `out`; returns the comparison (or the single report)."""
    out.mkdir(parents=True, exist_ok=True)
    runs = plan.runs()
    total = len(runs) * 2 * plan.days
    progress = ProgressFile(out / "progress.json", total, on_progress)
    try:
        with tempfile.TemporaryDirectory(dir=workdir, prefix="renfort-simulation-") as folder:
            progress.update("preparation", 0, f"Préparation du jeu de données « {plan.scale} »…")
            started = time.perf_counter()
            population = Path(folder) / "population.db"
            prepare_population(plan.scale, population)
            prepared = time.perf_counter() - started
            results = []
            for number, (rules, seed) in enumerate(runs):
                target = out if len(runs) == 1 else out / f"{rules}-graine-{seed}"
                results.append(_one_run(plan, rules, seed, population, Path(folder) / f"run-{number}.db", target,
                                        progress, number))
        summary = results[0][0] if len(runs) == 1 else comparison(plan, results)
        if len(runs) > 1:
            from ops.simulation.report import write_comparison_html

            progress.update("rapport", total, "Rapport de comparaison…")
            write_json(out / "comparaison.json", summary)
            (out / "comparaison.md").write_text(comparison_markdown(summary), encoding="utf-8")
            write_comparison_html(summary, out / "comparaison.html")
        write_json(out / "timing.json", {"preparation_seconds": round(prepared, 1),
                                         "runs": [{"rules": r["parameters"]["rules"], "seed": r["parameters"]["seed"],
                                                   "seconds": round(s, 1)} for r, s in results]})
        progress.update("termine", total, "Simulation terminée.")
        return summary
    except Exception as error:
        progress.update("erreur", progress.done, "La simulation a échoué.", error=str(error) or type(error).__name__)
        raise


def _one_run(plan: Plan, rules: str, seed: int, population: Path, copy: Path, target: Path,
             progress: ProgressFile, number: int) -> tuple[dict[str, Any], float]:
    from ops.simulation.report import write_report_html

    copy_sqlite(population, copy)
    started = time.perf_counter()
    label = f"règles {rules}, graine {seed}"
    offset = number * 2 * plan.days
    report = simulate_one(sqlite_url(copy), plan, rules, seed, lambda done: progress.update(
        "simulation", offset + done, f"Jour {(done + 1) // 2}/{plan.days} — {label}"))
    seconds = time.perf_counter() - started
    write_json(target / "report.json", report)
    write_report_html(report, target / "report.html")
    copy.unlink()
    return report, seconds


class ProgressFile:
    """progress.json, rewritten as the run goes (the « Simulation » page reads it for its progress bar)."""

    def __init__(self, path: Path, total: int, echo: Callable[[str], None] | None) -> None:
        self.path, self.total, self.echo, self.done = path, total, echo, 0

    def update(self, phase: str, done: int, message: str, error: str | None = None) -> None:
        self.done = done
        write_json(self.path, {"phase": phase, "done": done, "total": self.total, "message": message, "error": error})
        if self.echo and (phase != "simulation" or done % 10 == 0):
            self.echo(message if not error else f"{message} {error}")


# ---------------------------------------------------------------- comparison


COMPARED = ("posts_filled", "fill_rate", "median_time_to_fill_hours", "gini", "gini_floor", "never_contacted_share",
            "waiting_over_7_days_max", "seconds")


def _compared(report: dict[str, Any], seconds: float) -> dict[str, Any]:
    final = report["final"]
    return {"posts_filled": final["posts_filled"], "fill_rate": final["fill_rate"],
            "median_time_to_fill_hours": final["time_to_fill_hours"]["median"], "gini": final["gini"],
            "gini_floor": final.get("gini_floor"), "never_contacted_share": final["never_contacted_share"],
            "waiting_over_7_days_max": final["waiting_over_7_days_max"], "seconds": round(seconds, 1)}


def comparison(plan: Plan, results: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    by_rules: dict[str, list[dict[str, Any]]] = {}
    runs = []
    for report, seconds in results:
        rules, seed = report["parameters"]["rules"], report["parameters"]["seed"]
        final = {key: value for key, value in report["final"].items() if key != "lorenz"}
        runs.append({"rules": rules, "seed": seed, "directory": f"{rules}-graine-{seed}", "final": final,
                     "invariants": report["invariants"], "seconds": round(seconds, 1)})
        by_rules.setdefault(rules, []).append(_compared(report, seconds))
    medians = {rules: {key: _median([row[key] for row in rows]) for key in COMPARED} for rules, rows in by_rules.items()}
    for rules, values in both_filled_medians(results).items():
        medians[rules]["median_time_to_fill_both_filled_hours"] = _median(values)
    summary = {"version": 1, "scale": plan.scale, "days": plan.days, "wave": plan.needs, "seeds": list(plan.seeds),
               "rules": list(plan.rules), "behaviour": plan.behaviour.as_dict(), "runs": runs, "median": medians}
    if {"2020", "renfort"} <= set(medians):
        summary["targets"] = targets(medians["2020"], medians["renfort"], plan.scale)
    return summary


def both_filled_medians(results: list[tuple[dict[str, Any], float]]) -> dict[str, list[float]]:
    """Seed by seed, the median time-to-fill of the posts filled under both rules (a need's k-th filled post under
    one rule against its k-th under the other): each rule's median is over the posts it filled, and the posts only
    one rule fills are the hardest ones, which lengthens the median of the rule that fills more."""
    by_seed: dict[int, dict[str, dict[str, list[float]]]] = defaultdict(dict)
    for report, _ in results:
        if "time_to_fill_by_mission" in report:  # reports written before it was kept do not have it
            by_seed[report["parameters"]["seed"]][report["parameters"]["rules"]] = report["time_to_fill_by_mission"]
    medians: dict[str, list[float]] = defaultdict(list)
    for reports in by_seed.values():
        if set(reports) != {"2020", "renfort"}:
            continue
        paired: dict[str, list[float]] = {"2020": [], "renfort": []}
        for mission in reports["2020"].keys() & reports["renfort"].keys():
            old, new = reports["2020"][mission], reports["renfort"][mission]
            paired["2020"] += old[: len(new)]
            paired["renfort"] += new[: len(old)]
        if paired["2020"]:
            for rules, hours in paired.items():
                medians[rules].append(statistics.median(hours))
    return medians


def _median(values: list[Any]) -> float | None:
    known = [v for v in values if v is not None]
    return metrics.rounded(statistics.median(known)) if known else None


def targets(old: dict[str, Any], new: dict[str, Any], scale: str) -> list[dict[str, Any]]:
    """The issue's targets, renfort against 2020 on the medians."""
    gain = (new["posts_filled"] / old["posts_filled"] - 1) if old["posts_filled"] else None
    old_ttf, new_ttf = old["median_time_to_fill_hours"], new["median_time_to_fill_hours"]
    limit = {"national": 1800, "demo": 120}.get(scale)
    rows = [
        ("Postes pourvus au jour 30 : au moins +15 %", _percent(gain), gain is not None and gain >= 0.15),
        ("Délai médian de pourvoi divisé par deux au moins",
         f"{_hours(new_ttf)} contre {_hours(old_ttf)}" + _both_filled(old, new),
         None not in (old_ttf, new_ttf) and new_ttf <= old_ttf / 2),
        ("Indice de Gini des sollicitations ≤ 0,3", f"{_decimal(new['gini'])} (règles de 2020 : {_decimal(old['gini'])})"
         + _floors(old, new), new["gini"] is not None and new["gini"] <= 0.3),
        ("Aucune réservation de plus de 7 jours", f"{_decimal(new['waiting_over_7_days_max'], 0)} (règles de 2020 : "
                                                  f"{_decimal(old['waiting_over_7_days_max'], 0)})",
         new["waiting_over_7_days_max"] == 0),
    ]
    if limit is not None:
        rows.append((f"Durée d'une simulation < {limit // 60} min", f"{_decimal(new['seconds'], 0)} s",
                     new["seconds"] is not None and new["seconds"] < limit))
    return [{"label": label, "value": value, "met": bool(met)} for label, value, met in rows]


def _both_filled(old: dict[str, Any], new: dict[str, Any]) -> str:
    key = "median_time_to_fill_both_filled_hours"
    if new.get(key) is None or old.get(key) is None:
        return ""
    return f" ; sur les postes pourvus sous les deux règles : {_hours(new[key])} contre {_hours(old[key])}"


def _floors(old: dict[str, Any], new: dict[str, Any]) -> str:
    if new.get("gini_floor") is None:
        return ""
    return (f" ; le plus bas possible avec les mêmes demandes : {_decimal(new['gini_floor'])} "
            f"(règles de 2020 : {_decimal(old.get('gini_floor'))})")


def _decimal(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f} %".replace(".", ",")


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} h".replace(".", ",")


def comparison_markdown(summary: dict[str, Any]) -> str:
    """The comparison as the tables of docs/simulation.md: each run, then the medians and the targets."""
    lines = ["| Règles | Graine | Postes pourvus | Taux | Délai médian (h) | Gini | Gini minimal | Jamais sollicités | "
             "Attentes > 7 j (max) | Durée (s) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for run in summary["runs"]:
        final = run["final"]
        lines.append(f"| {run['rules']} | {run['seed']} | {final['posts_filled']} / {final['posts_requested']} | "
                     f"{_decimal(final['fill_rate'] * 100, 1)} % | {_decimal(final['time_to_fill_hours']['median'], 0)} | "
                     f"{_decimal(final['gini'])} | {_decimal(final.get('gini_floor'))} | "
                     f"{_decimal(final['never_contacted_share'] * 100, 1)} % | {final['waiting_over_7_days_max']} | "
                     f"{_decimal(run['seconds'], 0)} |")
    lines += ["", "| Médiane | Postes pourvus | Délai médian (h) | Gini | Gini minimal | Jamais sollicités | "
                  "Attentes > 7 j | Durée (s) |", "|---|---|---|---|---|---|---|---|"]
    for rules, row in summary["median"].items():
        lines.append(f"| {rules} | {_decimal(row['posts_filled'], 0)} | {_decimal(row['median_time_to_fill_hours'], 0)} | "
                     f"{_decimal(row['gini'])} | {_decimal(row.get('gini_floor'))} | "
                     f"{_decimal(row['never_contacted_share'] * 100, 1)} % | "
                     f"{_decimal(row['waiting_over_7_days_max'], 0)} | {_decimal(row['seconds'], 0)} |")
    if summary.get("targets"):
        lines += ["", "| Cible | Mesure | Atteinte |", "|---|---|---|"]
        lines += [f"| {t['label']} | {t['value']} | {'oui' if t['met'] else 'non'} |" for t in summary["targets"]]
    return "\n".join(lines) + "\n"
