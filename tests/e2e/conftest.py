"""End-to-end fixtures: `streamlit run` on a free port, driven by Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from ops.script_runs import ScriptRuns
from ops.seed import seed_demo
from tests.conftest import clone_sqlite, require
from ui.auth import COOKIE_NAME

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(base_url: str, process: subprocess.Popen, name: str = "streamlit", log: Path | None = None,
                 timeout: float = 60) -> None:
    """Until the app answers its health check at this address (directly, or through a proxy: `name`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            written = log.read_text(errors="replace") if log is not None and log.exists() else ""
            raise RuntimeError(f"{name} s'est arrêté (code {process.returncode}) {written}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    return
        except OSError:
            time.sleep(0.3)  # polling a server that is starting: a retry interval, not a wait on the page
    raise RuntimeError(f"{name} ne répond pas")


@pytest.fixture(scope="session")
def e2e_database(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> str:
    url = clone_sqlite(sqlite_template, tmp_path_factory.mktemp("e2e") / "e2e.db")
    seed_demo(url, seed=5, now=datetime.now(timezone.utc), establishments=60, volunteers=500, missions=100)
    return url


@pytest.fixture(scope="session")
def e2e_simulations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RENFORT_SIMULATION_DIR of the served app: empty until a test writes a report in it."""
    return tmp_path_factory.mktemp("simulations")


@pytest.fixture(scope="session")
def live_app(e2e_database: str, e2e_simulations: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app served by `streamlit run`, on its own seeded database."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RENFORT_DATABASE_URL": e2e_database, "RENFORT_BASE_URL": base_url,
           "RENFORT_SIMULATION_DIR": str(e2e_simulations)}
    log = open(tmp_path_factory.mktemp("logs") / "streamlit.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.server", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require(os.path.exists(CHROMIUM), f"Chromium absent ({CHROMIUM}) : `make test` l'installe avec apt-get")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Generous limits: on a 2-core machine running the bench beside the suite, a run has taken over 30 s.
ACTION_TIMEOUT_MS = 45_000
IDLE_TIMEOUT_S = 90
RERUN_NOTICE_MS = 300
# expect(...) assertions wait 5 s by default: a page still « Running… » on the loaded machine failed one of them
# (issue 12, « a suite that never flakes »). Every assertion waits as long as an action may.
expect.set_options(timeout=ACTION_TIMEOUT_MS)


RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def open_tab(browser):  # noqa: ANN001, ANN201 - Playwright Browser and (BrowserContext, Page)
    """A new browser context (its own cookies) and its page, whose script runs wait_idle follows."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    tab = context.new_page()
    runs = RUNS.setdefault(tab, ScriptRuns())
    tab.on("websocket", runs.watch)
    tab.set_default_timeout(ACTION_TIMEOUT_MS)
    return context, tab


@pytest.fixture
def page(browser) -> Iterator[object]:
    context, tab = open_tab(browser)
    yield tab
    context.close()


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script (never 'networkidle': the socket stays open)."""
    # The browser sends its rerun request from the event handler of the action just done; give that frame up to
    # RERUN_NOTICE_MS to be reported before asking whether a run is pending — no longer once a run is seen.
    runs = RUNS.get(page)
    noticed = time.monotonic() + RERUN_NOTICE_MS / 1000
    while not (runs is not None and runs.running) and time.monotonic() < noticed:
        page.wait_for_timeout(25)
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while runs is not None and runs.running:
        if time.monotonic() > deadline:
            raise AssertionError(f"le script de la page tourne encore après {IDLE_TIMEOUT_S} s")
        page.wait_for_timeout(50)  # polls; Playwright delivers the socket's frames meanwhile
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=IDLE_TIMEOUT_S * 1000)
    # Elements of the previous run stay (marked stale) until the new run replaces them.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=IDLE_TIMEOUT_S * 1000)


def screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main container, so grow the viewport to fit it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 6000)})
    next_frames(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def next_frames(page) -> None:
    """Two frames drawn by the browser: what a resize or a scroll needs before a screenshot or a click."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def wait_for_charts(page, count: int) -> None:
    """At least `count` plotly charts drawn (plotly sets _fullLayout once a figure is laid out)."""
    page.wait_for_function("n => { const plots = [...document.querySelectorAll('.js-plotly-plot')];"
                           " return plots.length >= n && plots.every(p => p._fullLayout && p.querySelector('.main-svg')); }",
                           arg=count, timeout=IDLE_TIMEOUT_S * 1000)
    next_frames(page)


def wait_for_map(page) -> None:
    """The page's candidate map has its points drawn (plotly's SVG geo, the map without tiles)."""
    page.wait_for_selector(".js-plotly-plot .scattergeo .point", state="attached", timeout=IDLE_TIMEOUT_S * 1000)
    next_frames(page)


def open_page(page, link: str, heading: str | None = None, attempts: int = 3) -> None:
    """Open a page from the sidebar menu and check that the app stayed there once idle.

    A rerun requested just before the click (a widget's) still carries the
    previous page and can bring the browser back to it: the ministry's « Exports » once landed on « Vue
    nationale » that way. Look at the address once the page is idle, and click again if it moved back.
    """
    link_element = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link, exact=True)
    shown = page.get_by_role("heading", name=heading or link)
    for attempt in range(1, attempts + 1):
        wait_idle(page)
        target = link_element.evaluate("a => a.href").split("?")[0]  # absolute, whatever the attribute says
        link_element.click()
        try:
            page.wait_for_url(lambda url, target=target: url.split("?")[0] == target, timeout=IDLE_TIMEOUT_S * 1000)
            expect(shown.first).to_be_visible()
            wait_idle(page)
            if page.url.split("?")[0] == target and shown.count():
                return
        except (PlaywrightTimeout, AssertionError):
            if attempt == attempts:
                screenshot(page, f"echec-ouverture-{link}")
                raise
    screenshot(page, f"echec-ouverture-{link}")
    raise AssertionError(f"la page « {link} » n'est pas restée ouverte (adresse : {page.url})")


def sign_in(page, base_url: str, email: str, password: str, attempts: int = 3) -> None:
    page.goto(f"{base_url}/connexion")
    signed_in = page.get_by_role("button", name="Se déconnecter")
    refused = page.locator('[data-testid="stAlertContentError"]')
    submit = page.get_by_role("button", name="Se connecter")
    for attempt in range(1, attempts + 1):
        _type_credentials(page, email, password)
        submit.click()
        # Signing in hashes a password with bcrypt and draws a whole page: on a loaded machine it has taken over
        # 30 s. A refusal (locked account, session rule…) shows an error instead: fail with its words.
        try:
            signed_in.or_(refused).first.wait_for(timeout=60_000)
            break
        except PlaywrightTimeout:
            wait_idle(page)
            if signed_in.count() or refused.count():
                break
            if not submit.count() or attempt == attempts:  # left the form yet not signed in: say what is shown
                screenshot(page, f"echec-connexion-{email}")
                raise
            # still on the form once the page is idle: the submission was swallowed by a redraw — again
    if not signed_in.count():
        screenshot(page, f"echec-connexion-{email}")
        raise AssertionError(f"connexion de {email} refusée : {' / '.join(refused.all_inner_texts())}")
    wait_idle(page)
    wait_for_session_cookie(page)


def _type_credentials(page, email: str, password: str) -> None:
    """Type once the page's run is over, and check what was typed: a form redrawn by a run may be submitted
    empty."""
    wait_idle(page)
    for field, value in ((page.get_by_label("Adresse électronique"), email),
                         (page.get_by_label("Mot de passe", exact=True), password)):
        field.fill(value)
        expect(field).to_have_value(value)


def wait_for_session_cookie(page) -> None:
    """The cookie is written by a script in the browser once the page is drawn: a test that
    opens another URL at once would otherwise arrive signed out."""
    page.wait_for_function(f"() => document.cookie.includes('{COOKIE_NAME}=')")


def choose(page, label: str, option: str, attempts: int = 4) -> None:
    """Pick an option of a Streamlit selectbox (or multiselect) by its label, and check that it held.

    A click that lands while the script is still re-running (a cold server is slow) can be undone by
    that run, or land on a row of a list being redrawn: check the shown value, and pick again if needed.
    """
    field = page.get_by_label(label, exact=True)
    widget = page.locator('[data-testid="stSelectbox"], [data-testid="stMultiSelect"]').filter(has=field).first
    for _ in range(attempts):
        wait_idle(page)
        field.click()
        # Typing opens the list and filters it (long lists are drawn in part only). The list's filter does
        # not match across the " — " separators: type the most distinctive part, the last one.
        page.keyboard.type(option.split(" — ")[-1])
        try:
            page.get_by_role("option", name=option, exact=True).click()
        except Exception:
            screenshot(page, f"echec-choix-{label.strip(' *')}")
            raise
        if widget.get_attribute("data-testid") == "stMultiSelect":
            page.keyboard.press("Escape")  # a multiselect keeps its list open over the page
        if _held(page, widget, field, option):
            return
    screenshot(page, f"echec-choix-{label.strip(' *')}")
    raise AssertionError(f"« {option} » n'est pas resté choisi dans « {label} »")


def _held(page, widget, field, option: str, checks: int = 4) -> bool:
    """The choice is still shown once the page is idle (a selectbox shows it in its input, a multiselect
    as a tag beside it)."""
    for _ in range(checks):
        wait_idle(page)
        if field.input_value() == option or option in widget.inner_text():
            return True
    return False


def type_in(page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")
    wait_idle(page)


ROW_HEIGHT = 35  # Streamlit's dataframe rows and header, in pixels


def tick_row(page, index: int, table: int = 0, attempts: int = 3) -> None:
    """Tick the selection checkbox of a row of an st.dataframe (drawn on a canvas: clicked by position), and check
    that it held: a click that lands while the grid is still being drawn is lost, so it is made again."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(table)
    row = grid.locator('[role="row"]').nth(index + 1)  # the grid's accessible copy: the header is row 0
    for _ in range(attempts):
        expect(row).to_be_attached()
        grid.scroll_into_view_if_needed()
        next_frames(page)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + ROW_HEIGHT * (index + 1) + ROW_HEIGHT // 2)
        wait_idle(page)
        if row.get_attribute("aria-selected") == "true":
            return
    raise AssertionError(f"la ligne {index + 1} du tableau n'a pas pu être cochée")


def grid_cells(page, text: str):  # noqa: ANN201 - a Playwright locator
    """The cells of the page's tables showing this text (their accessible copy is in the DOM); use with
    expect(...).to_have_count(n), which waits for a table that is being redrawn."""
    return page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text=text)


def contact_then_validate_first_candidate(page) -> None:
    """« Choisir des renforts »: the establishment contacts the first candidate of the table, then validates them —
    each step confirmed on screen and in the table."""
    tick_row(page, 0)
    page.get_by_role("button", name="Contacter (1)").click()
    expect(page.get_by_text("1 professionnel(s) contacté(s)")).to_be_visible()
    wait_idle(page)
    expect(grid_cells(page, "CONTACTÉ")).to_have_count(1)
    tick_row(page, 0)
    page.get_by_role("button", name="Valider les candidatures").click()
    expect(page.get_by_text("1 candidature(s) validée(s)")).to_be_visible()
    wait_idle(page)
