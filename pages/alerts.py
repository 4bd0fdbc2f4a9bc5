"""CCS: "Alertes des ARS" — missions an ARS cannot fill; open the national pools or propose candidates."""

from __future__ import annotations

import streamlit as st

from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.staffing.regulation import ccs_alerts, open_national_pools
from ui.actions import read, run_action
from ui.candidates import PROPOSE
from ui.format import fr_date
from ui.regions import CHOSEN_REGION

POOLS_OPENED = ("Viviers nationaux ouverts : les volontaires des autres régions prêts à une mobilité nationale sont "
                "désormais candidats ; l'ARS est prévenue.")


def _propose(alert: dict) -> None:
    st.session_state[CHOSEN_REGION] = alert["ars_code"]
    PROPOSE.open(alert["id"])


def render() -> None:
    st.title("Alertes des ARS")
    alerts = read(ccs_alerts)
    if alerts is None:
        return
    if not alerts:
        st.success("Aucune alerte en attente.", icon=":material/check:")
        return
    st.caption(f"{len(alerts)} alerte(s), la plus ancienne d'abord. Une alerte reste ouverte jusqu'à l'ouverture des "
               "viviers nationaux, ou jusqu'à ce que la mission soit pourvue ou clôturée.")
    for alert in alerts:
        with st.container(border=True):
            st.markdown(f"#### ARS {alert['region']} — {alert['establishment']}")
            st.markdown(f"**{alert['profession']}** du {fr_date(alert['start_date'])} au {fr_date(alert['end_date'])}"
                        f" — POURVUE {alert['assigned']}/{alert['count']} — {alert['postal_code']} {alert['city']}  \n"
                        f"Alerte du {paris_datetime(alert['ccs_alert_at'])} : « {alert['ccs_alert_message']} »")
            left, right, _ = st.columns([2, 2, 3])
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
