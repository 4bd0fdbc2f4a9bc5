"""Volunteer: "Mes missions" — pushes, reservations and assignments, with a way to decline."""

from __future__ import annotations

import streamlit as st

from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.shared.validation import format_phone
from core.staffing.workflow import withdraw
from core.volunteers.professionals import my_missions
from ui.actions import read, run_action
from ui.format import fr_date
from ui.labels import PROPOSAL_STATE
from ui.markdown import md

HEADLINES = {
    "en_cours": "L'ARS vous propose à cet établissement : il va vous contacter.",
    "contacte": "Cet établissement vous a réservé(e) pour cette mission.",
    "affecte": "Vous êtes affecté(e) à cette mission.",
}


def _state(row: dict) -> str:
    return "Déclinée par vous" if row["declined"] else PROPOSAL_STATE.get(row["state"], row["state"])


def _decline(proposal_id: int) -> None:
    pause = bool(st.session_state.get(f"decline_pause_{proposal_id}"))
    run_action(withdraw, proposal_id=proposal_id, pause=pause,
               done="Demande déclinée : l'établissement est prévenu."
                    + (" Vous êtes indisponible jusqu'à nouvel ordre." if pause else ""))


def _contact(row: dict) -> str:
    """Markdown: each part typed by the establishment is escaped."""
    if row["contact_name"] or row["contact_phone"]:
        return " — ".join(md(x) for x in (row["contact_name"], format_phone(row["contact_phone"])) if x)
    return " — ".join(md(x) for x in (row["requester_name"], format_phone(row["requester_phone"]),
                                      row["requester_email"]))


def _card(row: dict) -> None:
    with st.container(border=True):
        st.markdown(f"#### {md(row['establishment'])}")
        st.markdown(f"**{reference.profession_labels().get(row['profession_code'], '')}** du "
                    f"{fr_date(row['start_date'])} au {fr_date(row['end_date'])}  \n"
                    f"{md(row['address'])}, {md(row['postal_code'])} {md(row['city'])}  \n"
                    f"**Contact** : {_contact(row)}")
        st.info(HEADLINES[row["state"]], icon=":material/info:")
        if Action.DECLINE in row["actions"]:
            with st.popover("Décliner…", icon=":material/block:"):
                st.checkbox("Me rendre aussi indisponible", key=f"decline_pause_{row['id']}")
                st.button("Confirmer : je décline", type="primary", on_click=_decline, args=(row["id"],),
                          key=f"decline_{row['id']}")


def render() -> None:
    st.title("Mes missions")
    rows = read(my_missions)
    if rows is None:
        return
    live = [r for r in rows if r["live"]]
    if not live:
        st.info("Aucune demande en cours. Les établissements de votre zone vous contacteront s'ils ont besoin "
                "de vous ; gardez vos disponibilités à jour dans « Mon profil ».", icon=":material/inbox:")
    for row in live:
        _card(row)
    past = [r for r in rows if not r["live"]]
    if past:
        st.subheader("Historique")
        for row in past:
            st.markdown(f"- {paris_datetime(row['created_at'])} — {md(row['establishment'])} — "
                        f"{reference.profession_labels().get(row['profession_code'], '')} "
                        f"({fr_date(row['start_date'])} – {fr_date(row['end_date'])}) : "
                        f"{_state(row)}")
