"""`python -m core bench --browser`: how long a person waits for a screen, measured in Chromium on the demo data.

The app is served by `python -m ops.server` (as `make run` and the browser tests do) on a fresh demo database,
and Debian's Chromium is driven by Playwright (locale fr-FR). Each measure runs from the person's action — the
click on « Se connecter », on a page of the menu — to the content being shown: the page's heading, its map,
charts or table drawn, and its script run over (the page's WebSocket has said `script_finished` after the
action's rerun request, no element is still marked stale). Figures: median and maximum over a few runs,
printed as a French Markdown table for docs/performance.md (« Dans le navigateur »), not checked against a
target: a timed test would fail on a loaded machine for reasons that are not the app's.

The browser tests' helpers cannot be imported from ops (the architecture test forbids ops → tests); both follow
the script runs with ops.script_runs.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.shared.clock import utcnow
from core.shared.config import ROOT
from ops.script_runs import ScriptRuns
from ops.seed import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
DEFAULT_RUNS = 5
TARGET_MS = 2000  # issue 13: each screen shows its content in under 2 s
TIMEOUT_S = 120  # one measure given up after this (a broken page, not a slow one)
POLL_MS = 25  # how often the end condition is looked at: the resolution of a measure


# ---------------------------------------------------------------- what « shown » means for each screen


@dataclass(frozen=True)
class Content:
    """What must be drawn for a screen to count as shown."""

    heading: str
    table: bool = False  # an st.dataframe with its cells
    charts: int = 0  # at least this many plotly charts, every one laid out
    map: bool = False  # the candidate map drawn
    candidates_or_notice: bool = False  # the candidates' map and table, or the notice saying why there are none

    def as_js(self) -> dict[str, Any]:
        return {"heading": self.heading, "table": self.table, "charts": self.charts, "map": self.map,
                "either": self.candidates_or_notice}


SHOWN_JS = """spec => {
  const headings = [...document.querySelectorAll('h1')].map(h => h.textContent.trim());
  if (!headings.some(text => text.startsWith(spec.heading))) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  if (spec.table && !document.querySelector('[data-testid="stDataFrame"] [role="gridcell"]')) return false;
  if (spec.charts) {
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    if (plots.length < spec.charts || !plots.every(p => p._fullLayout && p.querySelector('.main-svg'))) return false;
  }
  // The candidate map: SVG (plotly's geo, its points drawn), or pydeck's canvas laid out when tiles are configured.
  const mapDrawn = () => !!document.querySelector('.js-plotly-plot .scattergeo .point')
      || [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas')].some(c => c.width > 0 && c.height > 0);
  if (spec.map && !mapDrawn()) return false;
  if (spec.either && !(document.querySelector('[data-testid="stAlertContentInfo"]')
      || (mapDrawn() && document.querySelector('[data-testid="stDataFrame"] [role="gridcell"]')))) return false;
  return true;
}"""

# The script is over and idle, yet the sign-in form is still there: the click was swallowed by a redraw.
STILL_SIGNING_IN_JS = """() => !document.querySelector('[data-testid="stStatusWidget"], [data-stale="true"]')
  && [...document.querySelectorAll('h1')].some(h => h.textContent.trim().startsWith('Se connecter'))
  && !document.querySelector('[data-testid="stAlertContentError"]')"""

LANDINGS: dict[str, tuple[str, Content]] = {
    # role: (demo account, what its landing page shows once signed in)
    "etablissement": ("etablissement@example.org", Content("Tableau de bord", table=True)),
    "ars": ("ars.paysdelaloire@example.org", Content("Missions de la région", table=True)),
    "ccs": ("ccs@example.org", Content("Vue nationale", charts=3)),
    "ministere": ("ministere@example.org", Content("Vue nationale", charts=3)),
}
ROLE_NAMES = {"etablissement": "un établissement", "ars": "l'ARS Pays de la Loire", "ccs": "le CCS",
              "ministere": "le ministère"}
NATIONAL = Content("Vue nationale", charts=3)
CHOOSE = Content("Choisir des renforts", table=True, map=True)
# Opened from the menu, the page shows the list's first mission: its candidates, or why there are none.
CHOOSE_OPENED = Content("Choisir des renforts", candidates_or_notice=True)


# ---------------------------------------------------------------- following the page's script runs


@dataclass
class Tab:
    """A browser context (its own cookies) and its page, with the script runs of that page."""

    context: Any
    page: Any
    runs: ScriptRuns
    script_seconds: float = 0.0  # of the latest measure: until the page's last script run had finished

    def idle(self) -> None:
        """Until no run is pending nor being drawn (used between measures, never inside one)."""
        deadline = time.monotonic() + TIMEOUT_S
        self.page.wait_for_timeout(300)  # lets a rerun request just sent by the browser be seen first
        while self.runs.asked > self.runs.finished or self.page.evaluate(
                "() => !!document.querySelector('[data-testid=\"stStatusWidget\"], [data-stale=\"true\"]')"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"la page tourne encore après {TIMEOUT_S} s")
            self.page.wait_for_timeout(50)

    def timed(self, action: Callable[[], None], content: Content) -> float:
        """Seconds from the action to its content shown (heading, drawings, script over)."""
        tick = self.runs.now()
        started = time.perf_counter()
        action()
        deadline = started + TIMEOUT_S
        spec = content.as_js()
        over = False
        while not (over and self.page.evaluate(SHOWN_JS, spec)):
            if self.runs.over_since(tick) and not over:  # the server's part ends; the browser may still draw
                self.script_seconds = time.perf_counter() - started
            over = self.runs.over_since(tick)
            if over and self.page.evaluate(STILL_SIGNING_IN_JS):
                raise SwallowedClick()
            if time.perf_counter() > deadline:
                self.page.screenshot(path=str(Path(tempfile.gettempdir()) / "bench-navigateur-echec.png"))
                raise RuntimeError(f"« {content.heading} » n'est pas affiché après {TIMEOUT_S} s "
                                   f"(capture : {tempfile.gettempdir()}/bench-navigateur-echec.png)")
            self.page.wait_for_timeout(POLL_MS)  # Playwright hands over the socket's frames meanwhile
        return time.perf_counter() - started

    def menu_click(self, title: str) -> Callable[[], None]:
        link = self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True)
        return link.click

    def open(self, title: str, content: Content) -> None:
        """Open a page of the menu, untimed (the starting point of the next measure)."""
        self.timed(self.menu_click(title), content)
        self.idle()


def new_tab(browser: Any) -> Tab:
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_S * 1000)
    runs = ScriptRuns()
    page.on("websocket", runs.watch)
    return Tab(context, page, runs)


def timed_sign_in(tab: Tab, base_url: str, email: str, content: Content) -> float:
    """The person opens the sign-in page and types their address and password; timed from the click on « Se
    connecter ». A click swallowed by a redraw (the form still there, idle) is not a slow sign-in: that visit
    is made again, unmeasured."""
    for _ in range(3):
        tab.context.clear_cookies()  # signed out: a visitor who comes back (the browser's cache is kept)
        tab.runs.runs_finished = 0
        tab.page.goto(f"{base_url}/connexion")
        _form_ready(tab)
        tab.page.get_by_label("Adresse électronique").fill(email)
        tab.page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
        try:
            seconds = tab.timed(tab.page.get_by_role("button", name="Se connecter").click, content)
        except SwallowedClick:
            continue
        tab.idle()
        return seconds
    raise RuntimeError(f"connexion de {email} impossible : le formulaire est resté affiché trois fois")


def signed_in_tab(browser: Any, base_url: str, email: str) -> Tab:
    tab = new_tab(browser)
    timed_sign_in(tab, base_url, email, LANDINGS_BY_EMAIL[email])
    return tab


class SwallowedClick(RuntimeError):
    """The page ran again and is idle, still showing the form the click was meant to submit."""


def _form_ready(tab: Tab, timeout_s: float = 15) -> None:
    """The sign-in form drawn and its run over: a submission sent during a run may be lost with the redraw."""
    tab.page.get_by_role("button", name="Se connecter").wait_for()
    deadline = time.monotonic() + timeout_s
    while tab.runs.runs_finished < 1 and time.monotonic() < deadline:
        tab.page.wait_for_timeout(50)
    tab.idle()


# ---------------------------------------------------------------- the app on a fresh demo database


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_database(folder: Path, say: Callable[[str], None]) -> str:
    from ops.migrate import migrate
    from ops.seed import seed_demo

    url = f"sqlite:///{folder / 'demo.db'}"
    migrate(url)
    say(seed_demo(url))
    return url


@contextmanager
def served_app(database_url: str, log_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The real app, `python -m ops.server`, on its own port; its address while the block runs."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RENFORT_DATABASE_URL": database_url, "RENFORT_BASE_URL": base_url, **(extra_env or {})}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.server", "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=15)


def _wait_healthy(base_url: str, process: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"le serveur s'est arrêté (code {process.returncode}) : "
                               f"{log_path.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:
                if answer.read().decode() == "ok":
                    return
        except OSError:
            time.sleep(0.3)  # a server starting: retry interval
    raise RuntimeError(f"le serveur ne répond pas après {timeout:.0f} s")


@contextmanager
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"Chromium absent ({CHROMIUM}) : apt-get install -y chromium (jamais playwright install)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# ---------------------------------------------------------------- the screens measured


@dataclass
class Measure:
    key: str
    label: str
    durations_ms: list[float] = field(default_factory=list)
    script_ms: list[float] = field(default_factory=list)  # of each run: until the server's script runs were over
    first_visit_ms: float | None = None  # a browser with an empty cache (landings only), apart from the runs

    def add(self, tab: Tab, seconds: float) -> None:
        self.durations_ms.append(seconds * 1000)
        self.script_ms.append(tab.script_seconds * 1000)

    def as_dict(self) -> dict[str, Any]:
        values = self.durations_ms
        first = None if self.first_visit_ms is None else round(self.first_visit_ms)
        return {"label": self.label, "runs": len(values), "median_ms": round(statistics.median(values)),
                "first_visit_ms": first, "script_median_ms": round(statistics.median(self.script_ms)),
                "max_ms": round(max(values)), "all_ms": [round(v) for v in values],
                "under_target": max(values) <= TARGET_MS}


def _landings(browser: Any, base_url: str, runs: int, say: Callable[[str], None]) -> list[Measure]:
    """Each role signs in `runs` + 1 times in one browser: the first time with an empty cache (Streamlit's
    scripts for tables, charts and maps are downloaded and compiled then), the others as someone who comes back."""
    measures = []
    for role, (email, content) in LANDINGS.items():
        measure = Measure(f"landing_{role}", f"Arrivée après connexion — {ROLE_NAMES[role]} (« {content.heading} »)")
        tab = new_tab(browser)
        try:
            measure.first_visit_ms = timed_sign_in(tab, base_url, email, content) * 1000
            for _ in range(runs):
                measure.add(tab, timed_sign_in(tab, base_url, email, content))
        finally:
            tab.context.close()
        say(f"… {measure.label} : {_brief(measure)}")
        measures.append(measure)
    return measures


def _page_opens(browser: Any, base_url: str, key: str, label: str, email: str, start: tuple[str, Content],
                title: str, content: Content, runs: int, say: Callable[[str], None]) -> Measure:
    """A signed-in person goes from one page of the menu to the measured one, `runs` times."""
    measure = Measure(key, label)
    tab = signed_in_tab(browser, base_url, email)
    try:
        for _ in range(runs):
            tab.open(*start)
            measure.add(tab, tab.timed(tab.menu_click(title), content))
            tab.idle()
    finally:
        tab.context.close()
    say(f"… {measure.label} : {_brief(measure)}")
    return measure


LANDINGS_BY_EMAIL = {email: content for email, content in LANDINGS.values()}


def _national(browser: Any, base_url: str, runs: int, say: Callable[[str], None], suffix: str = "") -> Measure:
    return _page_opens(browser, base_url, "national" + ("_recomputed" if suffix else ""),
                       f"« Vue nationale » depuis « Alertes des ARS » — le CCS{suffix}", "ccs@example.org",
                       ("Alertes des ARS", Content("Alertes des ARS")), "Vue nationale", NATIONAL, runs, say)


def _choose_from_menu(browser: Any, base_url: str, runs: int, say: Callable[[str], None]) -> Measure:
    return _page_opens(browser, base_url, "choose_menu", "« Choisir des renforts » depuis « Tableau de bord » — un "
                       "établissement (la première mission de la liste)", "etablissement@example.org",
                       ("Tableau de bord", LANDINGS["etablissement"][1]), "Choisir des renforts", CHOOSE_OPENED,
                       runs, say)


def _choose_a_mission(browser: Any, base_url: str, database_url: str, runs: int,
                      say: Callable[[str], None]) -> Measure:
    """On « Choisir des renforts », the person picks a mission in the selector: timed from the click on the
    mission to its map and ranked candidates drawn. Two missions with candidates, in turn: each pick changes."""
    labels = missions_with_candidates(database_url)
    measure = Measure("choose_mission", "« Choisir des renforts » — un établissement choisit une mission (carte et "
                                        "candidats)")
    tab = signed_in_tab(browser, base_url, "etablissement@example.org")
    try:
        tab.open("Choisir des renforts", CHOOSE_OPENED)
        # Each pick must change the mission (picking the one shown runs nothing): start with the other one.
        shown = tab.page.get_by_label("Mission", exact=True).input_value()
        order = labels[::-1] if labels[0] == shown else labels
        for run in range(runs):
            measure.add(tab, tab.timed(mission_option(tab, order[run % 2]), CHOOSE))
            tab.idle()
    finally:
        tab.context.close()
    say(f"… {measure.label} : {_brief(measure)}")
    return measure


def missions_with_candidates(database_url: str, wanted: int = 2) -> list[str]:
    """The selector's labels of the demo establishment's first open missions that have candidates to show (a
    mission may have nobody near enough: its page would have no map to wait for)."""
    import sqlalchemy as sa

    from core.shared.actions import Action
    from core.shared.actor import to_session_user
    from core.staffing.matching import find_candidates
    from core.staffing.missions import dashboard
    from db import models as m
    from db.session import session_scope

    labels: list[str] = []
    with session_scope(database_url, read_only=True) as session:
        user = session.scalar(sa.select(m.User).where(m.User.email == "etablissement@example.org"))
        actor = to_session_user(session, user=user)
        rows = dashboard(session, actor=actor, establishment_id=actor.establishment_ids[0], statuses=("open",))
        for row in (r for r in rows if Action.CHOOSE in r["actions"]):
            if len(labels) < wanted and find_candidates(session, actor=actor, mission_id=row["id"]).total:
                labels.append(f"{row['profession']} — {row['start_date']:%d/%m/%Y} au {row['end_date']:%d/%m/%Y} — "
                              f"POURVUE {row['assigned']}/{row['count']}")  # as pages/choose.py words it
    if len(labels) < wanted:
        raise RuntimeError(f"il faut {wanted} missions ouvertes avec des candidats à l'établissement de démonstration "
                           f"(trouvées : {len(labels)})")
    return labels


def mission_option(tab: Tab, label: str) -> Callable[[], None]:
    """Open the selector « Mission » and filter its list (untimed); returns the click on the mission's option."""
    tab.page.get_by_label("Mission", exact=True).click()
    tab.page.keyboard.type(label.split(" — ")[1])  # the list's filter does not match across « — »: the dates
    return tab.page.get_by_role("option", name=label, exact=True).first.click


def _brief(measure: Measure) -> str:
    figures = measure.as_dict()
    return f"médiane {figures['median_ms']} ms, max {figures['max_ms']} ms ({', '.join(map(str, figures['all_ms']))})"


def _warm_up(browser: Any, base_url: str) -> None:
    """A server process imports pandas, plotly, pydeck and compiles its queries on its first runs: one untimed
    visit of each measured page first, so that the runs measure a server in service."""
    for email, _ in LANDINGS.values():
        tab = signed_in_tab(browser, base_url, email)
        if email == "etablissement@example.org":
            tab.open("Choisir des renforts", CHOOSE_OPENED)
        tab.context.close()


RECOMPUTED = " — chiffres recalculés (cache expiré)"


def run_browser_bench(url: str | None = None, *, runs: int = DEFAULT_RUNS,
                      say: Callable[[str], None] = print) -> dict[str, Any]:
    """Serve the app on the demo data (a fresh SQLite file unless `url` names a database) and time each screen.

    The national figures are shared for RENFORT_FIGURES_CACHE_SECONDS (60 s) by the readers of a role: most
    visits find them computed. A second server whose cache lasts 1 s times what the first visitor of each
    minute waits (CCS landing and « Vue nationale » recomputing the figures)."""
    load_at_start = os.getloadavg()[0]  # other work on the machine slows the browser and the server alike
    with tempfile.TemporaryDirectory(prefix="renfort-bench-navigateur-") as folder:
        folder = Path(folder)
        if url is None:
            say("Base de démonstration neuve (migrate + seed --demo)…")
            url = demo_database(folder, say)
        measures: list[Measure] = []
        with chromium() as browser:
            with served_app(url, folder / "streamlit.log") as base_url:
                say(f"Application servie sur {base_url} ; mise en route (une visite non chronométrée par page)…")
                _warm_up(browser, base_url)
                measures += _landings(browser, base_url, runs, say)
                measures.append(_national(browser, base_url, runs, say))
                measures.append(_choose_from_menu(browser, base_url, runs, say))
                measures.append(_choose_a_mission(browser, base_url, url, runs, say))
            with served_app(url, folder / "streamlit-recalcul.log",
                            {"RENFORT_FIGURES_CACHE_SECONDS": "1"}) as base_url:
                say("Second serveur, cache des chiffres nationaux de 1 s…")
                _warm_up(browser, base_url)
                measures.append(_recomputed_landing(browser, base_url, runs, say))
                measures.append(_national(browser, base_url, runs, say, RECOMPUTED))
    return _report(measures, runs, load_at_start)


def _recomputed_landing(browser: Any, base_url: str, runs: int, say: Callable[[str], None]) -> Measure:
    email, content = LANDINGS["ccs"]
    measure = Measure("landing_ccs_recomputed", f"Arrivée après connexion — le CCS (« Vue nationale »){RECOMPUTED}")
    tab = signed_in_tab(browser, base_url, email)  # the browser's cache filled: only the figures are cold
    try:
        for _ in range(runs):
            time.sleep(1.1)  # the 1-second cache of this server has expired: the figures are computed again
            measure.add(tab, timed_sign_in(tab, base_url, email, content))
    finally:
        tab.context.close()
    say(f"… {measure.label} : {_brief(measure)}")
    return measure


def _report(measures: list[Measure], runs: int, load_at_start: float) -> dict[str, Any]:
    return {"measured_at": utcnow().isoformat(timespec="seconds"), "runs": runs, "target_ms": TARGET_MS,
            "load_average": [load_at_start, os.getloadavg()[0]],
            "machine": f"{os.cpu_count()} cœurs, {platform.system()} {platform.release()}, Python "
                       f"{platform.python_version()}, {_chromium_version()}",
            "screens": {m.key: m.as_dict() for m in measures}}


def _chromium_version() -> str:
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return "Chromium"


def format_markdown(report: dict[str, Any]) -> str:
    """The table pasted in docs/performance.md, section « Dans le navigateur »."""
    load = " → ".join(f"{value:.1f}".replace(".", ",") for value in report["load_average"])
    lines = [f"Mesuré le {report['measured_at'][:10]} — {report['machine']} — charge moyenne de la machine (1 min) "
             f"au début et à la fin : {load} — {report['runs']} essais par écran.", "",
             "| écran | médiane (s) | max (s) | essais (s) | dont script du serveur, médiane (s) "
             "| 1re visite, cache vide (s) | < 2 s |",
             "|---|---:|---:|---|---:|---:|---|"]
    for screen in report["screens"].values():
        each = " · ".join(_seconds(v) for v in screen["all_ms"])
        first = "—" if screen["first_visit_ms"] is None else _seconds(screen["first_visit_ms"])
        lines.append(f"| {screen['label']} | {_seconds(screen['median_ms'])} | {_seconds(screen['max_ms'])} | "
                     f"{each} | {_seconds(screen['script_median_ms'])} | {first} | "
                     f"{'oui' if screen['under_target'] else 'non'} |")
    return "\n".join(lines)


def _seconds(milliseconds: float) -> str:
    return f"{milliseconds / 1000:.2f}".replace(".", ",")
