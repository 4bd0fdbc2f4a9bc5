"""Sign-in page: e-mail and password checked by core.access.accounts.authenticate."""

from __future__ import annotations

import streamlit as st

from ui.auth import sign_in_callback
from ui.links import page_link
from ui.markdown import md


def render(notice: str | None = None) -> None:
    """The sign-in form; `notice` says which page asked for it (a link opened while signed out)."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Se connecter")
        if notice:
            st.info(notice, icon=":material/lock:")
        error = st.session_state.get("login_error")
        with st.form("login_form"):
            st.text_input("Adresse électronique", key="login_email", autocomplete="username",
                          placeholder="prenom.nom@etablissement.fr")
            st.text_input("Mot de passe", key="login_password", type="password",
                          autocomplete="current-password")
            st.checkbox("Garder la session ouverte", key="login_keep",
                        help="Sur un ordinateur personnel uniquement : la session reste ouverte 30 jours.")
            st.form_submit_button("Se connecter", type="primary", on_click=sign_in_callback,
                                  width="stretch")
        if error:
            st.error(md(error), icon=":material/error:")  # core's text, which may quote the e-mail typed
        page_link("mot-de-passe-oublie", label="Mot de passe oublié ?", icon=":material/key:")
