"""Home page: what the platform is, live national figures, the two public entry points."""

from __future__ import annotations

import streamlit as st

from core.figures.stats import NationalFigures, national_figures
from core.shared.config import get_settings
from ui.actions import read
from ui.format import fr_int
from ui.links import page_link
from ui.markdown import md
from ui.state import signed_in_user


@st.cache_data(ttl=30, show_spinner=False)
def _figures(database_url: str) -> NationalFigures:  # noqa: ARG001 - the cache key: one entry per database
    # Public, identical for every visitor: safe to share for 30 seconds.
    return read(national_figures, replica=True)  # already up to 30 s old: the replica's when there is one


def _figures_row() -> None:
    figures = _figures(get_settings().database_url)
    columns = st.columns(4)
    columns[0].metric("Volontaires disponibles", fr_int(figures.volunteers_available), border=True,
                      help="Professionnels inscrits, libres d'être contactés aujourd'hui.")
    columns[1].metric("Besoins ouverts", fr_int(figures.open_missions), border=True,
                      help="Missions publiées par les établissements et pas encore pourvues.")
    columns[2].metric("Postes à pourvoir", fr_int(figures.open_posts), border=True,
                      help="Nombre de professionnels encore recherchés dans ces besoins.")
    columns[3].metric("Postes pourvus", fr_int(figures.posts_filled), border=True,
                      help="Professionnels affectés à une mission en cours.")


def _entry_point(title: str, text: str, url_path: str, label: str, icon: str) -> None:
    with st.container(border=True):
        st.subheader(title)
        st.write(text)
        if not page_link(url_path, label=label, icon=icon):
            st.button(f"{label} — bientôt disponible", disabled=True, key=f"soon_{url_path}")


def _public_entry_points() -> None:
    left, right = st.columns(2)
    with left:
        _entry_point(
            "Je suis une structure sanitaire ou médico-sociale et j'ai besoin de renfort",
            "Demandez votre compte en décrivant votre premier besoin. Après validation par votre "
            "ARS, vous trouvez sur une carte les volontaires proches et vous les contactez.",
            "demande-de-compte", "Demander un compte", ":material/domain_add:",
        )
    with right:
        _entry_point(
            "Je suis un professionnel de santé et je souhaite proposer mon aide",
            "Inscrivez-vous en quelques minutes : profession, disponibilités, zone de mobilité. "
            "Les établissements qui ont besoin de vous vous contactent directement.",
            "proposer-mon-aide", "Proposer mon aide", ":material/volunteer_activism:",
        )
    st.write("")
    with st.container(horizontal=True):
        st.write("Vous avez déjà un compte ?")
        page_link("connexion", label="Se connecter", icon=":material/login:")


def _how_it_works() -> None:
    st.subheader("Comment fonctionne la plateforme")
    steps = st.columns(4)
    texts = (
        ("1. Besoin", "L'établissement décrit sa mission : profession, nombre, dates, critères."),
        ("2. Validation", "L'ARS de la région vérifie la structure et ouvre son compte."),
        ("3. Mise en relation", "L'établissement choisit des volontaires proches et les contacte."),
        ("4. Régulation", "En crise, l'ARS priorise les besoins et propose elle-même les renforts."),
    )
    for column, (title, text) in zip(steps, texts):
        with column:
            st.markdown(f"**{title}**")
            st.caption(text)


def render() -> None:
    user = signed_in_user()
    st.title("Renfort RH")
    st.markdown(
        "Plateforme nationale de **régulation des renforts en personnels de santé** en situation "
        "de crise : un seul vivier de volontaires, les besoins des établissements, et les ARS pour "
        "prioriser. Ce n'est pas une plateforme d'intérim pour des besoins permanents."
    )
    if user is not None:
        st.success(f"Bonjour {md(user.first_name)}, vous êtes connecté(e).", icon=":material/waving_hand:")
    _figures_row()
    if user is None:
        _public_entry_points()
    _how_it_works()
