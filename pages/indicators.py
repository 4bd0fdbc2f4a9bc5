"""ARS (its region), CCS and ministry: "Indicateurs" — the region and each of its departments."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.figures.indicators import (
    IndicatorFilters,
    Period,
    RegionIndicators,
    activity_period,
    dashboard_period,
    region_indicators,
)
from core.figures.tension_history import tension_history
from core.places import reference
from core.shared.permissions import is_read_only
from ui.actions import read
from ui.charts import BLUE, RED, all_zero, french, line, posts_bars, volunteers_heatmap
from ui.format import fr_date, fr_int, precomputed_caption
from ui.regions import region_choice, region_name
from ui.state import signed_in_user
from ui.tension import history_controls, render_history, trends_frame


def _filters(ars_code: str) -> IndicatorFilters:
    departments = {d.code: d.name for d in reference.departements().values() if d.ars_code == ars_code}
    labels = reference.profession_labels()
    # Open on the current and upcoming needs (see core.figures.indicators.dashboard_period): a period ending
    # today would leave out every need that has not started yet.
    default = dashboard_period()
    columns = st.columns(3)
    department = columns[0].selectbox("Département", [None, *departments], key="indicators_department",
                                      format_func=lambda c: "Toute la région" if c is None else f"{c} — {departments[c]}", placeholder="Toute la région")
    profession = columns[1].selectbox("Profession", [None, *labels], key="indicators_profession",
                                      format_func=lambda c: "Toutes" if c is None else labels[c], placeholder="Toutes")
    period = columns[2].date_input("Période", value=(default.start, default.end), key="indicators_period",
                                   format="DD/MM/YYYY",
                                   help="Par défaut, les 30 derniers jours et les 60 prochains : les besoins en "
                                        "cours et à venir. Une mission compte quand ses dates chevauchent la "
                                        "période ; la courbe des besoins ouverts s'arrête à aujourd'hui.")
    chosen = Period(period[0], period[-1]) if len(period) == 2 else None
    return IndicatorFilters(period=chosen, profession_code=profession, department_code=department)


def _delay(hours: float | None) -> str:
    if hours is None:
        return "–"
    days, rest = divmod(round(hours), 24)
    return f"{days} j {rest} h" if days else f"{rest} h"


def _headline(data: RegionIndicators) -> None:
    requested = sum(d.requested for d in data.posts_by_department)
    filled = sum(d.filled for d in data.posts_by_department)
    available = sum(a.volunteers for a in data.available_by_profession_and_department)
    columns = st.columns(4)
    columns[0].metric("Postes demandés", fr_int(requested), border=True)
    columns[1].metric("Postes pourvus", fr_int(filled), border=True)
    columns[2].metric("Volontaires disponibles", fr_int(available), border=True)
    columns[3].metric("Délai médian de pourvoi", _delay(data.median_time_to_fill_hours), border=True,
                      help="De la création d'une mission à sa première affectation (médiane).")


def _funnel(data: RegionIndicators) -> None:
    if not data.funnel:
        return
    totals = [sum(getattr(f, name) for f in data.funnel) for name in ("registered", "verified", "solicited", "assigned")]
    stages = ["Inscrits", "Vérifiés", "Sollicités (proposés ou contactés)", "Affectés"]
    figure = go.Figure(go.Funnel(y=stages, x=totals, textinfo="value+percent initial", marker={"color": BLUE}))
    figure.update_layout(title="Entonnoir : des inscrits aux affectés")
    st.subheader("Où les volontaires se perdent")
    left, right = st.columns([2, 3])
    left.plotly_chart(french(figure), width="stretch", key="indicators_funnel")
    right.dataframe(pd.DataFrame([
        {"Profession": f.label, "Inscrits": f.registered, "Vérifiés": f.verified, "Sollicités": f.solicited,
         "Affectés": f.assigned, "Taux d'affectation": f"{(f.assigned / f.registered * 100):.0f} %".replace(".", ",")
         if f.registered else "–"}
        for f in data.funnel if f.registered
    ]), hide_index=True, width="stretch")


def _charts(data: RegionIndicators, activity: Period | None) -> None:
    posts = pd.DataFrame([{"Département": f"{d.department_name} ({d.department_code})", "Postes demandés": d.requested,
                           "Postes pourvus": d.filled} for d in data.posts_by_department])
    series = pd.DataFrame([{"Jour": d.day, "Besoins ouverts": d.open_missions} for d in data.open_needs_over_time])
    left, right = st.columns(2)
    if all_zero(posts, ["Postes demandés", "Postes pourvus"]):
        left.info("Aucun poste demandé pour ces filtres : pas de graphique par département.")
    else:
        left.plotly_chart(posts_bars(posts, "Département", "Postes demandés et pourvus par département",
                                     horizontal=True),
                          width="stretch", key="indicators_posts")
    if activity is None:
        right.info("La période choisie est entièrement à venir : la courbe des besoins ouverts s'arrête à "
                   "aujourd'hui.")
    elif all_zero(series, ["Besoins ouverts"]):
        right.info(f"Aucun besoin ouvert du {fr_date(activity.start)} au {fr_date(activity.end)}.")
    else:
        right.plotly_chart(line(series, "Jour", ["Besoins ouverts"],
                                f"Besoins ouverts du {fr_date(activity.start)} au {fr_date(activity.end)}"),
                           width="stretch", key="indicators_series")
    needs = pd.DataFrame([{"Profession": n.label, "Postes": n.posts, "Missions": n.missions}
                          for n in data.needs_by_profession if n.posts])
    labels = reference.profession_labels()
    names = {d.code: d.name for d in reference.departements().values()}
    available = pd.DataFrame([{"Profession": labels.get(a.profession_code, a.profession_code),
                               "Département": names.get(a.department_code, a.department_code),
                               "Code": a.department_code, "Volontaires": a.volunteers}
                              for a in data.available_by_profession_and_department])
    left, right = st.columns(2)
    if needs.empty:
        left.info("Aucun besoin pour ces filtres : pas de graphique par profession.")
    else:
        figure = px.bar(needs.sort_values("Postes"), x="Postes", y="Profession", orientation="h",
                        title="Besoins par profession (postes)", color_discrete_sequence=[RED])
        figure.update_layout(xaxis_title=None, yaxis_title=None)
        left.plotly_chart(french(figure, height=max(360, 26 * len(needs))), width="stretch", key="indicators_needs")
    if all_zero(available, ["Volontaires"]):
        right.info("Aucun volontaire disponible pour ces filtres.")
    else:
        right.plotly_chart(volunteers_heatmap(available, "Volontaires disponibles par profession et département"),
                           width="stretch", key="indicators_available")


def _history(ars_code: str, filters: IndicatorFilters) -> None:
    """« Évolution de la tension » of the region (or of the chosen department), and each department's change."""
    st.subheader("Évolution de la tension")
    step, days = history_controls("indicators_history")
    history = read(tension_history, ars_code=ars_code, department_code=filters.department_code,
                   profession_code=filters.profession_code, days=days, step=step, replica=True)
    if history is None:
        return
    render_history(history, "indicators_history")
    departments = trends_frame(history.departments, "Département", with_code=True)
    if filters.department_code is None and not departments.empty:
        st.markdown("**Départements de la région, les plus en tension d'abord**")
        st.dataframe(departments, hide_index=True, width="stretch")


def render() -> None:
    user = signed_in_user()
    st.title("Indicateurs")
    ars_code = region_choice(user)
    filters = _filters(ars_code)
    activity = activity_period(filters.period) if filters.period else None
    # Indicators tolerate a second of lag: the replica's when there is one (RENFORT_DATABASE_READ_URL).
    data = read(region_indicators, ars_code=ars_code, filters=filters, series_period=activity, replica=True)
    if data is None:
        return
    scope = region_name(ars_code) if not filters.department_code else reference.departements()[filters.department_code].name
    st.caption(f"ARS {region_name(ars_code)} — {scope}" + (" — consultation seule" if is_read_only(user) else ""))
    if data.computed_at is not None:  # the worker's snapshot of the opening view
        st.caption(precomputed_caption(data.computed_at))
    if filters.period is None:  # a range being picked: the series falls back to the last 30 days
        activity = data.period
    _headline(data)
    _charts(data, activity)
    _history(ars_code, filters)
    _funnel(data)
