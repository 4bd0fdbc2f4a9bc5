"""Territorial pool coordinator: « Indicateurs de la plateforme » — posts asked by the member establishments, posts
filled (of which by the pool), absenteeism covered in days; per establishment and per profession."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.pools.coordination import PoolFigures, pool_indicators
from ui.actions import read
from ui.charts import posts_bars
from ui.format import fr_date, fr_int
from ui.pool_heading import pool_caption

PERIOD_HELP = ("Vide : depuis le démarrage de la plateforme. Une date : à partir de ce jour. Deux dates : entre elles. "
               "Une mission compte quand ses dates rencontrent la période, jamais avant le démarrage.")
COLUMNS = {"needs": "Postes demandés", "filled": "Postes pourvus", "by_pool": "dont proposés par la plateforme",
           "days": "Jours d'absentéisme couverts"}


def _frame(rows: list[dict], category: str, key: str) -> pd.DataFrame:
    return pd.DataFrame([{category: row[key], **{title: row[name] for name, title in COLUMNS.items()}}
                         for row in rows])


def _headline(figures: PoolFigures) -> None:
    columns = st.columns(4)
    for column, (name, title) in zip(columns, COLUMNS.items(), strict=True):
        column.metric(title[:1].upper() + title[1:], fr_int(figures.totals[name]))


def _breakdown(title: str, rows: list[dict], category: str, key: str) -> None:
    st.subheader(title)
    frame = _frame(rows, category, key)
    figure = posts_bars(frame, category, f"Postes demandés et pourvus par {category.lower()}", horizontal=True)
    # whole posts: ticks every post (or every few), never « 0,5 »
    figure.update_xaxes(dtick=max(1, round(frame["Postes demandés"].max() / 6)))
    st.plotly_chart(figure, key=f"pool_chart_{key}")
    st.dataframe(frame, hide_index=True, width="stretch")


def _period() -> tuple[date | None, date | None]:
    """« Période » : empty, since the pool's start; one date, from it on; two dates, between them."""
    left, _ = st.columns(2)
    chosen = left.date_input("Période", value=(), key="pool_indicators_period", format="DD/MM/YYYY",
                             help=PERIOD_HELP)
    return (chosen[0] if chosen else None), (chosen[1] if len(chosen) > 1 else None)


def _described(figures: PoolFigures) -> str:
    if figures.until is not None:
        return f"du {fr_date(figures.since)} au {fr_date(figures.until)}"
    if figures.since == figures.pool_start:
        return f"depuis le démarrage de la plateforme ({fr_date(figures.since)})"
    return f"depuis le {fr_date(figures.since)}"


def render() -> None:
    st.title("Indicateurs de la plateforme")
    pool_caption()
    start, end = _period()
    figures = read(pool_indicators, replica=True, start=start, end=end)  # counts that tolerate a second of lag
    if figures is None:
        return
    period = _described(figures)
    st.caption(f"Missions des établissements membres {period}, hors missions en attente de validation. Un poste "
               "pourvu compte l'affectation en cours ou terminée ; les jours d'absentéisme couverts sont, pour chaque "
               "affectation, les jours de sa mission dans la période.")
    if not figures.totals["needs"]:
        st.info(f"Aucune mission des établissements membres {period}.", icon=":material/monitoring:")
        return
    _headline(figures)
    _breakdown("Par établissement membre", figures.by_establishment, "Établissement", "establishment")
    _breakdown("Par profession", figures.by_profession, "Profession", "profession")
