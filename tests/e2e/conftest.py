"""End-to-end fixtures: `streamlit run` on a free port, driven by Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

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


def _wait_healthy(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit s'est arrêté (code {process.returncode})")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().decode() == "ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit ne répond pas")


@pytest.fixture(scope="session")
def e2e_database(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> str:
    url = clone_sqlite(sqlite_template, tmp_path_factory.mktemp("e2e") / "e2e.db")
    seed_demo(url, seed=5, now=datetime.now(timezone.utc), establishments=60, volunteers=500, missions=100)
    return url


@pytest.fixture(scope="session")
def live_app(e2e_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app served by `streamlit run`, on its own seeded database."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RENFORT_DATABASE_URL": e2e_database, "RENFORT_BASE_URL": base_url}
    log = open(tmp_path_factory.mktemp("logs") / "streamlit.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "ops.server", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(base_url, process)
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


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script (never 'networkidle': the socket stays open)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=20_000)
    # Elements of the previous run stay (marked stale) until the new run replaces them.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=20_000)


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
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    # Signing in hashes a password with bcrypt and draws a whole page: on a loaded machine it has taken over 30 s.
    page.get_by_role("button", name="Se déconnecter").wait_for(timeout=90_000)
    wait_idle(page)
    wait_for_session_cookie(page)


def wait_for_session_cookie(page) -> None:
    """The cookie is written by a component in the browser a moment after the page is drawn: a test that
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


def tick_row(page, index: int, table: int = 0) -> None:
    """Tick the selection checkbox of a row of an st.dataframe (drawn on a canvas: clicked by position)."""
    grid = page.locator('[data-testid="stDataFrame"]').nth(table)
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + ROW_HEIGHT * (index + 1) + ROW_HEIGHT // 2)
    wait_idle(page)


def grid_cells(page, text: str):  # noqa: ANN201 - a Playwright locator
    """The cells of the page's tables showing this text (their accessible copy is in the DOM); use with
    expect(...).to_have_count(n), which waits for a table that is being redrawn."""
    return page.locator('[data-testid="stDataFrame"] [role="gridcell"]', has_text=text)
