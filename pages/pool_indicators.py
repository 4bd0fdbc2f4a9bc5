"""Territorial pool coordinator: « Indicateurs de la plateforme » — posts asked by the member establishments, posts
filled (of which by the pool), absenteeism covered in days; per establishment and per profession."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.pools.coordination import PoolFigures, pool_indicators
from ui.actions import read
from ui.charts import posts_bars
from ui.format import fr_date, fr_int
from ui.pool_heading import pool_caption

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


def render() -> None:
    st.title("Indicateurs de la plateforme")
    pool_caption()
    figures = read(pool_indicators, replica=True)  # counts that tolerate a second of lag
    if figures is None:
        return
    st.caption(f"Missions des établissements membres depuis le démarrage de la plateforme ({fr_date(figures.since)}), "
               "hors missions en attente de validation. Un poste pourvu compte l'affectation en cours ou terminée ; "
               "les jours d'absentéisme couverts sont, pour chaque affectation, les jours de sa mission depuis le "
               "démarrage.")
    if not figures.totals["needs"]:
        st.info("Aucune mission des établissements membres depuis le démarrage de la plateforme.",
                icon=":material/monitoring:")
        return
    _headline(figures)
    _breakdown("Par établissement membre", figures.by_establishment, "Établissement", "establishment")
    _breakdown("Par profession", figures.by_profession, "Profession", "profession")
