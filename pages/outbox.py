"""Admin: "Courriels" — the outbox, and each message with its links (the mailbox without SMTP)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.mail.outbox import (
    get_outbox_message,
    is_interrupted,
    links_in,
    list_outbox,
    outbox_status,
    requeue_interrupted,
)
from core.shared.clock import paris_datetime, utcnow
from core.shared.config import get_settings
from core.shared.errors import DomainError
from db.session import session_scope
from ui.layout import flash, signed_in_user

PAGE_SIZE = 50


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"N°": r["id"], "Destinataire": r["to"], "Objet": r["subject"], "Statut": r["status"],
         "Essais": r["attempts"], "Créé le": paris_datetime(r["created_at"]),
         "Dernière erreur": r["last_error"] or ""}
        for r in rows
    ])


def _requeue(outbox_id: int) -> None:
    try:
        with session_scope() as session:
            requeue_interrupted(session, signed_in_user(), outbox_id)
    except DomainError as error:
        flash("error", error.message)
    else:
        flash("success", f"Courriel n° {outbox_id} remis en file : le prochain passage du worker l'enverra.")


def _requeue_button(outbox_id: int) -> None:
    """An interrupted send may have reached the recipient: ask before sending it again."""
    st.warning("L'envoi de ce courriel a été interrompu : le destinataire l'a peut-être reçu. Vérifiez auprès "
               "de lui avant de le renvoyer.", icon=":material/warning:")
    with st.popover("Remettre en file…", icon=":material/replay:"):
        st.caption("Le courriel sera envoyé de nouveau au prochain passage du worker.")
        st.button("Oui, remettre en file", type="primary", on_click=_requeue, args=(outbox_id,),
                  key=f"requeue_{outbox_id}")


def _message(outbox_id: int) -> None:
    with session_scope(read_only=True) as session:
        row = get_outbox_message(session, signed_in_user(), outbox_id)
        body, subject, to, status = row.body_text, row.subject, row.to, outbox_status(row)
        interrupted = is_interrupted(row, utcnow())
    with st.container(border=True):
        st.markdown(f"**{subject}**  \nÀ : {to} — {status}")
        if interrupted:
            _requeue_button(outbox_id)
        for link in links_in(body):
            st.link_button("Ouvrir le lien du message", link, icon=":material/open_in_new:")
            st.code(link, language=None)
        st.text(body)


def render() -> None:
    st.title("Courriels")
    if not get_settings().smtp_configured:
        st.info("Aucun serveur SMTP n'est configuré : les courriels restent ici. Ouvrez un message pour suivre "
                "ses liens (activation de compte, mot de passe…).", icon=":material/info:")
    search = st.text_input("Rechercher (destinataire ou objet)", key="outbox_search")
    page = st.number_input("Page", min_value=1, value=1, step=1, key="outbox_page")
    try:
        with session_scope(read_only=True) as session:
            result = list_outbox(session, signed_in_user(), search=search, offset=(page - 1) * PAGE_SIZE,
                                 limit=PAGE_SIZE)
    except DomainError as error:
        st.error(error.message)
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
