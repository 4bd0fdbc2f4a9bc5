"""Public page "Mot de passe oublié ?": a fresh link, the same answer whether the e-mail is known or not."""

from __future__ import annotations

import streamlit as st

from ui.links import page_link
from ui.password_reset import reset_form


def render() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Mot de passe oublié ?")
        st.write("Indiquez votre adresse : vous recevrez un lien pour choisir un nouveau mot de passe. "
                 "Ce lien sert aussi à activer un compte validé dont le premier lien a été perdu ou a expiré.")
        reset_form("reset_request")
        page_link("connexion", "Retour à la connexion", icon=":material/login:")
