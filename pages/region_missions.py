"""ARS (its region), CCS and ministry: "Missions de la région" — the priority queue of the region's needs."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_today
from core.staffing.regulation import (
    ALERT_MESSAGE_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    MissionFilters,
    alert_ccs,
    region_missions,
    set_manual_priority,
    urgency_explanation,
)
from ui.actions import read, run_action
from ui.candidates import PROPOSE
from ui.format import fr_date, fr_int
from ui.labels import MISSION_STATUS, yes_no
from ui.markdown import md
from ui.regions import region_choice, region_name
from ui.selection import rows_key, selection_rows
from ui.state import signed_in_user

PAGE_SIZE = 50
PAGE = "region_missions_page"
STATUSES = {"open": "Ouverte", "filled": "Pourvue", "closed": "Clôturée"}
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
    # 1 to 9, or a dash when unset: a browser shows a missing number as « None »
    frame["Priorité"] = [str(int(p)) if pd.notna(p) else "–" for p in frame["Priorité"]]
    return frame


def _actions(row: dict) -> None:
    st.markdown(f"**{md(row['establishment'])}** — {row['profession']} du {fr_date(row['start_date'])} au "
                f"{fr_date(row['end_date'])} — POURVUE {row['assigned']}/{row['count']} — urgence {row['urgency']}")
    if row["ccs_alert_at"]:
        st.warning(f"Alerte envoyée au CCS : {md(row['ccs_alert_message'])}", icon=":material/campaign:")
    actions = row["actions"]
    if not actions:
        st.caption("Consultation seule.")
        return
    columns = st.columns(3)
    columns[0].button("Proposer des candidats", type="primary", icon=":material/person_search:", width="stretch",
                      on_click=PROPOSE.open, args=(row["id"],), disabled=Action.PROPOSE not in actions)
    if Action.PRIORITISE in actions:
        with columns[1].popover("Priorité manuelle…", icon=":material/low_priority:", width="stretch"):
            st.number_input(f"Priorité ({PRIORITY_MIN} = la plus urgente)", min_value=PRIORITY_MIN,
                            max_value=PRIORITY_MAX, step=1, value=row["manual_priority"] or PRIORITY_MIN,
                            key=f"priority_{row['id']}")
            # Read when the button fires: a value captured here may predate an edit sent with the click.
            st.button("Enregistrer la priorité", on_click=_save_priority, args=(row["id"],),
                      key=f"priority_save_{row['id']}")
            st.button("Revenir au score d'urgence", on_click=run_action, args=(set_manual_priority,),
                      kwargs={"mission_id": row["id"], "priority": None, "done": "Priorité manuelle retirée."},
                      key=f"priority_clear_{row['id']}")
    if Action.ALERT in actions:
        with columns[2].popover("Alerter le CCS…", icon=":material/campaign:", width="stretch"):
            st.text_area("Message au CCS *", key=f"alert_message_{row['id']}", max_chars=ALERT_MESSAGE_MAX,
                         placeholder="Ce qui a été tenté, ce qui manque…")
            st.button("Envoyer l'alerte", type="primary", key=f"alert_send_{row['id']}", on_click=_alert,
                      args=(row["id"],))


def _save_priority(mission_id: int) -> None:
    value = st.session_state.get(f"priority_{mission_id}")
    run_action(set_manual_priority, mission_id=mission_id, priority=value, done=f"Priorité {value} enregistrée.")


def _alert(mission_id: int) -> None:
    message = st.session_state.get(f"alert_message_{mission_id}", "")
    run_action(alert_ccs, mission_id=mission_id, message=message,
               done="Alerte envoyée au CCS : la mission est signalée dans sa liste.")


def render() -> None:
    user = signed_in_user()
    st.title("Missions de la région")
    ars_code = region_choice(user)
    st.caption(f"ARS {region_name(ars_code)} — file de priorité des besoins. {urgency_explanation()}")
    filters = _filters(ars_code)
    offset = st.session_state.get(PAGE, 0)
    queue = read(region_missions, ars_code=ars_code, filters=filters, offset=offset, limit=PAGE_SIZE)
    if queue is None:
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
    hint = "cochez une mission pour agir" if any(r["actions"] for r in queue.rows) else "consultation seule"
    middle.caption(f"Affichage {offset + 1} - {offset + len(queue.rows)} de {fr_int(queue.total)} · {hint}.")
    right.button("Suivantes ▶", disabled=offset + PAGE_SIZE >= queue.total, key="region_next",
                 on_click=lambda: st.session_state.update({PAGE: offset + PAGE_SIZE}))
    selected = selection_rows(event)
    if selected and selected[0] < len(queue.rows):
        _actions(queue.rows[selected[0]])
