"""`python -m core bench`: speed and memory of the hot paths on the national-scale data set.

Each operation is one function and one target (p95, milliseconds) in a registry that later issues
extend; the page measurements (AppTest) live in ops/bench_pages.py, which registers them here. The
naive way of matching (pandas over every volunteer) runs in the same process so that the speed-up is
measured, not claimed. Figures go to a French table and to JSON.
"""

from __future__ import annotations

import json
import os
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from core.shared.actor import SessionUser, to_session_user
from core.shared.clock import paris_today, utcnow
from core.shared.config import ROOT
from db import models as m
from db.session import session_scope

# Matching compiles one SQL statement per combination of mission criteria (vehicle, weekend, experience,
# specialty…); a long-running server compiles each once. The warm-up visits them before measuring.
WARM_UP_RUNS = 15
DEFAULT_BENCH_URL = f"sqlite:///{ROOT / 'data' / 'bench.db'}"
PDF = b"%PDF-1.4\n% Renfort RH bench\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# A target is one p95 for every scale, or one per scale ("current", the database as it is, takes the national one).
Target = float | dict[str, float] | None


@dataclass
class Operation:
    key: str
    label: str
    target: Target
    run: Callable[[BenchContext], float | None]  # one measured run, in seconds (None: skipped)
    runs: int = 30
    warm_up: bool = True
    at_workforce_scale: bool = True  # False: too slow to be worth measuring on 1.5 million volunteers

    def target_ms(self, scale: str) -> float | None:
        if isinstance(self.target, dict):
            return self.target.get(scale, self.target.get("national"))
        return self.target


@dataclass
class BenchContext:
    url: str
    rng: random.Random
    now: datetime
    missions: list[tuple[int, int]] = field(default_factory=list)  # (mission id, creator user id), open
    establishments: list[tuple[int, int]] = field(default_factory=list)  # (establishment id, user id)
    pending_refusals: list[tuple[int, int, int]] = field(default_factory=list)  # (mission, volunteer, user)
    actors: dict[int, SessionUser] = field(default_factory=dict)
    counter: int = 0

    def actor(self, session: Any, user_id: int) -> SessionUser:
        if user_id not in self.actors:
            self.actors[user_id] = to_session_user(session, user=session.get(m.User, user_id))
        return self.actors[user_id]


REGISTRY: list[Operation] = []


def operation(key: str, label: str, target: Target, runs: int = 30, warm_up: bool = True,
              at_workforce_scale: bool = True) -> Callable:
    """Register a measured operation (one run per call, returning its duration in seconds)."""
    def register(function: Callable[[BenchContext], float | None]) -> Callable:
        REGISTRY.append(Operation(key, label, target, function, runs, warm_up, at_workforce_scale))
        return function
    return register


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


# ---------------------------------------------------------------- the operations


@operation("candidates", "Candidats d'une mission (tri, page de 20, total, carte)", {"national": 50, "workforce": 100})
def _candidates(ctx: BenchContext) -> float:
    from core.staffing.matching import find_candidates

    mission_id, user_id = ctx.rng.choice(ctx.missions)
    with session_scope(ctx.url, read_only=True) as session:
        actor = ctx.actor(session, user_id)
        return timed(lambda: find_candidates(session, actor=actor, mission_id=mission_id, now=ctx.now))


def _free_candidate(ctx: BenchContext) -> tuple[int, int, int] | None:
    from core.staffing.matching import find_candidates

    for _ in range(20):
        mission_id, user_id = ctx.rng.choice(ctx.missions)
        with session_scope(ctx.url, read_only=True) as session:
            page = find_candidates(session, actor=ctx.actor(session, user_id), mission_id=mission_id, now=ctx.now)
        free = [row["id"] for row in page.rows if row["proposal_state"] is None]
        if free:
            return mission_id, free[0], user_id
    return None


@operation("contact", "Contacter un professionnel (une transaction)", 30)
def _contact(ctx: BenchContext) -> float | None:
    from core.staffing.workflow import contact

    picked = _free_candidate(ctx)
    if picked is None:
        return None
    mission_id, professional_id, user_id = picked

    def act() -> None:
        with session_scope(ctx.url) as session:
            contact(session, actor=ctx.actor(session, user_id), mission_id=mission_id,
                    professional_id=professional_id, now=utcnow())

    duration = timed(act)
    ctx.pending_refusals.append(picked)
    return duration


@operation("refuse", "Refuser sa candidature (une transaction)", 30)
def _refuse(ctx: BenchContext) -> float | None:
    from core.staffing.workflow import refuse

    if not ctx.pending_refusals:
        return None
    mission_id, professional_id, user_id = ctx.pending_refusals.pop()

    def act() -> None:
        with session_scope(ctx.url) as session:
            refuse(session, actor=ctx.actor(session, user_id), mission_id=mission_id,
                   professional_ids=[professional_id], now=utcnow())

    return timed(act)


@operation("dashboard", "Tableau de bord d'un établissement", 150)
def _dashboard(ctx: BenchContext) -> float:
    from core.staffing.missions import dashboard

    establishment_id, user_id = ctx.rng.choice(ctx.establishments)
    with session_scope(ctx.url, read_only=True) as session:
        actor = ctx.actor(session, user_id)
        return timed(lambda: dashboard(session, actor=actor, establishment_id=establishment_id))


@operation("assigned_staff", "Liste des professionnels affectés d'un établissement", 150)
def _assigned(ctx: BenchContext) -> float:
    from core.staffing.missions import assigned_staff

    establishment_id, user_id = ctx.rng.choice(ctx.establishments)
    with session_scope(ctx.url, read_only=True) as session:
        actor = ctx.actor(session, user_id)
        return timed(lambda: assigned_staff(session, actor=actor, establishment_id=establishment_id))


@operation("register_professional", "Inscription d'un volontaire avec deux documents", 50)
def _register(ctx: BenchContext) -> float:
    from core.volunteers.professionals import RegistrationInput, register_professional

    ctx.counter += 1
    tag = f"{os.getpid()}-{time.time_ns()}-{ctx.counter}"
    form = RegistrationInput(
        last_name="Banc", first_name="Essai", email=f"banc-{tag}@bench.example.org", phone="06 12 34 56 78",
        postal_code="44000", city="Nantes", profession_code="infirmier_de", consent=True,
        documents={"identite": ("identite.pdf", PDF), "diplome": ("diplome.png", PNG)},
    )

    def act() -> None:
        with session_scope(ctx.url) as session:
            register_professional(session, actor=None, form=form)

    return timed(act)


@operation("account_request", "Demande de compte d'un établissement", 50)
def _account_request(ctx: BenchContext) -> float:
    from core.access.accounts import AccountRequest, request_establishment_account
    from core.staffing.missions import MissionInput
    from ops.seed import _with_luhn_key

    ctx.counter += 1
    identifier = _with_luhn_key(f"44{ctx.rng.randint(0, 999_999):06d}")
    today = ctx.now.date()
    request = AccountRequest(
        last_name="Banc", first_name="Essai", email=f"demande-{os.getpid()}-{time.time_ns()}@bench.example.org",
        phone="0612345678", category_code="sociaux_hebergement", identifier=identifier,
        establishment_name="EHPAD du banc d'essai", address="1 rue du Test", postal_code="44000", city="Nantes",
        missions=[MissionInput(profession_code="aide_soignant", count=2, start_date=today,
                               end_date=today + timedelta(days=10))],
    )

    def act() -> None:
        with session_scope(ctx.url) as session:
            request_establishment_account(session, actor=None, request=request)

    return timed(act)


@operation("naive_candidates", "Même recherche « naïve » (pandas sur tous les volontaires)", None, runs=30,
           warm_up=False, at_workforce_scale=False)
def _naive(ctx: BenchContext) -> float:
    mission_id, _ = ctx.rng.choice(ctx.missions)
    return timed(lambda: naive_candidates(ctx.url, mission_id, ctx.now))


# ---------------------------------------------------------------- the naive reference


def naive_candidates(url: str, mission_id: int, now: datetime) -> list[int]:
    """Matching the naive way, as the mission's establishment sees it: every volunteer loaded into pandas, rules and
    score applied in Python. Same rules and same order as core.staffing.matching, territorial pools included (the
    test suite checks it); only the speed differs."""
    import pandas as pd

    from core.places import reference
    from core.shared.config import get_settings
    from core.shared.distance import distance_dm
    from core.staffing.crisis import crisis_active
    from core.staffing.matching import LIVE, SOLICITATION_WINDOW_DAYS, load_mission_context, score_in_python
    from core.staffing.transitions import TURNED_DOWN

    with session_scope(url, read_only=True) as session:
        context = load_mission_context(session, mission_id=mission_id)
        crisis = crisis_active(session, ars_code=context.ars_code, profession_code=context.profession_code, now=now)
        connection = session.connection()
        people = pd.read_sql(sa.select(m.Professional.__table__), connection)
        proposals = pd.read_sql(sa.select(m.Proposal.professional_id, m.Proposal.mission_id, m.Proposal.state,
                                          m.Proposal.origin, m.Proposal.created_at), connection)
        rosters = pd.read_sql(sa.select(m.PoolRosterEntry.professional_id, m.PoolRosterEntry.pool_id,
                                        m.PoolRosterEntry.pool_only, m.PoolRosterEntry.released_at)
                              .where(m.PoolRosterEntry.state == "membre"), connection)
    if context.status != "open" or context.count == 0:
        return []
    today = paris_today(now)
    here = proposals[proposals.mission_id == mission_id]
    live = here[here.state.isin(LIVE)].set_index("professional_id")
    assigned_here = set(here[here.state == "affecte"].professional_id)  # in « affectations », not candidates
    turned_down = set(here[here.state.isin(TURNED_DOWN)].professional_id)  # never offered this mission again
    since = pd.Timestamp(now - timedelta(days=SOLICITATION_WINDOW_DAYS)).tz_convert(None)
    created = pd.to_datetime(proposals.created_at, utc=True).dt.tz_convert(None)
    recent = proposals[created >= since].groupby("professional_id").size()
    radius = get_settings().local_radius_km
    # Territorial pools: the mission's pool's roster ranks first; another pool's unreleased pool-only members are
    # hidden unless already linked to the mission.
    own_pool = rosters.pool_id == (context.pool_id if context.pool_id is not None else -1)
    on_roster = set(rosters[own_pool].professional_id)
    hidden = set(rosters[~own_pool & rosters.pool_only.astype(bool) & rosters.released_at.isna()].professional_id)
    kept: list[tuple[int, int, int]] = []
    for person in people.itertuples(index=False):
        values = person._asdict()
        if values["profession_code"] != context.profession_code:
            continue
        if context.vaccination and not (values["volunteer_vaccination"] and reference.is_eligible_vaccination(context.profession_code)):
            continue
        if (context.needs_vehicle and not values["has_vehicle"]) or (context.needs_weekend and not values["available_weekend"]):
            continue
        available_to = _as_date(values["available_to"])
        if available_to is not None and available_to < today:
            continue
        distance = distance_dm(values["lat"], values["lon"], context.lat, context.lon)
        if not _geography_ok(values, context, distance, radius):
            continue
        linked = values["id"] in live.index
        if not (linked if crisis else values["status"] == "disponible" or linked):
            continue
        if values["id"] in assigned_here or values["id"] in turned_down or (values["id"] in hidden and not linked):
            continue
        values["available_from"], values["available_to"] = _as_date(values["available_from"]), available_to
        values["availability_confirmed_at"] = _as_aware(values["availability_confirmed_at"])
        values["too_far_dm"] = None if pd.isna(values["too_far_dm"]) else int(values["too_far_dm"])
        score = score_in_python(context, values, int(recent.get(values["id"], 0)), now)
        kept.append((-int(values["id"] in on_roster), -score, values["id"]))
    return [identifier for *_, identifier in sorted(kept)]


def _geography_ok(values: dict[str, Any], context: Any, distance: int, radius: float) -> bool:
    mobility = values["mobility"]
    if mobility == "locale":
        return distance <= int(radius * 10)
    if mobility == "departementale":
        return values["department_code"] == context.department_code
    if mobility == "regionale":
        return values["ars_code"] == context.ars_code
    return values["ars_code"] == context.ars_code or context.pools_opened


def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if hasattr(value, "date") and not isinstance(value, date):
        return value.date()
    return value if isinstance(value, date) else None


def _as_aware(value: Any) -> datetime:
    import pandas as pd

    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()


# ---------------------------------------------------------------- running


def nearest_rank(ordered: list[float], share: float, *, empty: float = 0.0) -> float:
    """The percentile `share` of sorted values, by nearest rank (the bench's and the load test's p50 and p95)."""
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else empty


@dataclass
class Result:
    key: str
    label: str
    target_ms: float | None
    durations_ms: list[float]

    def percentile(self, share: float) -> float:
        return nearest_rank(sorted(self.durations_ms), share, empty=float("nan"))

    @property
    def ok(self) -> bool | None:
        return None if self.target_ms is None else self.percentile(0.95) <= self.target_ms

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "runs": len(self.durations_ms), "p50_ms": round(self.percentile(0.5), 1),
                "p95_ms": round(self.percentile(0.95), 1), "max_ms": round(max(self.durations_ms, default=0), 1),
                "target_p95_ms": self.target_ms, "ok": self.ok}


def dataset_sizes(url: str) -> dict[str, int]:
    with session_scope(url, read_only=True) as session:
        return {name: session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
                for name, model in (("volunteers", m.Professional), ("establishments", m.Establishment),
                                    ("missions", m.Mission), ("proposals", m.Proposal))}


def ensure_database(url: str, say: Callable[[str], None]) -> None:
    """A PostgreSQL bench database that does not exist yet is created (SQLite creates its file itself)."""
    target = sa.make_url(url)
    if not target.drivername.startswith("postgresql"):
        return
    engine = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": target.database})
            if not exists:
                say(f"Création de la base PostgreSQL « {target.database} »…")
                connection.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    finally:
        engine.dispose()


def prepare(url: str, scale: str, say: Callable[[str], None], *,
            sizes: dict[str, int] | None = None) -> dict[str, int]:
    """Reuse the data set of this scale when it is there, build it in an empty database otherwise (shared by
    the bench, the plans and the load test). `sizes` shrinks the set built (tests only); scale "current"
    takes the database as it is."""
    from ops.migrate import migrate
    from ops.seed_national import SCALES, ensure_regulators, seed_national

    ensure_database(url, say)
    migrate(url)
    found = dataset_sizes(url)
    wanted = {**SCALES[scale], **(sizes or {})} if scale in SCALES else dict.fromkeys(SCALES["national"], 0)
    if all(found[key] >= wanted[key] for key in wanted) and found["missions"]:
        ensure_regulators(url)
        say(f"Jeu de données réutilisé : {found}")
        return found
    built = scale if scale in SCALES else "national"  # an empty database gets the national set
    say(f"Construction du jeu « {built} » (une fois)…")
    say(str(seed_national(url, progress=say, sizes=sizes, scale=built)))
    return dataset_sizes(url)


def _samples(ctx: BenchContext) -> None:
    with session_scope(ctx.url, read_only=True) as session:
        ctx.missions = [tuple(row) for row in session.execute(
            sa.select(m.Mission.id, m.Mission.created_by).where(m.Mission.status == "open", m.Mission.count > 0))]
        ctx.establishments = [tuple(row) for row in session.execute(
            sa.select(m.Membership.establishment_id, sa.func.min(m.Membership.user_id))
            .group_by(m.Membership.establishment_id))]


def run_bench(url: str, *, scale: str = "national", runs: int | None = None, only: list[str] | None = None,
              say: Callable[[str], None] = print, seed: int = 7) -> dict[str, Any]:
    """Measure every registered operation; returns the JSON-ready report."""
    from core.shared.config import get_settings

    os.environ["RENFORT_DATABASE_URL"] = url  # the AppTest runs open the app on the same database
    get_settings.cache_clear()
    sizes = prepare(url, scale, say)
    ctx = BenchContext(url=url, rng=random.Random(seed), now=utcnow())
    _samples(ctx)
    refresh_snapshots(url, ctx.now, say)
    results: list[Result] = []
    for op in REGISTRY:
        if (only and op.key not in only) or (scale == "workforce" and not op.at_workforce_scale):
            continue
        count = runs or op.runs
        say(f"… {op.label} ({count} essais)")
        for _ in range(min(WARM_UP_RUNS, count) if op.warm_up else 1):
            op.run(ctx)  # warm-up: imports, connections, compiled-statement cache (steady state is measured)
        durations = [d * 1000 for d in (op.run(ctx) for _ in range(count)) if d is not None]
        results.append(Result(op.key, op.label, op.target_ms(scale), durations))
    export = measure_export(url, say, scale=scale) if not only or EXPORT_KEY in only else None
    return _report(url, sizes, results, export)


def _report(url: str, sizes: dict[str, int], results: list[Result],
            export: dict[str, Any] | None = None) -> dict[str, Any]:
    by_key = {r.key: r for r in results}
    ratio = None
    if "naive_candidates" in by_key and "candidates" in by_key:
        ratio = round(by_key["naive_candidates"].percentile(0.5) / by_key["candidates"].percentile(0.5), 1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "engine": sa.engine.make_url(url).get_backend_name(),
        "database": sa.engine.make_url(url).render_as_string(hide_password=True),
        "cpu_count": os.cpu_count(), "dataset": sizes, "measured_at": utcnow().isoformat(timespec="seconds"),
        "operations": {r.key: r.as_dict() for r in results},
        "naive_speedup": {"ratio": ratio, "target": 20, "ok": None if ratio is None else ratio >= 20},
        "peak_memory_mb": {"value": round(peak_mb), "target": 1024, "ok": peak_mb <= 1024},
        "export": export,
    }


def format_table(report: dict[str, Any]) -> str:
    """The French table printed at the end of a run."""
    lines = [f"Moteur : {report['engine']} — {report['cpu_count']} cœurs — jeu : "
             + ", ".join(f"{k} {v:,}".replace(",", " ") for k, v in report["dataset"].items()), ""]
    header = f"{'Opération':58} {'p50':>8} {'p95':>8} {'max':>8} {'cible':>8}  OK/KO"
    lines += [header, "-" * len(header)]
    for op in report["operations"].values():
        target = f"{op['target_p95_ms']:.0f}" if op["target_p95_ms"] else "—"
        verdict = "—" if op["ok"] is None else ("OK" if op["ok"] else "KO")
        lines.append(f"{op['label'][:58]:58} {op['p50_ms']:>8.1f} {op['p95_ms']:>8.1f} {op['max_ms']:>8.1f} "
                     f"{target:>8}  {verdict}")
    speedup, memory = report["naive_speedup"], report["peak_memory_mb"]
    if speedup["ratio"] is not None:
        lines.append(f"{'Gain SQL / naïf (p50)':58} {speedup['ratio']:>8.1f}x {'':>17} {'≥ 20x':>8}  "
                     f"{'OK' if speedup['ok'] else 'KO'}")
    lines.append(f"{'Mémoire maximale du processus (Mo)':58} {memory['value']:>8} {'':>17} {'1024':>8}  "
                 f"{'OK' if memory['ok'] else 'KO'}")
    export = report.get("export")
    if export:
        lines.append(f"{export['label'][:58]:58} {export['seconds'] * 1000:>8.0f} {'':>17} "
                     f"{export['target_seconds'] * 1000:>8}  {'OK' if export['time_ok'] else 'KO'}")
        lines.append(f"{'Mémoire maximale de cet export (Mo)':58} {export['peak_mb']:>8} {'':>17} "
                     f"{export['target_mb']:>8}  {'OK' if export['memory_ok'] else 'KO'}")
    return "\n".join(lines)


def write_json(report: dict[str, Any], path: str) -> None:
    Path(path).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def all_ok(report: dict[str, Any]) -> bool:
    verdicts = [op["ok"] for op in report["operations"].values()]
    verdicts += [report["naive_speedup"]["ok"], report["peak_memory_mb"]["ok"]]
    verdicts += [report["export"]["ok"]] if report.get("export") else []
    return all(v is not False for v in verdicts)


# ---------------------------------------------------------------- the export of the whole pool

EXPORT_KEY = "export"  # `--only export` runs this measurement alone
EXPORT_TARGET_S, EXPORT_TARGET_MB = 20, 500
# The whole workforce exceeds a sheet's 1,048,576 rows: its export is CSV, streamed to the file, within 5 minutes.
WORKFORCE_EXPORT_TARGET_S = 300


# The export command, then its own peak memory. Linux hands a child the peak of the process it was forked from
# (ru_maxrss, from os.wait4 or getrusage, keeps the high-water mark of the memory replaced at exec): a child of
# the bench, swollen by the data set and the AppTest runs, "used" 300 MB before exporting anything. VmHWM is
# the high-water mark of the child's own memory since its exec.
_EXPORT_CHILD = """
import sys
from ops.cli import main
code = main(sys.argv[1:])
status = open("/proc/self/status", encoding="ascii").read() if sys.platform == "linux" else ""
print(next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "-1"))
raise SystemExit(code)
"""


def measure_export(url: str, say: Callable[[str], None] = print, *, scale: str = "national") -> dict[str, Any]:
    """`python -m core export professionnels` of the whole pool (.xlsx, or CSV for the workforce; pseudonymised),
    run in a child process: its own wall time, CPU time and peak memory (the bench process's own peak would hide
    the export's)."""
    import subprocess
    import sys
    import tempfile

    suffix = "csv" if scale == "workforce" else "xlsx"
    target_seconds = WORKFORCE_EXPORT_TARGET_S if scale == "workforce" else EXPORT_TARGET_S
    say(f"… Export des volontaires (.{suffix}, processus séparé)")
    with tempfile.TemporaryDirectory() as folder:
        out, log = Path(folder) / f"professionnels.{suffix}", Path(folder) / "sortie.txt"
        with open(log, "w", encoding="utf-8") as output:
            started = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-c", _EXPORT_CHILD, "--db", url, "export", "professionnels",
                                      "--out", str(out)], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
        said = log.read_text(encoding="utf-8")
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"L'export a échoué (code {os.waitstatus_to_exitcode(status)}) : {said}")
        file_mb = out.stat().st_size / 1e6
    lines = said.split("\n")
    rows = int(lines[0].split()[0])  # « 100000 ligne(s) exportée(s) dans … »
    own_kb = int(lines[1])  # VmHWM; elsewhere than on Linux, the (inflated) figure of wait4
    peak_mb = (own_kb if own_kb >= 0 else usage.ru_maxrss) / 1024
    return {"label": f"Export de {rows} volontaires (.{suffix}, processus séparé)", "rows": rows,
            "seconds": round(seconds, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_mb": round(peak_mb), "file_mb": round(file_mb, 1), "target_seconds": target_seconds,
            "target_mb": EXPORT_TARGET_MB, "time_ok": seconds < target_seconds, "memory_ok": peak_mb < EXPORT_TARGET_MB,
            "ok": seconds < target_seconds and peak_mb < EXPORT_TARGET_MB}


# ---------------------------------------------------------------- query plans (docs/performance.md)


def explain_plans(url: str, seed: int = 7) -> str:
    """EXPLAIN ANALYZE of every statement that matching (1), the establishment dashboard and its
    assigned-staff list (3), the ARS region table and indicators (4) and the CCS national overview (5)
    send — PostgreSQL only. Builds the national set first when the database is empty (progress on
    stderr: stdout is the plans, pasted into docs/performance.md)."""
    if not url.startswith("postgresql"):
        return "Plans disponibles sur PostgreSQL seulement."
    import sys

    from core.figures.indicators import national_overview, region_indicators
    from core.staffing.matching import find_candidates
    from core.staffing.missions import assigned_staff, dashboard
    from core.staffing.regulation import region_missions

    prepare(url, "current", lambda text: print(text, file=sys.stderr))
    ctx = BenchContext(url=url, rng=random.Random(seed), now=utcnow())
    _samples(ctx)
    sections = []
    with session_scope(url, read_only=True) as session:
        # Any mission, but reproducible — one that still has candidates to rank, so that the plan shows the ranking.
        for mission_id, user_id in sorted(ctx.missions[:2000], key=lambda pair: -(pair[0] % 97))[:20]:
            actor = ctx.actor(session, user_id)
            if find_candidates(session, actor=actor, mission_id=mission_id, now=ctx.now).total:
                break
        for title, call in (
            ("(1) Candidats d'une mission",
             lambda: find_candidates(session, actor=actor, mission_id=mission_id, now=ctx.now)),
            ("(3) Tableau de bord d'un établissement",
             lambda: dashboard(session, actor=actor, establishment_id=actor.establishment_ids[0])),
            ("(3) Professionnels affectés d'un établissement",
             lambda: assigned_staff(session, actor=actor, establishment_id=actor.establishment_ids[0])),
            ("(4) Missions d'une région (ARS)",
             lambda: region_missions(session, actor=_national_actor(ctx, session), ars_code="11", now=ctx.now)),
            ("(4) Indicateurs d'une ARS",
             lambda: region_indicators(session, actor=_national_actor(ctx, session), ars_code="11", now=ctx.now)),
            ("(5) Vue nationale (CCS)",
             lambda: national_overview(session, actor=_national_actor(ctx, session), now=ctx.now)),
        ):
            statements = _captured(session, call)
            cursor = session.connection().connection.driver_connection.cursor()
            for number, (statement, parameters) in enumerate(statements, start=1):
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                sections.append(f"### {title} — requête {number}\n\n```\n{plan}\n```")
    return "\n\n".join(sections)


def _captured(session: Any, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return statements


# ---------------------------------------------------------------- regulation dashboards (core.figures.indicators)

_NATIONAL_ACTOR_KEY = -1  # ctx.actors key of the CCS actor used for the dashboards


def _national_actor(ctx: BenchContext, session: Any) -> SessionUser:
    """A CCS user of the data set if there is one, else a CCS actor built in memory (services read the role)."""
    if _NATIONAL_ACTOR_KEY not in ctx.actors:
        user_id = session.scalar(sa.select(m.User.id).where(m.User.role == "ccs").order_by(m.User.id).limit(1))
        ctx.actors[_NATIONAL_ACTOR_KEY] = ctx.actor(session, user_id) if user_id is not None else SessionUser(
            id=0, email="bench@ccs", first_name="Banc", last_name="CCS", role="ccs", ars_code=None,
            professional_id=None, establishment_ids=())
    return ctx.actors[_NATIONAL_ACTOR_KEY]


@operation("region_indicators", "Indicateurs d'une ARS", {"national": 200, "workforce": 300})
def _region_indicators(ctx: BenchContext) -> float:
    """A region's « Indicateurs » as the page opens them (the worker's snapshot, refreshed before measuring)."""
    from core.figures.indicators import opening_view, region_indicators

    filters, series_period = opening_view(ctx.now)
    with session_scope(ctx.url, read_only=True) as session:
        actor = _national_actor(ctx, session)
        ars_code = ctx.rng.choice(session.scalars(sa.select(m.Ars.code).order_by(m.Ars.code)).all())
        return timed(lambda: region_indicators(session, actor=actor, ars_code=ars_code, filters=filters,
                                               series_period=series_period, now=ctx.now))


@operation("region_indicators_live", "Indicateurs d'une ARS filtrés sur une profession (calculés à la demande)",
           None, runs=10)
def _region_indicators_live(ctx: BenchContext) -> float:
    from core.figures.indicators import IndicatorFilters, dashboard_period, region_indicators

    filters = IndicatorFilters(period=dashboard_period(ctx.now), profession_code="infirmier_de")
    with session_scope(ctx.url, read_only=True) as session:
        actor = _national_actor(ctx, session)
        ars_code = ctx.rng.choice(session.scalars(sa.select(m.Ars.code).order_by(m.Ars.code)).all())
        return timed(lambda: region_indicators(session, actor=actor, ars_code=ars_code, filters=filters,
                                               now=ctx.now))


@operation("national_overview", "Vue nationale du CCS", 300)
def _national_overview(ctx: BenchContext) -> float:
    """The view « Vue nationale » opens on, as the page asks for it: served from the worker's snapshot (refreshed
    before the measures, as the worker does at each pass)."""
    from core.figures.indicators import national_overview, opening_view

    filters, series_period = opening_view(ctx.now)
    with session_scope(ctx.url, read_only=True) as session:
        actor = _national_actor(ctx, session)
        return timed(lambda: national_overview(session, actor=actor, filters=filters, series_period=series_period,
                                               now=ctx.now))


@operation("national_overview_live", "Vue nationale filtrée sur une profession (calculée à la demande)", None,
           runs=10)
def _national_overview_live(ctx: BenchContext) -> float:
    from core.figures.indicators import IndicatorFilters, dashboard_period, national_overview

    filters = IndicatorFilters(period=dashboard_period(ctx.now), profession_code="infirmier_de")
    with session_scope(ctx.url, read_only=True) as session:
        actor = _national_actor(ctx, session)
        return timed(lambda: national_overview(session, actor=actor, filters=filters, now=ctx.now))


def refresh_snapshots(url: str, now: datetime, say: Callable[[str], None]) -> None:
    """What the worker does at its passes, done before measuring: the national and every region's figures."""
    from core.figures.indicators import refresh_figures

    with session_scope(url) as session:
        say(refresh_figures(session, now=now, regions_budget_seconds=float("inf")))


@operation("region_missions", "Missions d'une région : première page et total", {"national": 200, "workforce": 300})
def _region_missions(ctx: BenchContext) -> float:
    from core.staffing.regulation import region_missions

    with session_scope(ctx.url, read_only=True) as session:
        actor = _national_actor(ctx, session)
        ars_code = ctx.rng.choice(session.scalars(sa.select(m.Ars.code).order_by(m.Ars.code)).all())
        return timed(lambda: region_missions(session, actor=actor, ars_code=ars_code, now=ctx.now))


@operation("push", "Proposer un professionnel (ARS, une transaction)", 30)
def _push(ctx: BenchContext) -> float | None:
    from core.staffing.regulation import push

    picked = _free_candidate(ctx)
    if picked is None:
        return None
    mission_id, professional_id, _ = picked
    with session_scope(ctx.url, read_only=True) as session:
        ars_code = session.scalar(sa.select(m.Establishment.ars_code).join(
            m.Mission, m.Mission.establishment_id == m.Establishment.id).where(m.Mission.id == mission_id))
        ars_user = session.scalar(sa.select(m.User.id).where(m.User.role == "ars", m.User.ars_code == ars_code)
                                  .order_by(m.User.id).limit(1))
        actor = ctx.actor(session, ars_user) if ars_user else _national_actor(ctx, session)

    def act() -> None:
        with session_scope(ctx.url) as session:
            push(session, actor=actor, mission_id=mission_id, professional_ids=[professional_id], now=utcnow())

    return timed(act)


# ---------------------------------------------------------------- bulk import of establishments (issue 11 §4)

IMPORT_ROWS = 5_000  # « 5 000 lignes importées en moins de 60 s »


class _UndoImport(Exception):
    """Raised once the import has written everything, so that the national data set stays as it was."""


def _import_file(ctx: BenchContext, rows: int) -> bytes:
    """The ministry's template filled with `rows` new establishments spread over the mainland."""
    import io

    from openpyxl import load_workbook

    from core.access.establishment_import import import_template
    from core.places import reference
    from ops.seed import _with_luhn_key

    places = [p for p in reference.postal_codes() if p.department_code.isdigit() and len(p.department_code) == 2]
    agencies = reference.ars_names()
    workbook = load_workbook(io.BytesIO(import_template()))
    tag = f"{os.getpid()}-{time.time_ns()}"
    for n in range(rows):
        place = ctx.rng.choice(places)
        agency = agencies[reference.departements()[place.department_code].ars_code]
        workbook.worksheets[0].append([
            f"ARS {agency}", _with_luhn_key(place.department_code + f"{ctx.rng.randint(0, 999_999):06d}"),
            f"EHPAD du banc {n}", "Établissements et services sociaux d'accueil, hébergement, assistance, réadaptation",
            f"{n} rue du Banc", place.postal_code, place.commune, "Banc", "Essai", f"import-{tag}-{n}@bench.example.org",
            "02 40 12 34 56"])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


@operation("import_establishments", f"Import de {IMPORT_ROWS} établissements (modèle du ministère)", 60_000, runs=3,
           warm_up=False)
def _import_establishments(ctx: BenchContext) -> float:
    from core.access.establishment_import import import_establishments
    from core.shared.actor import COMMAND_LINE

    # The tests' tiny data set (tests/services/test_bench.py) runs the same code on a small file.
    content = _import_file(ctx, IMPORT_ROWS if len(ctx.establishments) >= 1_000 else 50)

    def act() -> None:
        try:
            with session_scope(ctx.url) as session:
                import_establishments(session, actor=COMMAND_LINE, content=content, now=utcnow())
                raise _UndoImport  # every row is written (flushed): undone, as a commit would have kept it
        except _UndoImport:
            pass

    return timed(act)
