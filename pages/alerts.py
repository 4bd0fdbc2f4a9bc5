"""CCS: "Alertes des ARS" — missions an ARS cannot fill; open the national pools, propose candidates or
close the alert with a note; below, the history of every alert. ARS: "Alertes au CCS", its region's
history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.staffing.regulation import (
    ALERT_MESSAGE_MAX,
    alert_history,
    ccs_alerts,
    close_alert,
    open_national_pools,
)
from ui.actions import read, run_action
from ui.candidates import PROPOSE
from ui.format import fr_date
from ui.markdown import md
from ui.regions import CHOSEN_REGION

POOLS_OPENED = ("Viviers nationaux ouverts : les volontaires des autres régions prêts à une mobilité nationale sont "
                "désormais candidats ; l'ARS est prévenue.")


def _propose(alert: dict) -> None:
    st.session_state[CHOSEN_REGION] = alert["ars_code"]
    PROPOSE.open(alert["id"])


def _close(mission_id: int) -> None:
    run_action(close_alert, mission_id=mission_id, note=st.session_state.get(f"close_note_{mission_id}", ""),
               done="Alerte close : l'ARS est prévenue par courriel avec votre note.")


def _close_popover(alert: dict, column) -> None:  # noqa: ANN001 - a Streamlit column
    with column.popover("Clore l'alerte…", icon=":material/task_alt:", width="stretch"):
        st.caption("L'alerte quitte la liste d'attente ; l'ARS reçoit votre note. Les viviers nationaux restent "
                   "tels qu'ils sont.")
        st.text_area("Note de clôture *", key=f"close_note_{alert['id']}", max_chars=ALERT_MESSAGE_MAX,
                     placeholder="Ce qui a été fait, ce que l'ARS peut encore tenter…")
        st.button("Clore l'alerte", type="primary", key=f"close_{alert['id']}", on_click=_close, args=(alert["id"],))


def _history_frame(rows: list[dict]) -> pd.DataFrame:
    # What the CCS did first (state, times, its note), then the alert itself: the table is read left to right.
    return pd.DataFrame([
        {"Établissement": r["establishment"], "Profession": r["profession"], "État": r["state_label"],
         "Alerte levée le": paris_datetime(r["ccs_alert_at"]),
         "Viviers ouverts le": paris_datetime(r["pools_opened_at"]) if r["pools_opened_at"] else "—",
         "Close le": paris_datetime(r["alert_closed_at"]) if r["alert_closed_at"] else "—",
         "Note du CCS": r["alert_close_note"] or "", "Message de l'ARS": r["ccs_alert_message"],
         "Pourvue": f"{r['assigned']}/{r['count']}", "Région": r["region"]}
        for r in rows
    ])


def _history(ars_code: str | None = None) -> None:
    rows = read(alert_history, ars_code=ars_code)
    if rows is None:
        return
    if not rows:
        st.info("Aucune alerte n'a été levée.", icon=":material/info:")
        return
    st.caption(f"{len(rows)} alerte(s), la plus récente d'abord : levée → viviers ouverts → close.")
    st.dataframe(_history_frame(rows), hide_index=True, width="stretch")
    for row in (r for r in rows if Action.CLOSE_ALERT in r["actions"] and r["state"] == "pools"):
        with st.container(border=True):
            st.markdown(f"**{md(row['establishment'])}** — {row['profession']} : viviers ouverts le "
                        f"{paris_datetime(row['pools_opened_at'])}, alerte encore ouverte.")
            _close_popover(row, st.columns([2, 5])[0])


def render_region() -> None:
    """ARS: what became of its alerts to the CCS."""
    st.title("Alertes au CCS")
    _history()


def render() -> None:
    st.title("Alertes des ARS")
    alerts = read(ccs_alerts)
    if alerts is None:
        return
    waiting, history = st.tabs(["En attente", "Historique"])
    with history:
        _history()
    with waiting:
        _waiting(alerts)


def _waiting(alerts: list[dict]) -> None:
    if not alerts:
        st.success("Aucune alerte en attente.", icon=":material/check:")
        return
    st.caption(f"{len(alerts)} alerte(s), la plus ancienne d'abord. Une alerte attend jusqu'à l'ouverture des "
               "viviers nationaux, sa clôture par le CCS, ou jusqu'à ce que la mission soit pourvue ou clôturée.")
    for alert in alerts:
        with st.container(border=True):
            # The establishment's name and the ARS's message are typed text: shown as typed (ui.markdown).
            st.markdown(f"#### ARS {alert['region']} — {md(alert['establishment'])}")
            st.markdown(f"**{alert['profession']}** du {fr_date(alert['start_date'])} au {fr_date(alert['end_date'])}"
                        f" — POURVUE {alert['assigned']}/{alert['count']} — {md(alert['postal_code'])} "
                        f"{md(alert['city'])}  \nAlerte du {paris_datetime(alert['ccs_alert_at'])} : "
                        f"« {md(alert['ccs_alert_message'])} »")
            left, right, last = st.columns([2, 2, 2])
            if Action.OPEN_POOLS in alert["actions"]:
                with left.popover("Ouvrir les viviers nationaux…", icon=":material/public:", width="stretch"):
                    st.write("Les volontaires des autres régions prêts à une mobilité nationale deviendront candidats "
                             "de cette mission ; l'ARS sera prévenue par courriel.")
                    st.button("Confirmer l'ouverture", type="primary", key=f"pools_{alert['id']}",
                              on_click=run_action, args=(open_national_pools,),
                              kwargs={"mission_id": alert["id"], "done": POOLS_OPENED})
            if Action.PROPOSE in alert["actions"]:
                right.button("Proposer des candidats", icon=":material/person_search:", key=f"ccs_propose_{alert['id']}",
                             on_click=_propose, args=(alert,), width="stretch")
            if Action.CLOSE_ALERT in alert["actions"]:
                _close_popover(alert, last)
