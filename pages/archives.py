"""Admin: « Archivage des missions » — finished missions archived one by one or by period, never deleted;
an archived mission can be restored."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_datetime, paris_today
from core.staffing.archive import (
    PAGE_SIZE,
    archive_mission,
    archive_period,
    finished_missions,
    restore_mission,
)
from ui.actions import read, run_action
from ui.format import fr_date
from ui.markdown import md
from ui.selection import rows_key, selection_rows

ALL_REGIONS = ""


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"N°": r["id"], "Établissement": r["establishment"], "FINESS": r["finess"], "Région": r["region"],
         "Profession": r["profession"], "Postes": r["count"], "Début": fr_date(r["start_date"]),
         "Fin": fr_date(r["end_date"]),
         "Archivée le": paris_datetime(r["archived_at"]) if r["archived_at"] else "—"}
        for r in rows
    ])


def _region() -> str:
    names = reference.ars_names()
    return st.selectbox("Région", [ALL_REGIONS, *sorted(names, key=names.get)], key="archive_region",
                        format_func=lambda c: f"ARS {names[c]}" if c else "Toutes les régions", placeholder="Choisissez dans la liste")


def _period_form(region: str) -> None:
    today = paris_today()
    with st.form("archive_period_form"):
        st.markdown("**Archiver par période** — toutes les missions clôturées dont la date de fin tombe dans la "
                    "période" + (" (région choisie)." if region else " (toutes les régions)."))
        left, right = st.columns(2)
        start = left.date_input("Fin du", value=today - timedelta(days=90), format="DD/MM/YYYY", key="archive_from")
        end = right.date_input("au", value=today - timedelta(days=1), format="DD/MM/YYYY", key="archive_to")
        confirmed = st.checkbox("Je confirme l'archivage de ces missions (elles restent consultables et peuvent "
                                "être restaurées une à une).", key="archive_confirm")
        if st.form_submit_button("Archiver la période", type="primary", icon=":material/inventory_2:"):
            if not confirmed:
                st.error("Cochez la confirmation avant d'archiver toute une période.")
                return
            run_action(archive_period, start=start, end=end, ars_code=region or None,
                       done=lambda count: f"{count} mission(s) archivée(s).")
            st.rerun()


def _act(row: dict, archived: bool) -> None:
    label = f"Mission n° {row['id']} — {md(row['establishment'])}, {row['profession']} (fin le {fr_date(row['end_date'])})"
    st.markdown(f"**{label}**")
    if not archived and Action.ARCHIVE in row["actions"]:
        st.button("Archiver cette mission", type="primary", icon=":material/inventory_2:", key=f"archive_{row['id']}",
                  on_click=run_action, args=(archive_mission,),
                  kwargs={"mission_id": row["id"], "done": f"Mission n° {row['id']} archivée. Vous pouvez la "
                                                            "restaurer depuis l'onglet « Missions archivées »."})
    if archived and Action.RESTORE in row["actions"]:
        st.button("Restaurer (redevient « clôturée »)", icon=":material/unarchive:", key=f"restore_{row['id']}",
                  on_click=run_action, args=(restore_mission,),
                  kwargs={"mission_id": row["id"], "done": f"Mission n° {row['id']} restaurée : elle est de nouveau "
                                                            "clôturée."})


def _list(archived: bool, region: str) -> None:
    prefix = "archived" if archived else "closed"
    page = st.number_input("Page", min_value=1, value=1, step=1, key=f"{prefix}_page")
    result = read(finished_missions, archived=archived, ars_code=region or None, offset=(page - 1) * PAGE_SIZE)
    if result is None:
        return
    if not result.rows:
        st.info("Aucune mission archivée." if archived else "Aucune mission clôturée à archiver.",
                icon=":material/info:")
        return
    st.caption(f"{result.total} mission(s), les plus récemment terminées d'abord. Cochez la case à gauche d'une "
               "mission pour agir.")
    event = st.dataframe(_frame(result.rows), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=rows_key(f"{prefix}_table", (r["id"] for r in result.rows)))
    selected = selection_rows(event)
    if selected and selected[0] < len(result.rows):
        _act(result.rows[selected[0]], archived)


def render() -> None:
    st.title("Archivage des missions")
    st.caption("Une mission terminée (clôturée à la main, ou par le traitement de nuit le lendemain de sa date de fin) "
               "peut être archivée : elle quitte les tableaux de bord et les indicateurs, mais n'est jamais supprimée.")
    region = _region()
    closed, archived = st.tabs(["Missions clôturées", "Missions archivées"])
    with closed:
        _period_form(region)
        _list(False, region)
    with archived:
        _list(True, region)
