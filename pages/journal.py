"""Admin, CCS, ARS: « Journal » — the audit trail, read-only, filtered, exportable."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.figures.journal import PAGE_SIZE, JournalFilters, export_journal, journal, journal_choices
from core.places import reference
from core.shared.audit import NATIONAL
from core.shared.clock import paris_datetime, paris_today
from core.shared.permissions import own_region
from ui.actions import read, run_action
from ui.downloads import prepared_download
from ui.labels import ROLE_LABELS
from ui.markdown import md
from ui.state import signed_in_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_DAYS = 30


def _region_filter(user) -> str:  # noqa: ANN001 - SessionUser
    if own_region(user):
        st.caption(f"Événements de la région {reference.ars_names()[own_region(user)]}.")
        return ""
    names = reference.ars_names()
    options = ["", NATIONAL, *sorted(names, key=names.get)]
    labels = {"": "Toutes", NATIONAL: "Sans région (national)", **{c: f"ARS {names[c]}" for c in names}}
    return st.selectbox("Région", options, format_func=labels.get, key="journal_region", placeholder="Choisissez dans la liste")


def _filters(user) -> JournalFilters:  # noqa: ANN001 - SessionUser
    choices = journal_choices()
    today = paris_today()
    left, middle, right = st.columns(3)
    who = left.text_input("Acteur (courriel ou nom)", key="journal_who")
    action = middle.selectbox("Action", ["", *choices["actions"]], key="journal_action",
                              format_func=lambda a: choices["actions"].get(a, "Toutes"), placeholder="Choisissez dans la liste")
    entity = right.selectbox("Objet", ["", *choices["entities"]], key="journal_entity",
                             format_func=lambda e: choices["entities"].get(e, "Tous"), placeholder="Choisissez dans la liste")
    left, right = st.columns(2)
    period = left.date_input("Période", value=(today - timedelta(days=DEFAULT_DAYS - 1), today), format="DD/MM/YYYY",
                             key="journal_period")
    with right:
        region = _region_filter(user)
    start, end = (period[0], period[-1]) if isinstance(period, tuple) and period else (None, None)
    return JournalFilters(who=who, action=action, entity=entity, start=start, end=end, ars_code=region)


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"Date": paris_datetime(r["at"]), "Acteur": r["actor"], "Rôle": ROLE_LABELS.get(r["role"], r["role"]),
         "Action": r["action_label"], "Objet": r["entity_label"], "N°": r["entity_id"] or "",
         "Avant → après": " → ".join(v for v in (r["before"], r["after"]) if v), "Région": r["region"],
         "Détails": r["details"]}
        for r in rows
    ])


def _export(filters: JournalFilters) -> bytes | None:
    return run_action(export_journal, filters=filters, on_error=lambda error: st.error(md(error.message))).value


def render() -> None:
    user = signed_in_user()
    st.title("Journal")
    st.caption("Toutes les actions enregistrées (qui, quoi, sur quel objet, quand) ; le journal ne contient aucune "
               "donnée personnelle et ne se modifie jamais.")
    filters = _filters(user)
    page = st.number_input("Page", min_value=1, value=1, step=1, key="journal_page")
    result = read(journal, filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if result is None:
        return
    if not result.rows:
        st.info("Aucun événement ne correspond à ces filtres.", icon=":material/info:")
        return
    first = (page - 1) * PAGE_SIZE + 1
    st.caption(f"Événements {first} à {first + len(result.rows) - 1} sur {result.total}, les plus récents d'abord.")
    st.dataframe(_frame(result.rows), hide_index=True, width="stretch")
    prepared_download(key=f"journal_export_{filters!r}", label="Télécharger le journal (.xlsx)",
                      file_name=f"journal-{paris_today():%Y-%m-%d}.xlsx", mime=XLSX,
                      build=lambda: _export(filters), prepare_label=f"Préparer l'export ({result.total} événements)")
