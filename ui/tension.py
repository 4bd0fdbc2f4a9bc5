"""« Évolution de la tension » (issue 13): the series of core.figures.tension_history, drawn the same way on
« Vue nationale » (the country or a region) and « Indicateurs » (a region or a department)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.figures.tension_history import STEPS, TREND_DAYS, AreaTrend, Change, TensionHistory, TensionPoint
from ui.charts import BLUE, GREY, RED, french
from ui.format import fr_date, fr_int

DURATIONS = {28: "4 semaines", 56: "8 semaines", 91: "3 mois", 182: "6 mois"}
POST_SERIES = (("requested", "Postes demandés", BLUE), ("filled", "Postes pourvus", GREY),
               ("unfilled", "Postes non pourvus", RED))


def history_controls(key: str) -> tuple[str, int]:
    """The step (day or week) and the length of the series."""
    left, right = st.columns(2)
    step = left.radio("Pas", list(STEPS), format_func=STEPS.get, horizontal=True, key=f"{key}_step")
    days = right.selectbox("Durée", list(DURATIONS), index=1, format_func=DURATIONS.get, key=f"{key}_days",
                           placeholder="Choisissez une durée")
    return step, days


def tension_text(value: float | None, unfilled: int | None = None, short: bool = False) -> str:
    if value is None:
        return ("sans volontaire" if short else "aucun volontaire disponible") if unfilled else "–"
    return f"{value:.2f}".replace(".", ",")


def change_text(change: Change, decimals: int = 0) -> str:
    """« ↑ +3 », « ↓ −0,20 », « → 0 »; « – » when one of the two days is missing."""
    if change.value is None:
        return "–"
    number = f"{abs(change.value):.{decimals}f}".replace(".", ",")
    sign = "+" if change.value > 0 else "−" if change.value < 0 else ""
    return f"{change.arrow} {sign}{number}"


def render_history(history: TensionHistory, key: str) -> None:
    """Headline of the latest day with its change over 7 days, then the posts and the tension over time."""
    latest = history.latest
    if latest is None:
        st.info("Aucun relevé de tension pour ce territoire sur cette durée : le service de fond (« worker ») "
                "relève les chiffres chaque heure et reconstitue les jours passés à partir des missions.")
        return
    _headline(history, latest)
    frame = _frame(history.points)
    unit = "semaine" if history.step == "semaine" else "jour"
    st.plotly_chart(_posts_chart(frame, unit), width="stretch", key=f"{key}_posts")
    known = [p for p in history.points if p.tension is not None and not p.missing]
    if len(known) > 1:
        st.plotly_chart(_tension_chart(frame, unit), width="stretch", key=f"{key}_tension")
    else:  # one point is not a curve: say when it will be one
        st.info("La tension n'est connue que pour les jours relevés par le service de fond (les volontaires "
                "disponibles d'un jour passé ne sont pas conservés) : sa courbe se dessinera au fil des relevés"
                + (f", le premier datant du {fr_date(known[0].day)}." if known else "."))
    st.caption(_coverage_words(history))


def _headline(history: TensionHistory, latest: TensionPoint) -> None:
    columns = st.columns(3)
    # A rise is bad news here: deltas in red when they go up (delta_color="inverse").
    columns[0].metric(f"Postes non pourvus au {fr_date(latest.day)}", fr_int(latest.unfilled), border=True,
                      delta=_delta(history.unfilled_change, 0), delta_color="inverse")
    columns[1].metric("Tension (postes non pourvus par volontaire)", tension_text(latest.tension, latest.unfilled),
                      border=True, delta=_delta(history.tension_change, 2), delta_color="inverse")
    columns[2].metric("Postes pourvus / demandés", f"{fr_int(latest.filled)} / {fr_int(latest.requested)}",
                      border=True)


def _delta(change: Change, decimals: int) -> str | None:
    """st.metric draws the arrow and reads the direction from an ASCII sign."""
    if change.value is None:
        return None
    return f"{change.value:+.{decimals}f} en {TREND_DAYS} jours".replace(".", ",")


def _frame(points: Sequence[TensionPoint]) -> pd.DataFrame:
    return pd.DataFrame([{"Jour": p.day, "requested": p.requested, "filled": p.filled, "unfilled": p.unfilled,
                          "tension": p.tension, "rebuilt": p.rebuilt} for p in points])


def _hover_day(unit: str) -> str:
    return "Semaine du %{x|%d/%m/%Y}" if unit == "semaine" else "%{x|%d/%m/%Y}"


def _posts_chart(frame: pd.DataFrame, unit: str) -> go.Figure:
    figure = go.Figure()
    for column, label, colour in POST_SERIES:
        # None stays a gap (connectgaps off): a missing day is never drawn as a made-up value.
        figure.add_trace(go.Scatter(
            x=frame["Jour"], y=frame[column].astype("object"), name=label, mode="lines+markers",
            line={"color": colour}, connectgaps=False,
            marker={"symbol": ["circle-open" if rebuilt else "circle" for rebuilt in frame["rebuilt"]]},
            hovertemplate=f"{_hover_day(unit)}<br>{label} : %{{y:,}}<extra></extra>"))
    title = "Postes demandés, pourvus et non pourvus" + (" (fin de semaine)" if unit == "semaine" else "")
    figure.update_layout(title=title, xaxis_title=None, yaxis_title=None, hovermode="x unified")
    figure.update_xaxes(tickformat="%d/%m")
    return french(figure, height=320)


def _tension_chart(frame: pd.DataFrame, unit: str) -> go.Figure:
    figure = go.Figure(go.Scatter(
        x=frame["Jour"], y=frame["tension"].astype("object"), name="Tension", mode="lines+markers",
        line={"color": "#D94801"}, connectgaps=False,
        hovertemplate=f"{_hover_day(unit)}<br>Postes non pourvus par volontaire : %{{y:.2f}}<extra></extra>"))
    figure.update_layout(title="Tension : postes non pourvus par volontaire disponible", xaxis_title=None,
                         yaxis_title=None, showlegend=False)
    figure.update_xaxes(tickformat="%d/%m")
    figure.update_yaxes(rangemode="tozero")
    return french(figure, height=260)


def _coverage_words(history: TensionHistory) -> str:
    parts = [f"{history.recorded_days} jour(s) relevé(s)"]
    if history.rebuilt_days:
        parts.append(f"{history.rebuilt_days} jour(s) reconstitué(s) à partir des missions et des propositions "
                     "(points creux) : leurs volontaires disponibles ne sont pas connus, ni donc leur tension")
    if history.missing_days:
        parts.append(f"{history.missing_days} jour(s) sans chiffres (interruptions de la courbe)")
    return ("Chiffres de fin de journée ; une semaine prend ceux de son dernier jour connu. " if history.step == "semaine"
            else "Chiffres de fin de journée. ") + " ; ".join(parts) + "."


def trends_frame(trends: Sequence[AreaTrend], label: str, with_code: bool) -> pd.DataFrame:
    """Each area of the scope, the most tense first (posts waiting and nobody available before any ratio)."""
    rows = [t for t in trends if t.unfilled]
    rows.sort(key=lambda t: (t.tension is not None, -(t.tension or 0), -(t.unfilled or 0)))
    return pd.DataFrame([{
        label: f"{t.name} ({t.code})" if with_code else t.name,
        "Tension": tension_text(t.tension, t.unfilled),
        f"Tension, {TREND_DAYS} j": change_text(t.tension_change, 2),
        "Postes non pourvus": t.unfilled,
        f"Non pourvus, {TREND_DAYS} j": change_text(t.unfilled_change),
    } for t in rows])


def ranking_frame(departments: Sequence[tuple[str, str, int, float | None]],
                  trends: Sequence[AreaTrend]) -> pd.DataFrame:
    """Departments (code, name, unfilled posts, tension) with posts to fill, the most tense first, with the change
    of their tension over 7 days from the history. Four narrow columns: it sits beside the map."""
    by_code = {t.code: t for t in trends}
    rows = sorted((d for d in departments if d[2]), key=lambda d: (d[3] is not None, -(d[3] or 0), -d[2]))
    return pd.DataFrame([{
        "Département": f"{code} {name}", "Tension": tension_text(value, unfilled, short=True),
        f"{TREND_DAYS} j": change_text(by_code[code].tension_change, 2) if code in by_code else "–",
        "Postes": unfilled,
    } for code, name, unfilled, value in rows])
