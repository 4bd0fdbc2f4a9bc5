"""Volunteer: "Mes missions" — pushes, reservations and assignments, answered « Je suis intéressé(e) » or
« Décliner » (with a reason from a short list)."""

from __future__ import annotations

import streamlit as st

from core.places import reference
from core.pools.roster import my_pools
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from core.shared.labels import DECLINE_REASONS
from core.shared.validation import format_phone
from core.staffing.workflow import express_interest, withdraw
from core.volunteers.professionals import my_missions
from ui.actions import read, run_action
from ui.format import fr_date
from ui.labels import PROPOSAL_STATE
from ui.links import page_link
from ui.markdown import md

HEADLINES = {
    "en_cours": "L'ARS vous propose à cet établissement : il va vous contacter.",
    "contacte": "Cet établissement vous a réservé(e) pour cette mission.",
    "affecte": "Vous êtes affecté(e) à cette mission.",
}
# Pushed by a territorial pool's coordinator rather than by the ARS
POOL_HEADLINES = {**HEADLINES, "en_cours": "La plateforme territoriale dont vous êtes membre vous propose à cet "
                                           "établissement : il va vous contacter."}


def _state(row: dict) -> str:
    if row["declined"]:
        reason = DECLINE_REASONS.get(row["reason_code"] or "")
        return "Déclinée par vous" + (f" ({reason.lower()})" if reason else "")
    return PROPOSAL_STATE.get(row["state"], row["state"])


def _decline(proposal_id: int) -> None:
    pause = bool(st.session_state.get(f"decline_pause_{proposal_id}"))
    run_action(withdraw, proposal_id=proposal_id, pause=pause,
               reason_code=st.session_state.get(f"decline_reason_{proposal_id}"),
               done=lambda note: "Demande déclinée : l'établissement est prévenu ; cette mission ne vous sera plus "
               "proposée." + (" Vous êtes indisponible jusqu'à nouvel ordre." if pause else "")
               + (f" {note}" if note else ""))


def _interested(proposal_id: int) -> None:
    run_action(express_interest, proposal_id=proposal_id,
               done="C'est noté : l'établissement voit que vous êtes intéressé(e). Il vous confirmera la mission.")


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
        st.info((POOL_HEADLINES if row["pushed_by_pool"] else HEADLINES)[row["state"]], icon=":material/info:")
        if row["interested_at"] is not None and row["live"]:
            st.caption(f"Vous avez répondu « intéressé(e) » le {paris_datetime(row['interested_at'])}.")
        left, right, _ = st.columns([2, 2, 3])
        if Action.INTEREST in row["actions"]:
            left.button("Je suis intéressé(e)", type="primary", icon=":material/thumb_up:", on_click=_interested,
                        args=(row["id"],), key=f"interest_{row['id']}")
        if Action.DECLINE in row["actions"]:
            with right.popover("Décliner…", icon=":material/block:"):
                st.selectbox("Raison (facultatif)", list(DECLINE_REASONS), format_func=DECLINE_REASONS.get,
                             index=None, placeholder="Choisissez une raison", key=f"decline_reason_{row['id']}")
                st.checkbox("Me rendre aussi indisponible", key=f"decline_pause_{row['id']}")
                st.caption("Cette mission ne vous sera plus proposée.")
                st.button("Confirmer : je décline", type="primary", on_click=_decline, args=(row["id"],),
                          key=f"decline_{row['id']}")


def render() -> None:
    st.title("Mes missions")
    pools = read(my_pools)
    if pools is not None and pools.invitations:
        names = ", ".join(f"« {md(row['pool'])} »" for row in pools.invitations)
        st.info(f"Invitation à rejoindre le vivier d'une plateforme territoriale : {names}. Répondez depuis "
                "« Mon profil ».", icon=":material/group_add:")
        page_link("mon-profil", "Répondre dans « Mon profil »", icon=":material/person:")
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
