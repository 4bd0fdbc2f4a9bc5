"""The drill-down in Chromium (issue 13): the CCS clicks a department on the national map, opens it in « Missions
nationales », goes down to an establishment and one of its missions by ticking rows, comes back up by the
breadcrumbs, reloads the page and finds the same view. Screenshots 80-… at each step."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from core.figures.indicators import dashboard_period
from core.figures.national_missions import NationalFilters, national_breakdown, national_missions
from db.session import session_scope
from ops.seed import DEMO_PASSWORD
from tests.e2e.conftest import ROW_HEIGHT, next_frames, screenshot, sign_in, wait_for_charts, wait_idle
from tests.readers import user_at

pytestmark = pytest.mark.e2e
CCS = "ccs@example.org"
DEPARTMENT = "44"  # Loire-Atlantique: the demo's CHU de Nantes and EHPAD Les Glycines, always with open missions
CRUMB = "Loire-Atlantique (44)"
OPEN_LINK = "Ouvrir le département dans « Missions nationales »"


def _address(page) -> dict[str, str]:  # noqa: ANN001 - a Playwright page
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def _click_department_on_the_map(page, code: str, heading) -> None:  # noqa: ANN001
    """A click on a point inside the department's shape on the mainland map (found by asking the browser which
    element each point of the shape's box shows); again if the click landed while the page was still being
    redrawn and selected nothing."""
    for _ in range(3):
        wait_idle(page)
        point = page.evaluate("""code => {
            const plot = document.querySelectorAll('.js-plotly-plot')[0];
            const shape = [...plot.querySelectorAll('path.choroplethlocation')]
                .find(path => path.__data__ && path.__data__.loc === code);
            shape.scrollIntoView({block: 'center'});
            const box = shape.getBoundingClientRect();
            const fractions = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8];  // from the middle outwards
            for (const fy of fractions) {
                for (const fx of fractions) {
                    const x = box.left + box.width * fx, y = box.top + box.height * fy;
                    if (document.elementFromPoint(x, y) === shape) return {x, y};
                }
            }
            return {x: box.left + box.width / 2, y: box.top + box.height / 2};
        }""", code)
        page.mouse.move(point["x"], point["y"])
        page.mouse.click(point["x"], point["y"])
        wait_idle(page)
        try:
            heading.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    screenshot(page, "echec-clic-carte")
    raise AssertionError(f"le clic sur le département {code} n'a rien affiché")


def _open_row(page, index: int, shown) -> None:  # noqa: ANN001 - a Playwright page and locator
    """Tick a row of the page's first table, which opens it (the page goes one level down): conftest.tick_row
    checks that a tick held, but here the ticked table is gone once it worked. A tick swallowed by a redraw
    leaves the level as it was: tick again."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    for _ in range(3):
        wait_idle(page)
        expect(grid.locator('[role="row"]').nth(index + 1)).to_be_attached()
        grid.scroll_into_view_if_needed()
        next_frames(page)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + ROW_HEIGHT * (index + 1) + ROW_HEIGHT // 2)
        wait_idle(page)
        try:
            shown.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    screenshot(page, "echec-ouverture-ligne")
    raise AssertionError(f"la ligne {index + 1} du tableau n'a pas ouvert le niveau suivant")


def _expected(database_url: str) -> tuple[dict, dict]:
    """The department's first establishment (most unfilled posts) and its most urgent mission, as the services
    give them under the national page's default period."""
    period = dashboard_period()
    filters = NationalFilters(department_code=DEPARTMENT, period_start=period.start, period_end=period.end)
    actor = user_at(database_url, CCS)
    with session_scope(database_url, read_only=True) as session:
        establishment = national_breakdown(session, actor=actor, level="establishment", filters=filters).rows[0]
        mission = national_missions(session, actor=actor, filters=NationalFilters(
            establishment_id=establishment["code"], period_start=period.start, period_end=period.end), limit=1).rows[0]
    return establishment, mission


def _current(page, label: str):  # noqa: ANN001, ANN202 - the breadcrumb of the level shown (bold, not a link)
    return page.locator('[data-testid="stMarkdownContainer"] strong', has_text=label)


def test_the_ccs_drills_down_from_the_map_to_a_mission_and_back_by_the_breadcrumbs(live_app, e2e_database,
                                                                                   page) -> None:
    establishment, mission = _expected(e2e_database)
    sign_in(page, live_app, CCS, DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Vue nationale")).to_have_count(1)
    wait_for_charts(page, 6)  # the mainland map and the overseas insets
    _click_department_on_the_map(page, DEPARTMENT, page.get_by_role("heading", name=f"Missions ouvertes — {CRUMB}"))
    screenshot(page, "80-vue-nationale-departement-clique")

    page.get_by_role("link", name=OPEN_LINK).click()
    expect(page.get_by_role("heading", name="Missions nationales")).to_be_visible()
    expect(_current(page, CRUMB)).to_be_visible()
    expect(page.get_by_role("heading", name="Établissements")).to_be_visible()
    wait_idle(page)
    period = dashboard_period()
    department_view = {"region": "52", "departement": DEPARTMENT, "du": period.start.isoformat(),
                       "au": period.end.isoformat()}
    assert _address(page) == department_view
    missions_shown = page.get_by_test_id("stMetric").filter(has_text="Missions ouvertes").inner_text()
    screenshot(page, "81-missions-nationales-departement")

    _open_row(page, 0, _current(page, establishment["name"]))  # the establishment with the most unfilled posts
    wait_idle(page)
    assert _address(page) == {**department_view, "etablissement": str(establishment["code"])}
    screenshot(page, "82-missions-nationales-etablissement")

    _open_row(page, 0, page.get_by_role("heading", name=f"{mission['profession']} — {establishment['name']}"))
    expect(_current(page, f"Mission n° {mission['id']}")).to_be_visible()
    expect(page.get_by_text(f"Urgence : {mission['urgency']} ({mission['urgency_label']})")).to_be_visible()
    wait_idle(page)
    assert _address(page)["mission"] == str(mission["id"])
    screenshot(page, "83-missions-nationales-mission")

    page.get_by_role("link", name=CRUMB).click()  # back up to the department, by its breadcrumb
    expect(_current(page, CRUMB)).to_be_visible()
    expect(page.get_by_role("heading", name="Établissements")).to_be_visible()
    wait_idle(page)
    assert _address(page) == department_view  # the period is kept on the way back
    screenshot(page, "84-retour-par-le-fil-d-ariane")

    page.reload()
    expect(page.get_by_role("heading", name="Missions nationales")).to_be_visible()
    expect(_current(page, CRUMB)).to_be_visible()
    expect(page.get_by_role("heading", name="Établissements")).to_be_visible()
    wait_idle(page)
    assert _address(page) == department_view
    assert page.get_by_test_id("stMetric").filter(has_text="Missions ouvertes").inner_text() == missions_shown
    shown_period = [re.sub(r"\D", "", page.get_by_role("group", name=f"Période — date de {end}").inner_text())
                    for end in ("début", "fin")]
    assert shown_period == [f"{period.start:%d%m%Y}", f"{period.end:%d%m%Y}"]  # the period field, restored too
    screenshot(page, "85-meme-vue-apres-rechargement")

    page.get_by_role("link", name="France").click()
    expect(_current(page, "France")).to_be_visible()
    expect(page.get_by_role("heading", name="Régions")).to_be_visible()
    wait_idle(page)
    assert _address(page) == {"du": period.start.isoformat(), "au": period.end.isoformat()}
