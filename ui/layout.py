"""Page frame shared by every page: logo, sidebar card of the signed-in user, style."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.orm import Session

from core.places import reference
from core.shared.actor import SessionUser
from core.shared.config import ASSETS
from core.shared.errors import DomainError
from core.staffing.missions import establishment_for, my_establishments
from db.session import session_scope
from ui.auth import sign_out_callback
from ui.labels import ROLE_LABELS

T = TypeVar("T")

_USER_KEY = "_renfort_current_user"

CSS = """
<style>
  [data-testid="stHeading"] h1 { color: #000091; }
  /* streamlit-authenticator's cookie component is an invisible iframe: keep it out of the layout. */
  .st-key-init, .st-key-set, .st-key-delete { position: absolute; height: 0; overflow: hidden;
                                             visibility: hidden; }
  div[data-testid="stMetricValue"] { color: #000091; }
  .renfort-badge { display:inline-block; padding:0 .5rem; border-radius:.25rem; font-size:.8rem;
                   font-weight:700; background:#E3E3FD; color:#000091; }
  .renfort-footer { color:#666; font-size:.8rem; margin-top:2rem; }
  /* The file uploader speaks English ("Upload", "64MB per file"): every uploader of the app takes a
     volunteer's document, whose limit (5 Mo, checked by core.volunteers.documents) is said in French instead. */
  [data-testid="stFileUploaderDropzone"] button p, [data-testid="stFileUploaderDropzoneInstructions"] span
    { font-size: 0; }
  [data-testid="stFileUploaderDropzone"] button p::after { content: "Choisir un fichier"; font-size: .875rem; }
  [data-testid="stFileUploaderDropzoneInstructions"] span::after
    { content: "PDF, JPEG ou PNG — 5 Mo au plus"; font-size: .875rem; }
</style>
"""


def setup_page() -> None:
    st.set_page_config(
        page_title="Renfort RH",
        page_icon=str(ASSETS / "icon.svg"),
        layout="wide",
        initial_sidebar_state="expanded",
    )
    st.logo(str(ASSETS / "logo.svg"), size="large", icon_image=str(ASSETS / "icon.svg"))
    st.html(CSS)


_FLASH = "_renfort_flash"


def flash(kind: str, text: str) -> None:
    """A confirmation or refusal to show at the top of the next page drawn (survives st.rerun)."""
    st.session_state[_FLASH] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop(_FLASH, (None, None))
    if kind == "success":
        st.success(text, icon=":material/check_circle:")
    elif kind == "error":
        st.error(text, icon=":material/error:")


def remember_user(user: SessionUser | None) -> None:
    st.session_state[_USER_KEY] = user


def signed_in_user() -> SessionUser | None:
    """The user app.py resolved for this run (pages never read the cookie themselves)."""
    return st.session_state.get(_USER_KEY)


CURRENT_ESTABLISHMENT = "current_establishment"


def _establishment_choice(user: SessionUser) -> None:
    """A user managing several establishments picks the current one here."""
    if len(user.establishment_ids) < 2:
        return
    with session_scope(read_only=True) as session:
        names = my_establishments(session, user)
    if st.session_state.get(CURRENT_ESTABLISHMENT) not in names:
        st.session_state[CURRENT_ESTABLISHMENT] = next(iter(names))
    st.selectbox("Établissement", list(names), format_func=names.get, key=CURRENT_ESTABLISHMENT)


def current_establishment(user: SessionUser) -> int | None:
    """The establishment the pages work on: the chosen one, or the only one."""
    chosen = st.session_state.get(CURRENT_ESTABLISHMENT)
    if chosen in user.establishment_ids:
        return chosen
    return user.establishment_ids[0] if user.establishment_ids else None


def establishment_or_notice(user: SessionUser) -> int | None:
    """The current establishment, or a notice (and None) for an account attached to none."""
    establishment_id = current_establishment(user)
    if establishment_id is None:
        st.info("Votre compte n'est rattaché à aucun établissement.")
    return establishment_id


def establishment_data(user: SessionUser, fetch: Callable[[Session, SessionUser, int], T]) -> tuple[Any, T] | None:
    """The current establishment and what `fetch` reads of it, or None once a notice or an error is shown."""
    establishment_id = establishment_or_notice(user)
    if establishment_id is None:
        return None
    try:
        with session_scope(read_only=True) as session:
            return establishment_for(session, user, establishment_id), fetch(session, user, establishment_id)
    except DomainError as error:
        st.error(error.message)
        return None


def sidebar(user: SessionUser | None) -> None:
    with st.sidebar:
        if user is None:
            st.caption("Plateforme nationale de renforts en personnels de santé.")
            return
        role = ROLE_LABELS.get(user.role, user.role)
        if user.role == "ars" and user.ars_code:
            role = f"ARS {reference.ars_names().get(user.ars_code, user.ars_code)}"
        st.markdown(f"**{user.display_name}**  \n{role}")
        if user.role == "etablissement":
            _establishment_choice(user)
        st.button("Se déconnecter", key="sign_out", on_click=sign_out_callback,
                  icon=":material/logout:", width="stretch")
