"""Establishment: « Appels à candidatures » — the ARS's published calls of its region, the establishment's dossiers
in each (printable recap, priority), and one dossier in tabs (ui.dossier_tabs)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.campaigns.dossiers import my_dossiers, open_campaigns, rank_dossiers
from core.shared.actions import Action
from core.shared.clock import paris_datetime, utcnow
from ui.actions import read, run_action
from ui.dossier_recap import moved, printable_html, recap_frame
from ui.dossier_tabs import NEW, dossier_view, new_dossier_view, prune_drafts, unsaved_guard, unsaved_tabs
from ui.format import fr_date, fr_day
from ui.layout import establishment_data
from ui.markdown import md
from ui.state import signed_in_user

CAMPAIGN = "campaign_dossiers_campaign"  # the campaign chosen
OPEN_NEXT = "campaign_dossiers_open_next"  # {campaign id: dossier id}: the dossier to open at the next run
# What was chosen, kept outside the widgets (Streamlit forgets a widget's value once another page is drawn): back on
# the page, the same campaign and dossier are open. {"campaign": id, <campaign id>: dossier id}
CHOSEN = "_campaign_dossiers_chosen"


def _chosen() -> dict:
    return st.session_state.setdefault(CHOSEN, {})


def _open_key(campaign_id: int) -> str:
    return f"campaign_dossiers_open:{campaign_id}"


def _campaigns_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"Appel à candidatures": r["title"], "Ouverture": fr_day(r["opens_at"]), "Clôture": fr_day(r["closes_at"]),
         "Étape": r["phase"], "Mes dossiers": r["mine"]}
        for r in rows
    ])


def _choose_campaign(campaigns: list[dict]) -> dict[str, Any]:
    by_id = {c["id"]: c for c in campaigns}
    if st.session_state.get(CAMPAIGN) not in by_id:
        remembered = _chosen().get("campaign")
        st.session_state[CAMPAIGN] = remembered if remembered in by_id else next(
            (c["id"] for c in campaigns if c["open"]), campaigns[0]["id"])
    chosen = st.selectbox("Appel à candidatures", list(by_id), key=CAMPAIGN, placeholder="Choisissez un appel",
                          format_func=lambda i: f"{by_id[i]['title']} ({by_id[i]['phase']})")
    _chosen()["campaign"] = chosen
    return by_id[chosen]


def _file_new(campaign_id: int) -> None:
    st.session_state[_open_key(campaign_id)] = NEW


def _header(campaign: dict[str, Any]) -> None:
    st.subheader(md(campaign["title"]))
    st.markdown(f"**{campaign['phase']}** — ouverture le {fr_day(campaign['opens_at'])}, clôture le "
                f"{paris_datetime(campaign['closes_at'])}  \nDossiers retenus : maintien du projet à confirmer au plus "
                f"tard le {fr_date(campaign['project_confirmation_due'])}, prise de poste du médecin au plus tard le "
                f"{fr_date(campaign['start_confirmation_due'])}.")
    with st.expander("Texte de référence, description et pièces demandées", icon=":material/description:"):
        if campaign["legal_reference"]:
            st.markdown(f"**Texte de référence** : {md(campaign['legal_reference'])}")
        if campaign["description"]:
            st.markdown(md(campaign["description"]))
        st.markdown("**Pièces demandées (PDF)** :  \n" + "  \n".join(
            f"– {md(d['label'])}" for d in campaign["required_documents"]))
    if campaign["closed"]:
        st.info(f"Appel clos le {paris_datetime(campaign['closes_at'])} : vos dossiers ne peuvent plus être modifiés "
                "et sont présentés en lecture seule.", icon=":material/lock:")
    if Action.FILE in campaign["actions"]:
        st.button("Déposer un nouveau dossier", key=f"campaign_dossiers_new:{campaign['id']}", type="primary",
                  icon=":material/note_add:", on_click=_file_new, args=(campaign["id"],))


def _recap(campaign: dict[str, Any], establishment: Any, rows: list[dict]) -> None:
    st.markdown("**Mes dossiers**, par ordre de priorité")
    if not rows:
        st.caption("Aucun dossier déposé dans cet appel.")
        return
    results = campaign["results_published"]
    st.dataframe(recap_frame(rows, with_decision=results), hide_index=True, width="stretch", column_config={
        "Priorité": st.column_config.TextColumn(width=70),
        "Statut du candidat": st.column_config.TextColumn(width=170),
        "Structure partenaire": st.column_config.TextColumn(width=190),
        "Éléments manquants": st.column_config.TextColumn("Manque", width=70,
                                                            help="Champs et pièces obligatoires encore manquants"),
        "Pièces": st.column_config.TextColumn(width=60)})
    st.download_button("Version imprimable", printable_html(campaign=campaign["title"], establishment=establishment.name,
                                                            rows=rows, with_decision=results, now=utcnow()),
                       file_name=f"dossiers-appel-{campaign['id']}.html", mime="text/html", on_click="ignore",
                       key=f"campaign_dossiers_print:{campaign['id']}", icon=":material/print:",
                       help="Une page HTML du tableau, à ouvrir puis imprimer depuis le navigateur (Ctrl+P).")


def _move(campaign: dict[str, Any], establishment_id: int, rows: list[dict], dossier_id: int, step: int) -> None:
    order = moved([r["id"] for r in rows], dossier_id, step)
    names = {r["id"]: r["candidate"] for r in rows}
    run_action(rank_dossiers, campaign_id=campaign["id"], establishment_id=establishment_id, dossier_ids=order,
               done=lambda ids: "Ordre de priorité enregistré : " + ", ".join(
                   f"{rank}. {md(names[i])}" for rank, i in enumerate(ids, start=1)) + ".")


def _ranking(campaign: dict[str, Any], establishment_id: int, rows: list[dict]) -> None:
    with st.expander("Classer mes dossiers par priorité", icon=":material/low_priority:"):
        st.caption("Le premier dossier est celui que votre établissement présente en priorité. L'ordre ne change pas "
                   "la confirmation des dossiers.")
        for position, row in enumerate(rows):
            text, up, down = st.columns([6, 1, 1], vertical_alignment="center")
            text.markdown(f"**{row['priority']}.** {md(row['candidate'])} — {md(row['partner'] or '–')}")
            up.button("Monter", key=f"rank_up:{row['id']}", icon=":material/arrow_upward:", disabled=position == 0,
                      on_click=_move, args=(campaign, establishment_id, rows, row["id"], -1), width="stretch")
            down.button("Descendre", key=f"rank_down:{row['id']}", icon=":material/arrow_downward:",
                        disabled=position == len(rows) - 1, on_click=_move,
                        args=(campaign, establishment_id, rows, row["id"], 1), width="stretch")


def _choose_dossier(campaign: dict[str, Any], rows: list[dict]) -> int | None:
    key = _open_key(campaign["id"])
    options = ([NEW] if Action.FILE in campaign["actions"] else []) + [r["id"] for r in rows]
    pending = st.session_state.get(OPEN_NEXT, {}).pop(campaign["id"], None)
    if pending is not None:
        st.session_state[key] = pending
    elif st.session_state.get(key) not in options:
        # Not drawn since another page, or the browser sent back the label the dossier had before a save (its
        # candidate's name, its state): the dossier that was open stays open.
        remembered = _chosen().get(campaign["id"])
        st.session_state[key] = remembered if remembered in options else None
    by_id = {r["id"]: r for r in rows}

    def shown(option: int) -> str:
        if option == NEW:
            return "Nouveau dossier"
        row = by_id[option]
        return f"{row['priority']}. {row['candidate']} — {row['partner'] or '–'} — {row['state_label']}"

    chosen = st.selectbox("Dossier ouvert", options, format_func=shown, key=key, placeholder="Choisissez un dossier")
    _chosen()[campaign["id"]] = chosen
    elsewhere = [f"{shown(option)} ({', '.join(unsaved_tabs(campaign['id'], option))})" for option in options
                 if option != chosen and unsaved_tabs(campaign["id"], option)]
    if elsewhere:
        st.warning("Modifications non enregistrées dans d'autres dossiers : " + md(" ; ".join(elsewhere)) + ".",
                   icon=":material/edit_note:")
    return chosen


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
    # The titles of a measure's waves differ by their last words: the whole title fits, the follow-up dates are in
    # the chosen call's header.
    st.dataframe(_campaigns_frame(campaigns), hide_index=True, width="stretch", column_config={
        "Appel à candidatures": st.column_config.TextColumn(width=540),
        "Mes dossiers": st.column_config.NumberColumn(width=100)})
    campaign = _choose_campaign(campaigns)
    _header(campaign)
    rows = read(my_dossiers, campaign_id=campaign["id"], establishment_id=establishment.id)
    if rows is None:
        return
    prune_drafts(campaign["id"], {r["id"] for r in rows})
    _recap(campaign, establishment, rows)
    if len(rows) > 1 and all(Action.RANK in r["actions"] for r in rows):
        _ranking(campaign, establishment.id, rows)
    st.divider()
    chosen = _choose_dossier(campaign, rows)

    def open_next(dossier_id: int | None) -> None:
        st.session_state.setdefault(OPEN_NEXT, {})[campaign["id"]] = dossier_id

    if chosen == NEW:
        new_dossier_view(campaign, establishment.id, on_created=open_next)
    elif chosen is not None:
        dossier_view(campaign, chosen, on_deleted=lambda: open_next(None))
    unsaved_guard()
