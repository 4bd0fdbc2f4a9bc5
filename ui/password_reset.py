"""The "send me a new link" form, on the forgotten-password page and under an expired link."""

from __future__ import annotations

import streamlit as st

from core.access.accounts import request_password_reset
from ui.actions import run_action
from ui.markdown import md

SENT = "_reset_sent_to"


def request_link(email: str) -> str | None:
    """Ask for a link; returns an error message only for a malformed entry (never for unknown e-mails)."""
    if "@" not in (email or ""):
        return "Saisissez l'adresse électronique de votre compte."
    refusals: list[str] = []
    run_action(request_password_reset, email=email, on_error=lambda error: refusals.append(error.message))
    return refusals[0] if refusals else None


def reset_form(key: str) -> None:
    """The e-mail field and button, also shown on the activation page when a link has expired."""
    with st.form(key):
        email = st.text_input("Adresse électronique de votre compte", key=f"{key}_email")
        submitted = st.form_submit_button("Recevoir un nouveau lien", type="primary", icon=":material/mail:")
    if submitted:
        error = request_link(email)
        if error:
            st.error(md(error), icon=":material/error:")
        else:
            st.session_state[SENT] = email.strip()
    if st.session_state.get(SENT):
        st.success(
            f"Si un compte validé correspond à « {md(st.session_state[SENT])} », un courriel contenant un lien "
            "vient de lui être envoyé. Le lien est valable 72 heures ; les liens précédents ne fonctionnent plus.",
            icon=":material/mark_email_read:",
        )
