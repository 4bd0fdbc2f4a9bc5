"""« Archivage des missions » (issue 11) — being built."""

from __future__ import annotations

import streamlit as st


def render() -> None:
    st.title("Archivage des missions")
