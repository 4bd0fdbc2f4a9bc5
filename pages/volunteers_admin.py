"""Admin: « Volontaires » — find a volunteer of any region by name or e-mail, open their sheet (identity and
contact, no document) and make them unavailable (DESIGN §3)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.staffing.regulation import ProfessionalFilters, region_professionals
from ui.actions import read
from ui.format import fr_int
from ui.labels import PROFESSIONAL_STATUS
from ui.markdown import md
from ui.selection import rows_key, selection_rows
from ui.sheet import show_sheet
from ui.unavailability import unavailable_popover

PAGE_SIZE = 50
PAGE = "admin_volunteers_page"
SEARCH = "admin_volunteers_text"


def _first_page() -> None:
    st.session_state[PAGE] = 0


def _frame(rows: list[dict]) -> pd.DataFrame:
    regions = reference.ars_names()
    return pd.DataFrame([
        {"Nom": r["last_name"], "Prénom": r["first_name"], "Courriel": r["email"], "Profession": r["profession"],
         "Commune": f"{r['postal_code']} {r['city']}", "Région": regions.get(r["ars_code"], r["ars_code"]),
         "Statut": PROFESSIONAL_STATUS[r["status"]]}
        for r in rows
    ])


def _actions(row: dict) -> None:
    st.markdown(f"**{md(row['first_name'])} {md(row['last_name'])}** — {md(row['email'])} — {row['profession']} — "
                f"{PROFESSIONAL_STATUS[row['status']]}")
    sheet, unavailable, _ = st.columns([1, 1, 2])
    if Action.SHEET in row["actions"] and sheet.button("Voir la fiche", icon=":material/badge:", width="stretch"):
        show_sheet(row["id"])
    unavailable_popover(unavailable, row, key_prefix="admin_pro")


def _pager(offset: int, shown: int, total: int) -> None:
    left, middle, right = st.columns([1, 4, 1])
    left.button("◀ Précédents", disabled=offset == 0, key="admin_volunteers_prev",
                on_click=lambda: st.session_state.update({PAGE: max(0, offset - PAGE_SIZE)}))
    middle.caption(f"Affichage {offset + 1} - {offset + shown} de {fr_int(total)} · cochez un volontaire pour agir.")
    right.button("Suivants ▶", disabled=offset + PAGE_SIZE >= total, key="admin_volunteers_next",
                 on_click=lambda: st.session_state.update({PAGE: offset + PAGE_SIZE}))


def render() -> None:
    st.title("Volontaires")
    st.caption("Les volontaires inscrits dans toutes les régions. Un administrateur voit leur identité et leurs "
               "coordonnées, jamais leurs justificatifs ; l'ARS de leur région vérifie les documents.")
    text = st.text_input("Nom, prénom ou adresse électronique", key=SEARCH, on_change=_first_page)
    if not text.strip():
        st.info("Saisissez le nom, le prénom ou l'adresse électronique du volontaire recherché.",
                icon=":material/search:")
        return
    offset = st.session_state.get(PAGE, 0)
    loaded = read(region_professionals, ars_code=None, filters=ProfessionalFilters(text=text), offset=offset,
                  limit=PAGE_SIZE)
    if loaded is None:
        return
    rows, total = loaded
    if not rows:
        st.info("Aucun volontaire ne correspond à cette recherche.")
        return
    event = st.dataframe(_frame(rows), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=rows_key("admin_volunteers_table", (r["id"] for r in rows)))
    _pager(offset, len(rows), total)
    selected = selection_rows(event)
    if selected and selected[0] < len(rows):
        _actions(rows[selected[0]])
