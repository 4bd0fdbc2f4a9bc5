"""Page reached from the « Toujours disponible ? » e-mail (?jeton=…): confirm or pause, once, no sign-in.

Registered, hidden from the menu, for visitors and every role (the link may be opened in a browser where
someone is signed in). Opening the link changes nothing: the volunteer answers with one of two buttons.
"""

from __future__ import annotations

import streamlit as st

from core.shared.clock import paris_datetime
from core.shared.errors import DomainError
from core.shared.labels import PROFESSIONAL_STATUS
from core.shared.security import token_hash
from core.volunteers.freshness import answer_availability_check, availability_question
from ui.actions import read, run_action
from ui.links import page_link
from ui.markdown import md

ANSWERED = "_availability_answered"  # (hash of the link used, the new status)
ERROR = "_availability_error"
DONE = {
    "disponible": "Merci ! Vos disponibilités sont confirmées : les établissements vous voient parmi les "
                  "volontaires à jour.",
    "indisponible": "Votre profil est en pause : plus aucun établissement ne vous sollicitera. Vous pourrez le "
                    "réactiver dans « Mon profil ».",
}
BUSY_CONFIRMED = ("Merci ! Vos disponibilités sont confirmées. Retrouvez dans « Mes missions » la mission pour laquelle "
                  "vous êtes sollicité(e) ou affecté(e).")


def _answer(token: str, available: bool) -> None:
    outcome = run_action(answer_availability_check, token=token, available=available,
                         on_error=lambda error: st.session_state.__setitem__(ERROR, error.message))
    if outcome:
        st.session_state[ANSWERED] = (token_hash(token), outcome.value)
        st.session_state.pop(ERROR, None)


def _invalid_link(error: DomainError) -> None:
    st.error(md(error.message), icon=":material/link_off:")
    st.caption("Vous pouvez aussi confirmer vos disponibilités en vous connectant, dans « Mon profil ».")
    page_link("connexion", "Se connecter", icon=":material/login:")


def render() -> None:
    _, middle, _ = st.columns([1, 3, 1])
    with middle:
        st.title("Toujours disponible ?")
        token = st.query_params.get("jeton", "")
        answered = st.session_state.get(ANSWERED)
        if answered and answered[0] == token_hash(token):
            st.success(DONE.get(answered[1], BUSY_CONFIRMED), icon=":material/check_circle:")
            return
        question = read(availability_question, token=token, on_error=_invalid_link)
        if question is None:
            return
        st.write(f"Bonjour {md(question.first_name)}, vos disponibilités ont été confirmées pour la dernière fois le "
                 f"{paris_datetime(question.confirmed_at)} ; votre statut : "
                 f"{PROFESSIONAL_STATUS[question.status].lower()}.")
        if st.session_state.get(ERROR):
            st.error(md(st.session_state[ERROR]), icon=":material/error:")
        left, right = st.columns(2)
        left.button("Oui, toujours disponible", type="primary", icon=":material/event_available:", width="stretch",
                    on_click=_answer, args=(token, True))
        right.button("Mettre mon profil en pause", icon=":material/pause_circle:", width="stretch",
                     on_click=_answer, args=(token, False))
