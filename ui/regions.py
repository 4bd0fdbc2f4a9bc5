"""Which region a regulator works on: an ARS its own, the CCS and the ministry any (chosen here)."""

from __future__ import annotations

import streamlit as st

from core.places import reference
from core.shared.actor import SessionUser
from core.shared.permissions import own_region

CHOSEN_REGION = "chosen_region"


def region_choice(user: SessionUser, *, label: str = "Région") -> str:
    """The ARS's own region, or a region picked in a selectbox by national roles (kept across pages)."""
    region = own_region(user)
    if region:
        return region
    names = reference.ars_names()
    codes = sorted(names, key=names.get)
    if st.session_state.get(CHOSEN_REGION) not in names:
        st.session_state[CHOSEN_REGION] = "11" if "11" in names else codes[0]
    st.selectbox(label, codes, format_func=lambda c: f"ARS {names[c]}", key=CHOSEN_REGION, placeholder="Choisissez dans la liste")
    return st.session_state[CHOSEN_REGION]


def region_name(ars_code: str) -> str:
    return reference.ars_names().get(ars_code, ars_code)
