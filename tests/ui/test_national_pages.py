"""« Vue nationale », « Indicateurs » and the crisis switch-off, through the whole app (AppTest on app.py).

The default period covers the current and upcoming needs (core.figures.indicators.dashboard_period); a click on
the map (mainland or overseas inset) lists the department's missions under the page's filters; switching
crisis mode off for some professions asks for a confirmation. Expected values come from the services on
the same seeded demo the app reads.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.figures.indicators import (
    IndicatorFilters,
    Period,
    dashboard_period,
    national_overview,
    region_indicators,
)
from core.places import reference
from core.shared.clock import paris_today
from core.staffing.regulation import MissionFilters, crisis_state, region_missions, set_crisis_mode
from db import models as m
from db.session import session_scope
from tests.factories import make_establishment, make_mission
from tests.readers import user_at
from tests.ui.conftest import open_page, signed_in
from tests.ui.readers import button, charts, dialog_titles, metrics, plotly_array
from ui.format import fr_date, fr_int, fr_percent

ARS_USER = "ars.paysdelaloire@example.org"
CCS_USER = "ccs@example.org"
REGION = "52"
NURSE, CARER = "infirmier_de", "aide_soignant"
ROLES = {ARS_USER: "ars", CCS_USER: "ccs"}


# ---------------------------------------------------------------- helpers


def _add_mission(url: str, postal_code: str, *, starts_in: int, profession: str = NURSE, count: int = 3) -> int:
    """An open mission of a new establishment, created by the CCS account (the creator does not matter)."""
    with session_scope(url) as session:
        creator = session.scalar(sa.select(m.User).where(m.User.email == CCS_USER))
        start = paris_today() + timedelta(days=starts_in)
        mission = make_mission(session, make_establishment(session, postal_code), creator, profession_code=profession,
                               count=count, start_date=start, end_date=start + timedelta(days=10))
        return mission.id


def _open(app: AppTest, url_path: str, email: str) -> AppTest:
    signed_in(app, email, ROLES[email])
    open_page(app, url_path)
    assert not app.exception
    return app


def _click(app: AppTest, chart_key: str, code: str) -> AppTest:
    """A click on a department of a choropleth drawn with on_select (the state the browser sends back)."""
    app.session_state[chart_key] = {"selection": {"points": [{"location": code}], "point_indices": [], "box": [],
                                                  "lasso": []}}
    return app.run()


def _mission_lists(app: AppTest) -> list[str]:
    """The titles of the department mission lists shown (the page's other sections have subheaders too)."""
    return [s.value for s in app.subheader if s.value.startswith("Missions ouvertes")]


def _missions_frame(app: AppTest):  # noqa: ANN202 - a DataFrame
    """The department's mission list (the ranking of departments beside the map is a table too)."""
    return next(frame.value for frame in app.dataframe if "Établissement" in frame.value.columns)


def _national_headline(url: str, period: Period) -> dict[str, str]:
    with session_scope(url, read_only=True) as session:
        h = national_overview(session, actor=user_at(url, CCS_USER), filters=IndicatorFilters(period=period)).headline
    return {
        "Besoins ouverts": fr_int(h.open_missions), "Postes demandés": fr_int(h.posts_requested),
        "Postes pourvus": fr_int(h.posts_filled), "Taux de pourvoi": fr_percent(h.fill_rate),
        "Volontaires disponibles": fr_int(h.available_volunteers),
        "Demandes de compte en attente": fr_int(h.pending_account_requests),
        "Alertes des ARS ouvertes": fr_int(h.open_alerts),
    }


def _department_rows(url: str, code: str, ars_code: str, filters: MissionFilters) -> list[dict]:
    with session_scope(url, read_only=True) as session:
        return region_missions(session, actor=user_at(url, CCS_USER), ars_code=ars_code, filters=filters, limit=200).rows


def _crisis(url: str) -> tuple[bool, tuple[str, ...]]:
    with session_scope(url, read_only=True) as session:
        state = crisis_state(session, actor=user_at(url, ARS_USER), ars_code=REGION)
    return state.all_professions, state.professions


# ---------------------------------------------------------------- default period


def test_the_default_period_runs_from_30_days_ago_to_60_days_ahead() -> None:
    today = paris_today()
    assert dashboard_period() == Period(today - timedelta(days=29), today + timedelta(days=60))


def test_the_default_national_figures_count_a_mission_starting_in_20_days(app, demo_url) -> None:
    today = paris_today()
    last_30_days = Period(today - timedelta(days=29), today)
    before = _national_headline(demo_url, dashboard_period())
    old_default = _national_headline(demo_url, last_30_days)
    _add_mission(demo_url, "44000", starts_in=20, count=3)

    _open(app, "vue-nationale", CCS_USER)
    assert app.date_input(key="national_period").value == (dashboard_period().start, dashboard_period().end)
    shown = {label: value for label, value in metrics(app).items() if label in before}  # not the history's
    assert shown == _national_headline(demo_url, dashboard_period())
    # The new mission counts: one more open need, three more posts; a period ending today missed it.
    as_int = lambda text: int(text.replace("\u202f", "").replace("\xa0", "").replace(" ", ""))  # noqa: E731
    assert as_int(shown["Besoins ouverts"]) == as_int(before["Besoins ouverts"]) + 1
    assert as_int(shown["Postes demandés"]) == as_int(before["Postes demandés"]) + 3
    assert _national_headline(demo_url, last_30_days)["Besoins ouverts"] == old_default["Besoins ouverts"]
    assert as_int(shown["Besoins ouverts"]) > as_int(old_default["Besoins ouverts"])


def test_the_national_activity_series_stops_today(app, demo_url) -> None:
    _open(app, "vue-nationale", CCS_USER)
    series = charts(app)["national_series"]
    today = paris_today()
    days = sorted(plotly_array(series["data"][0]["x"]))
    assert days[0][:10] == (today - timedelta(days=29)).isoformat()
    assert days[-1][:10] == today.isoformat()
    assert series["layout"]["title"]["text"] == f"Activité du {fr_date(today - timedelta(days=29))} au {fr_date(today)}"


def test_charts_with_only_zeros_give_way_to_a_sentence(app) -> None:
    _open(app, "vue-nationale", CCS_USER)
    year = paris_today().year - 5  # long before the demo's missions (a date input goes back 10 years)
    app.date_input(key="national_period").set_value((date(year, 1, 1), date(year, 1, 31))).run()
    assert not app.exception
    assert metrics(app)["Besoins ouverts"] == "0"
    assert not {"national_regions", "national_professions", "national_series"} & set(charts(app))
    # (the tension history is not filtered by the period: its own notice is not one of these)
    assert [i.value for i in app.info if not i.value.startswith("La tension n'est connue")] == [
        "Aucun poste non pourvu pour ces filtres : aucun département n'est en tension.",
        "Aucun poste demandé pour ces filtres : pas de graphique par région.",
        "Aucun poste demandé pour ces filtres : pas de graphique par profession.",
        f"Aucune mission créée ni affectation du 01/01/{year} au 31/01/{year}.",
    ]
    future = paris_today() + timedelta(days=400)
    app.date_input(key="national_period").set_value((future, future + timedelta(days=5))).run()
    assert not app.exception
    assert "La période choisie est entièrement à venir : il n'y a pas encore d'activité à tracer." in [
        i.value for i in app.info]


def test_the_default_indicators_count_a_mission_starting_in_20_days(app, demo_url) -> None:
    def posts_requested() -> int:
        with session_scope(demo_url, read_only=True) as session:
            data = region_indicators(session, actor=user_at(demo_url, ARS_USER), ars_code=REGION,
                                     filters=IndicatorFilters(period=dashboard_period()))
        return sum(d.requested for d in data.posts_by_department)

    before = posts_requested()
    _add_mission(demo_url, "44000", starts_in=20, count=3)
    assert posts_requested() == before + 3
    _open(app, "indicateurs", ARS_USER)
    assert app.date_input(key="indicators_period").value == (dashboard_period().start, dashboard_period().end)
    assert metrics(app)["Postes demandés"] == fr_int(before + 3)
    series = charts(app)["indicators_series"]
    assert max(plotly_array(series["data"][0]["x"]))[:10] == paris_today().isoformat()


# ---------------------------------------------------------------- a click on the map


def test_the_department_missions_follow_the_profession_filter(app, demo_url) -> None:
    nurse = _add_mission(demo_url, "44000", starts_in=20, profession=NURSE)
    carer = _add_mission(demo_url, "44000", starts_in=20, profession=CARER)
    _open(app, "vue-nationale", CCS_USER)
    app.selectbox(key="national_profession").select(CARER).run()
    _click(app, "national_map", "44")
    assert not app.exception
    assert _mission_lists(app) == ["Missions ouvertes — Loire-Atlantique (44)"]
    period = dashboard_period()
    expected = _department_rows(demo_url, "44", REGION, MissionFilters(
        department_code="44", profession_code=CARER, period_start=period.start, period_end=period.end,
        unfilled_only=True))
    ids = [r["id"] for r in expected]
    assert carer in ids and nurse not in ids
    frame = _missions_frame(app)
    label = reference.profession_labels()[CARER]
    assert set(frame["Profession"]) == {label}
    assert frame["Établissement"].tolist() == [r["establishment"] for r in expected]
    assert next(c.value for c in app.caption if c.value.startswith("Missions à pourvoir")).startswith(
        f"Missions à pourvoir, les plus urgentes d'abord — {label}, dates "
        f"chevauchant la période du {fr_date(period.start)}")


def test_the_department_missions_follow_the_period_filter(app, demo_url) -> None:
    later = _add_mission(demo_url, "44000", starts_in=100)
    _open(app, "vue-nationale", CCS_USER)
    _click(app, "national_map", "44")
    assert later not in [r["id"] for r in _department_rows(demo_url, "44", REGION, MissionFilters(
        department_code="44", period_start=dashboard_period().start, period_end=dashboard_period().end,
        unfilled_only=True))]
    start = paris_today() + timedelta(days=95)
    app.date_input(key="national_period").set_value((start, start + timedelta(days=30))).run()
    _click(app, "national_map", "44")  # the figure changed: the browser sends the click again
    assert not app.exception
    expected = _department_rows(demo_url, "44", REGION, MissionFilters(
        department_code="44", period_start=start, period_end=start + timedelta(days=30), unfilled_only=True))
    assert later in [r["id"] for r in expected]
    assert _missions_frame(app)["Établissement"].tolist() == [r["establishment"] for r in expected]


def test_a_click_on_an_overseas_inset_opens_its_missions_and_the_latest_click_wins(app, demo_url) -> None:
    _add_mission(demo_url, "97400", starts_in=20)
    _open(app, "vue-nationale", CCS_USER)
    inset = next(c for c in app.get("plotly_chart") if c.proto.id.endswith("national_inset_974"))
    assert inset.proto.selection_mode  # drawn with on_select, like the mainland
    _click(app, "national_map", "44")
    assert _mission_lists(app) == ["Missions ouvertes — Loire-Atlantique (44)"]
    _click(app, "national_inset_974", "974")
    assert not app.exception
    assert _mission_lists(app) == ["Missions ouvertes — La Réunion (974)"]
    period = dashboard_period()
    expected = _department_rows(demo_url, "974", "04", MissionFilters(
        department_code="974", period_start=period.start, period_end=period.end, unfilled_only=True))
    assert expected
    assert _missions_frame(app)["Établissement"].tolist() == [r["establishment"] for r in expected]
    app.run()  # a rerun for another reason keeps the list of the latest click
    assert _mission_lists(app) == ["Missions ouvertes — La Réunion (974)"]
    _click(app, "national_map", "49")
    assert _mission_lists(app) == ["Missions ouvertes — Maine-et-Loire (49)"]


# ---------------------------------------------------------------- crisis switch-off


def test_switching_crisis_mode_off_for_some_professions_asks_for_a_confirmation(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        set_crisis_mode(session, actor=user_at(demo_url, ARS_USER), ars_code=REGION, enabled=True, professions=[NURSE, CARER])
    _open(app, "gestion-de-crise", ARS_USER)
    opening = "Désactiver pour ces professions…"
    assert button(app, opening).disabled  # nothing chosen yet
    app.multiselect(key="crisis_disable").set_value([NURSE]).run()
    button(app, opening).click().run()
    assert not app.exception
    assert dialog_titles(app) == ["Désactiver le mode gestion de crise"]
    assert {"Oui, désactiver", "Annuler"} <= {b.label for b in app.button}
    assert _crisis(demo_url) == (False, tuple(sorted((NURSE, CARER))))  # nothing happens before the answer

    # In the browser a dialog button reruns the dialog alone; AppTest reruns the page: press both buttons.
    button(app, opening).click()
    button(app, "Annuler").click().run()
    assert not app.exception
    assert dialog_titles(app) == []
    assert _crisis(demo_url) == (False, tuple(sorted((NURSE, CARER))))

    button(app, opening).click().run()
    button(app, opening).click()
    button(app, "Oui, désactiver").click().run()
    assert not app.exception
    assert _crisis(demo_url) == (False, (CARER,))
    assert [s.value for s in app.success] == [
        f"Mode gestion de crise désactivé pour {reference.profession_labels()[NURSE]}."]
