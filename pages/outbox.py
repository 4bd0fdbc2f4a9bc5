"""Admin: "Courriels" — the outbox, and each message with its links (the mailbox without SMTP)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.mail.outbox import list_outbox, mark_interrupted_as_sent, outbox_message, requeue_interrupted
from core.shared.clock import paris_datetime
from core.shared.config import get_settings
from ui.actions import read, run_action
from ui.markdown import md

PAGE_SIZE = 50


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"N°": r["id"], "Destinataire": r["to"], "Objet": r["subject"], "Statut": r["status"],
         "Essais": r["attempts"], "Créé le": paris_datetime(r["created_at"]),
         "Dernière erreur": r["last_error"] or ""}
        for r in rows
    ])


def _interrupted_actions(outbox_id: int) -> None:
    """An interrupted send may have reached the recipient: ask them, then send it again or record it as sent."""
    st.warning("L'envoi de ce courriel a été interrompu : le destinataire l'a peut-être reçu. Vérifiez auprès "
               "de lui avant de le renvoyer.", icon=":material/warning:")
    requeue, sent, _ = st.columns([1, 1, 2])
    with requeue.popover("Remettre en file…", icon=":material/replay:", width="stretch"):
        st.caption("Le destinataire ne l'a pas reçu : le courriel sera envoyé de nouveau au prochain passage du "
                   "worker.")
        st.button("Oui, remettre en file", type="primary", on_click=run_action, args=(requeue_interrupted,),
                  kwargs={"outbox_id": outbox_id, "done": f"Courriel n° {outbox_id} remis en file : le prochain "
                                                          "passage du worker l'enverra."},
                  key=f"requeue_{outbox_id}")
    with sent.popover("Marquer comme envoyé…", icon=":material/mark_email_read:", width="stretch"):
        st.caption("Le destinataire a confirmé l'avoir reçu : le courriel passe « envoyé » et ne sera jamais "
                   "renvoyé. Inscrit au journal.")
        st.button("Oui, il l'a reçu", type="primary", on_click=run_action, args=(mark_interrupted_as_sent,),
                  kwargs={"outbox_id": outbox_id, "done": f"Courriel n° {outbox_id} marqué comme envoyé : il ne "
                                                          "sera pas renvoyé."},
                  key=f"mark_sent_{outbox_id}")


def _message(outbox_id: int) -> None:
    message = read(outbox_message, outbox_id=outbox_id)
    if message is None:
        return
    with st.container(border=True):
        st.markdown(f"**{md(message.subject)}**  \nÀ : {md(message.to)} — {message.status}")
        if message.interrupted:
            _interrupted_actions(outbox_id)
        for link in message.links:
            st.link_button("Ouvrir le lien du message", link, icon=":material/open_in_new:")
            st.code(link, language=None)
        st.text(message.body)


def render() -> None:
    st.title("Courriels")
    if not get_settings().smtp_configured:
        st.info("Aucun serveur SMTP n'est configuré : les courriels restent ici. Ouvrez un message pour suivre "
                "ses liens (activation de compte, mot de passe…).", icon=":material/info:")
    search = st.text_input("Rechercher (destinataire ou objet)", key="outbox_search")
    page = st.number_input("Page", min_value=1, value=1, step=1, key="outbox_page")
    result = read(list_outbox, search=search, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if result is None:
        return
    if not result.rows:
        st.info("Aucun courriel.")
        return
    first = (page - 1) * PAGE_SIZE + 1
    st.caption(f"Affichage {first} - {first + len(result.rows) - 1} de {result.total}")
    frame = _frame(result.rows)
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=f"outbox_table:{search}:{page}")
    st.caption("Cochez la case à gauche d'une ligne pour afficher le message.")
    rows = event.selection.rows if event else []
    if rows:
        _message(int(frame.iloc[rows[0]]["N°"]))
