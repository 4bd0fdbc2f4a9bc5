"""The top of a territorial pool coordinator's pages: which pool, its code for volunteers, its size."""

from __future__ import annotations

import streamlit as st

from core.pools.coordination import pool_heading
from ui.actions import read
from ui.markdown import md


def pool_caption() -> dict | None:
    """One line about the coordinator's pool (None, the refusal shown, for anyone else)."""
    heading = read(pool_heading)
    if heading is not None:
        st.caption(f"Plateforme territoriale **{md(heading['name'])}** — {heading['department']} — "
                   f"{heading['members']} établissement(s) membre(s), {heading['roster']} membre(s) du vivier — code "
                   f"d'inscription des volontaires : **{heading['code']}**")
    return heading
