"""CCS: "Alertes des ARS" — missions an ARS cannot fill; open the national pools or propose candidates."""

from __future__ import annotations

import streamlit as st

from core.shared.clock import paris_datetime
from core.shared.errors import DomainError
from core.staffing.regulation import ccs_alerts, open_national_pools
from db.session import session_scope
from ui.candidates import PROPOSE
from ui.format import fr_date
from ui.layout import flash, signed_in_user
from ui.regions import CHOSEN_REGION


def _open_pools(mission_id: int) -> None:
    try:
        with session_scope() as session:
            open_national_pools(session, signed_in_user(), mission_id)
    except DomainError as error:
        flash("error", error.message)
    else:
        flash("success", "Viviers nationaux ouverts : les volontaires des autres régions prêts à une mobilité "
                         "nationale sont désormais candidats ; l'ARS est prévenue.")


def _propose(alert: dict) -> None:
    st.session_state[CHOSEN_REGION] = alert["ars_code"]
    PROPOSE.open(alert["id"])


def render() -> None:
    user = signed_in_user()
    st.title("Alertes des ARS")
    try:
        with session_scope(read_only=True) as session:
            alerts = ccs_alerts(session, user)
    except DomainError as error:
        st.error(error.message)
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
            if user.role == "ccs":
                left, right, _ = st.columns([2, 2, 3])
                with left.popover("Ouvrir les viviers nationaux…", icon=":material/public:", width="stretch"):
                    st.write("Les volontaires des autres régions prêts à une mobilité nationale deviendront candidats "
                             "de cette mission ; l'ARS sera prévenue par courriel.")
                    st.button("Confirmer l'ouverture", type="primary", key=f"pools_{alert['id']}",
                              on_click=_open_pools, args=(alert["id"],))
                right.button("Proposer des candidats", icon=":material/person_search:", key=f"ccs_propose_{alert['id']}",
                             on_click=_propose, args=(alert,), width="stretch")
