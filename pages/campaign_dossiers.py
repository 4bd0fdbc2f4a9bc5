"""Establishment: « Appels à candidatures » — the ARS's published calls of its region and its own dossiers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.campaigns.dossiers import open_campaigns
from ui.format import fr_date
from ui.layout import establishment_data
from ui.markdown import md
from ui.state import signed_in_user


def _campaigns_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"Appel à candidatures": r["title"], "Ouverture": fr_date(r["opens_at"]), "Clôture": fr_date(r["closes_at"]),
         "Étape": r["phase"], "Mes dossiers": r["mine"]}
        for r in rows
    ])


def render() -> None:
    user = signed_in_user()
    st.title("Appels à candidatures")
    loaded = establishment_data(user, open_campaigns)
    if loaded is None:
        return
    establishment, campaigns = loaded
    st.caption(f"{md(establishment.name)} — les appels publiés par l'ARS de votre région.")
    if not campaigns:
        st.info("Aucun appel à candidatures n'est publié dans votre région pour l'instant.")
        return
    st.dataframe(_campaigns_frame(campaigns), hide_index=True, width="stretch")
