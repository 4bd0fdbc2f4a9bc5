"""« Évolution de la tension » on « Vue nationale » and « Indicateurs », and the departments ranked beside the map
(AppTest on app.py, the small seeded demo: its seed took today's snapshot and rebuilt the past days).

The values shown are compared with what the services answer for the same scope; a day without figures is a gap
in the curves, never a made-up value."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.figures.indicators import IndicatorFilters, dashboard_period, national_overview
from core.figures.tension_history import tension_history
from core.shared.clock import paris_today
from db import models as m
from db.session import session_scope
from tests.readers import user_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import charts, metrics, plotly_array
from ui.format import fr_date, fr_int

CCS_USER, ARS_USER = "ccs@example.org", "ars.paysdelaloire@example.org"


def _history(url: str, email: str, **scope):  # noqa: ANN003, ANN202 - a TensionHistory
    with session_scope(url, read_only=True) as session:
        return tension_history(session, actor=user_at(url, email), **scope)


def _shown_unfilled(app: AppTest, day) -> str:  # noqa: ANN001 - a date
    return metrics(app)[f"Postes non pourvus au {fr_date(day)}"]


def _days(chart: dict) -> list[str]:
    return [value[:10] for value in plotly_array(chart["data"][0]["x"])]


def test_the_national_history_shows_the_latest_day_and_its_curves_by_day_then_by_week(app, demo_url) -> None:
    signed_in(app, CCS_USER, "ccs")
    open_page(app, "vue-nationale")
    assert not app.exception
    daily = _history(demo_url, CCS_USER)
    assert daily.latest.day == paris_today()
    assert _shown_unfilled(app, daily.latest.day) == fr_int(daily.latest.unfilled)
    posts = charts(app)["national_history_posts"]
    assert _days(posts) == [p.day.isoformat() for p in daily.points]
    unfilled = plotly_array(posts["data"][2]["y"])
    assert unfilled[-1] == daily.latest.unfilled and [None if v is None else int(v) for v in unfilled] == [
        p.unfilled for p in daily.points]

    app.radio(key="national_history_step").set_value("semaine").run()
    weekly = _history(demo_url, CCS_USER, step="semaine")
    assert _days(charts(app)["national_history_posts"]) == [p.day.isoformat() for p in weekly.points]

    app.selectbox(key="national_history_region").select("52").run()
    region = _history(demo_url, CCS_USER, ars_code="52", step="semaine")
    assert _shown_unfilled(app, region.latest.day) == fr_int(region.latest.unfilled) != fr_int(daily.latest.unfilled)


def test_a_day_without_figures_is_a_gap_and_the_page_says_so(app, demo_url) -> None:
    yesterday = paris_today() - timedelta(days=1)
    with session_scope(demo_url) as session:
        session.execute(sa.delete(m.TensionSnapshot).where(m.TensionSnapshot.day == yesterday))
        session.execute(sa.delete(m.TensionDay).where(m.TensionDay.day == yesterday))
    signed_in(app, CCS_USER, "ccs")
    open_page(app, "vue-nationale")
    posts = charts(app)["national_history_posts"]
    by_day = dict(zip(_days(posts), plotly_array(posts["data"][2]["y"]), strict=True))
    assert by_day[yesterday.isoformat()] is None and by_day[paris_today().isoformat()] is not None
    coverage = next(c.value for c in app.caption if c.value.startswith("Chiffres de fin de journée"))
    assert "1 jour(s) relevé(s)" in coverage and "jour(s) sans chiffres" in coverage
    assert "reconstitué(s) à partir des missions" in coverage  # the seed rebuilt the days before today
    # one recorded day is not a curve of tension: the page says when it will be one
    assert "national_history_tension" not in charts(app)
    assert any(f"le premier datant du {fr_date(paris_today())}" in info.value for info in app.info)


def test_the_departments_beside_the_map_are_ranked_by_tension(app, demo_url) -> None:
    signed_in(app, CCS_USER, "ccs")
    open_page(app, "vue-nationale")
    ranking = next(frame.value for frame in app.dataframe if "Postes" in frame.value.columns)
    with session_scope(demo_url, read_only=True) as session:
        overview = national_overview(session, actor=user_at(demo_url, CCS_USER),
                                     filters=IndicatorFilters(period=dashboard_period()))
    waiting = [d for d in overview.by_department if d.unfilled_posts]
    assert len(ranking) == len(waiting)
    # nobody available first, then the highest ratio
    first = max(waiting, key=lambda d: (d.tension is None, d.tension or 0, d.unfilled_posts))
    assert ranking["Département"].iloc[0] == f"{first.department_code} {first.department_name}"
    assert ranking["Postes"].sum() == sum(d.unfilled_posts for d in waiting)
    ratios = [d.tension for d in sorted(waiting, key=lambda d: (d.tension is not None, -(d.tension or 0)))]
    assert ranking["Tension"].tolist()[: len(ratios)] == [
        "sans volontaire" if r is None else f"{r:.2f}".replace(".", ",") for r in ratios]


def test_the_ars_reads_the_history_of_its_region_and_of_each_department(app, demo_url) -> None:
    signed_in(app, ARS_USER, "ars")
    open_page(app, "indicateurs")
    assert not app.exception
    region = _history(demo_url, ARS_USER, ars_code="52")
    assert _shown_unfilled(app, region.latest.day) == fr_int(region.latest.unfilled)
    departments = next(frame.value for frame in app.dataframe if "Non pourvus, 7 j" in frame.value.columns)
    expected = {f"{d.name} ({d.code})" for d in region.departments if d.unfilled}
    assert set(departments["Département"]) == expected
    assert expected and {d.code for d in region.departments} <= {"44", "49", "53", "72", "85"}
