"""ARS: « Appels à candidatures » — the region's recruitment campaigns (CCS, ministry, admins: the published ones)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.campaigns.campaigns import list_campaigns
from ui.actions import read
from ui.format import fr_date


def _campaigns_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"Appel à candidatures": r["title"], "Région": r["region"], "État": r["state_label"], "Étape": r["phase"],
         "Ouverture": fr_date(r["opens_at"]), "Clôture": fr_date(r["closes_at"]), "Dossiers": r["dossiers"]}
        for r in rows
    ])


def render() -> None:
    st.title("Appels à candidatures")
    campaigns = read(list_campaigns)
    if campaigns is None:
        return
    if not campaigns:
        st.info("Aucun appel à candidatures pour l'instant.")
        return
    st.dataframe(_campaigns_frame(campaigns), hide_index=True, width="stretch")
