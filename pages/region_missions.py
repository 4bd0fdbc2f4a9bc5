"""ARS (its region), CCS and ministry: "Missions de la région" — the priority queue of the region's needs."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.clock import paris_today
from core.shared.errors import DomainError
from core.staffing.regulation import (
    U_CCS_ALERT,
    U_EHPAD,
    U_MAX_UNFILLED,
    U_MAX_WAITING,
    U_PER_DAY_UNFILLED,
    U_PER_UNFILLED_POST,
    U_REANIMATION,
    U_STARTS_WITHIN_3_DAYS,
    U_STARTS_WITHIN_7_DAYS,
    U_STARTS_WITHIN_14_DAYS,
    MissionFilters,
    alert_ccs,
    region_missions,
    set_manual_priority,
)
from db.session import session_scope
from ui.actions import run_action
from ui.candidates import PROPOSE
from ui.format import fr_date, fr_int
from ui.labels import MISSION_STATUS, yes_no
from ui.layout import signed_in_user
from ui.regions import region_choice, region_name
from ui.selection import rows_key, selection_rows

PAGE_SIZE = 50
PAGE = "region_missions_page"
STATUSES = {"open": "Ouverte", "filled": "Pourvue", "closed": "Clôturée"}
URGENCY_HELP = (
    f"Score d'urgence : début dans 3 jours ou moins (ou déjà commencée) +{U_STARTS_WITHIN_3_DAYS}, dans 7 jours "
    f"+{U_STARTS_WITHIN_7_DAYS}, dans 14 jours +{U_STARTS_WITHIN_14_DAYS} ; +{U_PER_UNFILLED_POST} par poste non "
    f"pourvu (max {U_MAX_UNFILLED}) ; réanimation +{U_REANIMATION} ; EHPAD +{U_EHPAD} ; +{U_PER_DAY_UNFILLED} par "
    f"jour depuis la création (max {U_MAX_WAITING}) ; alerte CCS +{U_CCS_ALERT}. Une priorité manuelle (1 = la plus "
    "urgente) passe avant le score."
)


def _first_page() -> None:
    st.session_state[PAGE] = 0


def _filters(ars_code: str) -> MissionFilters:
    departments = {d.code: d.name for d in reference.departements().values() if d.ars_code == ars_code}
    labels = reference.profession_labels()
    first = st.columns([2, 3, 3, 3])
    department = first[0].selectbox("Département", [None, *departments], key="region_department", on_change=_first_page,
                                    format_func=lambda c: "Tous" if c is None else f"{c} — {departments[c]}", placeholder="Tous")
    profession = first[1].selectbox("Profession", [None, *labels], key="region_profession", on_change=_first_page,
                                    format_func=lambda c: "Toutes" if c is None else labels[c], placeholder="Toutes")
    statuses = first[2].multiselect("Statut", list(STATUSES), default=["open"], format_func=STATUSES.get,
                                    key="region_statuses", placeholder="Tous", on_change=_first_page)
    today = paris_today()
    period = first[3].date_input("Période", value=(), key="region_period", format="DD/MM/YYYY", on_change=_first_page,
                                 min_value=today - timedelta(days=365), max_value=today + timedelta(days=365))
    unfilled = st.checkbox("Non pourvues seulement", value=True, key="region_unfilled", on_change=_first_page)
    start, end = (period[0], period[-1]) if len(period) == 2 else (None, None)
    return MissionFilters(department_code=department, profession_code=profession, statuses=tuple(statuses),
                          period_start=start, period_end=end, unfilled_only=unfilled)


def _frame(rows: list[dict], ars_name: str) -> pd.DataFrame:
    frame = pd.DataFrame([
        {"id": r["id"], "Priorité": r["manual_priority"], "Urgence": r["urgency"],
         "Établissement": r["establishment"], "CP": r["postal_code"], "Nombre": r["count"],
         "Pourvue": f"POURVUE {r['assigned']}/{r['count']}", "Alerte": "ALERTE CCS" if r["ccs_alert_at"] else "",
         "Profession": r["profession"], "Spécialité": r["specialty"] or "", "Début": fr_date(r["start_date"]),
         "Fin": fr_date(r["end_date"]), "EHPAD": yes_no(r["exp_ehpad"]), "Réanimation": yes_no(r["exp_reanimation"]),
         "Véhicule": yes_no(r["needs_vehicle"]), "Week-end": yes_no(r["needs_weekend"]),
         "Statut": MISSION_STATUS.get(r["status"], r["status"]), "ARS": ars_name}
        for r in rows
    ])
    frame["Priorité"] = frame["Priorité"].astype("Int64")  # whole numbers, blank when unset
    return frame


def _propose(mission_id: int) -> None:
    PROPOSE.open(mission_id)


def _actions(row: dict, can_act: bool) -> None:
    st.markdown(f"**{row['establishment']}** — {row['profession']} du {fr_date(row['start_date'])} au "
                f"{fr_date(row['end_date'])} — POURVUE {row['assigned']}/{row['count']} — urgence {row['urgency']}")
    if row["ccs_alert_at"]:
        st.warning(f"Alerte envoyée au CCS : {row['ccs_alert_message']}", icon=":material/campaign:")
    if not can_act:
        st.caption("Consultation seule.")
        return
    columns = st.columns(3)
    columns[0].button("Proposer des candidats", type="primary", icon=":material/person_search:", width="stretch",
                      on_click=_propose, args=(row["id"],), disabled=row["status"] != "open")
    with columns[1].popover("Priorité manuelle…", icon=":material/low_priority:", width="stretch"):
        st.number_input("Priorité (1 = la plus urgente)", min_value=1, max_value=9, step=1,
                        value=row["manual_priority"] or 1, key=f"priority_{row['id']}")
        # Read when the button fires: a value captured here may predate an edit sent with the click.
        st.button("Enregistrer la priorité", on_click=_save_priority, args=(row["id"],),
                  key=f"priority_save_{row['id']}")
        st.button("Revenir au score d'urgence", on_click=run_action, args=(set_manual_priority, row["id"], None),
                  kwargs={"done": "Priorité manuelle retirée."}, key=f"priority_clear_{row['id']}")
    if signed_in_user().role == "ars":
        with columns[2].popover("Alerter le CCS…", icon=":material/campaign:", width="stretch"):
            st.text_area("Message au CCS *", key=f"alert_message_{row['id']}",
                         placeholder="Ce qui a été tenté, ce qui manque…")
            st.button("Envoyer l'alerte", type="primary", key=f"alert_send_{row['id']}", on_click=_alert,
                      args=(row["id"],))


def _save_priority(mission_id: int) -> None:
    value = st.session_state.get(f"priority_{mission_id}")
    run_action(set_manual_priority, mission_id, value, done=f"Priorité {value} enregistrée.")


def _alert(mission_id: int) -> None:
    message = st.session_state.get(f"alert_message_{mission_id}", "")
    run_action(alert_ccs, mission_id, message, done="Alerte envoyée au CCS : la mission est signalée dans sa liste.")


def render() -> None:
    user = signed_in_user()
    st.title("Missions de la région")
    ars_code = region_choice(user)
    st.caption(f"ARS {region_name(ars_code)} — file de priorité des besoins. {URGENCY_HELP}")
    filters = _filters(ars_code)
    offset = st.session_state.get(PAGE, 0)
    try:
        with session_scope(read_only=True) as session:
            queue = region_missions(session, user, ars_code, filters, offset=offset, limit=PAGE_SIZE)
    except DomainError as error:
        st.error(error.message)
        return
    if not queue.rows:
        st.info("Aucune mission ne correspond à ces filtres.")
        return
    event = st.dataframe(_frame(queue.rows, region_name(ars_code)), hide_index=True, width="stretch",
                         on_select="rerun", selection_mode="single-row", column_config={"id": None},
                         key=rows_key("region_table", (r["id"] for r in queue.rows)))
    left, middle, right = st.columns([1, 4, 1])
    left.button("◀ Précédentes", disabled=offset == 0, key="region_prev",
                on_click=lambda: st.session_state.update({PAGE: max(0, offset - PAGE_SIZE)}))
    hint = "cochez une mission pour agir" if user.role in ("ars", "ccs") else "consultation seule"
    middle.caption(f"Affichage {offset + 1} - {offset + len(queue.rows)} de {fr_int(queue.total)} · {hint}.")
    right.button("Suivantes ▶", disabled=offset + PAGE_SIZE >= queue.total, key="region_next",
                 on_click=lambda: st.session_state.update({PAGE: offset + PAGE_SIZE}))
    selected = selection_rows(event)
    if selected and selected[0] < len(queue.rows):
        _actions(queue.rows[selected[0]], can_act=user.role in ("ars", "ccs"))
