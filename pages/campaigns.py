"""« Appels à candidatures » (issue 15): the ARS creates, edits and publishes the calls of its region, follows their
dossiers, records the jury's decisions, publishes the results, exports the dossiers and follows the selected projects;
the CCS, the ministry and admins list the published calls with their counts (no dossier). What each reader may do
comes from core with every row."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.campaigns.campaigns import (
    CampaignInput,
    campaign_detail,
    campaign_dossiers,
    campaign_form,
    campaign_form_choices,
    create_campaign,
    export_campaign,
    list_campaigns,
    publish_campaign,
    publish_results,
    update_campaign,
)
from core.campaigns.followup import follow_up_table
from core.campaigns.scope import STATE_LABELS
from core.figures.spreadsheet import XLSX_MIME
from core.shared.actions import Action
from core.shared.clock import PARIS, paris_today
from ui.actions import read, run_action, show_refusal
from ui.campaign_dossier import dossier_panel
from ui.campaign_form import campaign_fields, campaign_form_state, form_input, may_create, paris_day
from ui.campaign_tables import (
    campaigns_frame,
    dossiers_chart,
    dossiers_frame,
    follow_up_frame,
    late_rows_highlighted,
)
from ui.downloads import content_key, prepared_download
from ui.format import fr_date
from ui.markdown import md
from ui.selection import rows_key, selection_rows

SELECTED = "campaigns_selected"  # the campaign whose detail is open, kept across actions that redraw the table
TICKS = "campaigns_ticks"  # the table's key and its ticked rows at the last run
VERSION = "campaigns_version"  # changes after each action on a campaign: a fresh table, nothing ticked
CREATE = "campaign_create"


def _after_change(campaign_id: int | None) -> None:
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    st.session_state[SELECTED] = campaign_id


# ---------------------------------------------------------------- the list


def _table(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The campaigns, one ticked to open it (the one just created or acted upon after an action)."""
    frame = campaigns_frame(rows)
    key = rows_key(f"campaigns_table_{st.session_state.get(VERSION, 0)}", frame["id"])
    event = st.dataframe(frame.drop(columns=["id"]), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=key,
                         column_config={"Appel à candidatures": st.column_config.TextColumn(width=620),
                                        "Dossiers": st.column_config.NumberColumn(width=90)})
    st.caption("Cochez la case à gauche d'un appel pour l'ouvrir.")
    ticked = selection_rows(event)
    # Only a change of the ticks opens or closes a campaign: a fresh table (after an action) keeps the one open.
    previous, current = st.session_state.get(TICKS), (key, tuple(ticked))
    if previous != current:
        if ticked:
            st.session_state[SELECTED] = int(frame.iloc[ticked[0]]["id"])
        elif previous is not None and previous[0] == key:  # unticked
            st.session_state[SELECTED] = None
        st.session_state[TICKS] = current
    return next((row for row in rows if row["id"] == st.session_state.get(SELECTED)), None)


def _chart(rows: list[dict[str, Any]]) -> None:
    figure = dossiers_chart(rows)
    if figure is not None:
        st.plotly_chart(figure, key="campaigns_chart", width="stretch", config={"displayModeBar": False})


# ---------------------------------------------------------------- a new campaign, an edit


def _create_form() -> None:
    form = campaign_form_state(CREATE)
    with st.expander("Créer un appel à candidatures", icon=":material/add_circle:", expanded=bool(form.errors())):
        choices = campaign_form_choices()
        initial = CampaignInput(required_fields=choices.default_fields, required_documents=choices.default_documents)
        st.caption("L'appel est enregistré en brouillon pour votre région ; publiez-le ensuite pour l'ouvrir aux "
                   "établissements. Les cinq onglets du dossier sont fixes : vous choisissez leurs champs "
                   "obligatoires.")
        campaign_fields(form, initial, choices)
        form.keep()
        if st.button("Enregistrer le brouillon", type="primary", icon=":material/add_circle:",
                     key="campaign_create_submit"):
            campaign = form_input(form, initial, choices)
            outcome = run_action(create_campaign, campaign=campaign, on_error=form.capture,
                                 done=f"Appel « {md(campaign.title)} » enregistré en brouillon : relisez-le, puis "
                                      "publiez-le pour l'ouvrir aux établissements de la région.")
            if outcome:
                form.reset()
                _after_change(outcome.value)
            st.rerun()
        form.summary()


def _edit_form(campaign_id: int, rules_fixed: bool) -> None:
    form = campaign_form_state(f"campaign_edit:{campaign_id}")
    with st.expander("Modifier l'appel", icon=":material/edit:", expanded=bool(form.errors())):
        initial = read(campaign_form, campaign_id=campaign_id)
        if initial is None:
            return
        choices = campaign_form_choices()
        campaign_fields(form, initial, choices, rules_fixed=rules_fixed)
        form.keep()
        if st.button("Enregistrer les modifications", type="primary", icon=":material/save:",
                     key=f"campaign_edit_submit_{campaign_id}"):
            done = (lambda changed: "Appel modifié : " + ", ".join(changed) + "." if changed  # noqa: E731
                    else "Aucun changement à enregistrer.")
            if run_action(update_campaign, campaign_id=campaign_id, campaign=form_input(form, initial, choices),
                          on_error=form.capture, done=done):
                form.reset()
                _after_change(campaign_id)
            st.rerun()
        form.summary()


# ---------------------------------------------------------------- one campaign


def _header(detail: dict[str, Any]) -> None:
    st.subheader(md(detail["title"]))
    phase = detail["state_label"] if detail["phase"] == detail["state_label"] else (
        f"{detail['state_label']} · {detail['phase']}")
    st.caption(f"ARS {md(detail['region'])} · {phase} · ouverture le "
               f"{fr_date(paris_day(detail['opens_at']))} · clôture le {fr_date(paris_day(detail['closes_at']))} à "
               f"{detail['closes_at'].astimezone(PARIS):%H:%M} · maintien du projet confirmé "
               f"au plus tard le {fr_date(detail['project_confirmation_due'])} · prise de poste au plus tard le "
               f"{fr_date(detail['start_confirmation_due'])}")
    if detail["legal_reference"]:
        st.markdown(f"**Référence** : {md(detail['legal_reference'])}")
    with st.expander("Description, pièces et champs obligatoires"):
        if detail["description"]:
            st.markdown(md(detail["description"]))
        st.markdown("**Pièces obligatoires (PDF)**\n" + "\n".join(f"- {md(d['label'])}"
                                                                  for d in detail["required_documents"]))
        st.markdown("**Champs obligatoires**\n" + "\n".join(
            f"- *{md(tab)}* : {md(', '.join(names)) if names else 'aucun'}"
            for tab, names in detail["required_field_labels"].items()))
    counts = detail["counts"]
    if counts:
        columns = st.columns(len(counts) + 1)
        columns[0].metric("Dossiers", detail["dossiers"], border=True)
        for column, (state, label) in zip(columns[1:], STATE_LABELS.items(), strict=True):
            column.metric(label, counts.get(state, 0), border=True)


def _publish(detail: dict[str, Any]) -> None:
    with st.popover("Publier l'appel…", icon=":material/campaign:", type="primary"):
        st.caption(f"Les établissements de la région (FINESS) voient l'appel et y déposent leurs dossiers du "
                   f"{fr_date(paris_day(detail['opens_at']))} au {fr_date(paris_day(detail['closes_at']))} inclus. "
                   "Ses pièces et champs obligatoires ne pourront plus changer.")
        if st.button("Oui, publier l'appel", type="primary", key=f"campaign_publish_{detail['id']}"):
            if run_action(publish_campaign, campaign_id=detail["id"],
                          done=lambda count: f"Appel « {md(detail['title'])} » publié : {count} établissement(s) de "
                                             "la région peuvent y déposer un dossier."):
                _after_change(detail["id"])
            st.rerun()


def _results_published(report: Any) -> str:
    return (f"Résultats publiés : {report.dossiers} dossier(s) décidé(s), dont {report.favourable} favorable(s) ; "
            f"{report.emails} courriel(s) en file d'envoi aux partenaires.")


def _publish_results(detail: dict[str, Any], dossiers: list[dict[str, Any]]) -> None:
    decided = [d for d in dossiers if d["decision"]]
    waiting = [d for d in dossiers if Action.DECIDE in d["actions"] and not d["decision"]]
    with st.popover("Publier les résultats…", icon=":material/send:", type="primary"):
        st.caption(f"{len(decided)} dossier(s) décidé(s) : l'établissement recruteur et la structure partenaire de "
                   "chacun reçoivent un courriel avec l'avis du jury (la motivation reste sur la plateforme, dans "
                   "l'onglet « Décision » de l'établissement). Les décisions ne pourront plus changer, et les dossiers "
                   "retenus confirmeront ensuite le maintien du projet puis la prise de poste.")
        if waiting:
            st.warning(f"{len(waiting)} dossier(s) confirmé(s) attendent encore l'avis du jury : la publication sera "
                       "refusée tant que chacun n'est pas décidé.", icon=":material/warning:")
        if st.button("Oui, publier les résultats", type="primary", key=f"campaign_results_{detail['id']}",
                     disabled=bool(waiting)):
            if run_action(publish_results, campaign_id=detail["id"], done=_results_published):
                _after_change(detail["id"])
            st.rerun()


def _export(detail: dict[str, Any], dossiers: list[dict[str, Any]]) -> None:
    def build() -> bytes | None:
        outcome = run_action(export_campaign, campaign_id=detail["id"], on_error=show_refusal)
        return outcome.value.content if outcome else None

    shown = [{k: v for k, v in row.items() if k != "actions"} for row in dossiers]  # a change, a new file
    prepared_download(key=content_key(f"campaign_export_{detail['id']}", shown),
                      label="Télécharger les dossiers (.xlsx)", prepare_label="Exporter les dossiers (.xlsx)",
                      file_name=f"appel-a-candidatures-{detail['id']}-{paris_today():%Y-%m-%d}.xlsx", mime=XLSX_MIME,
                      build=build, help="Tous les dossiers de l'appel, chaque champ, les pièces déposées, l'état, "
                                        "l'avis du jury et le suivi ; l'export est inscrit au journal.")


def _dossiers(campaign_id: int, dossiers: list[dict[str, Any]]) -> None:
    if not dossiers:
        st.info("Aucun dossier déposé pour l'instant.")
        return
    waiting = sum(1 for d in dossiers if Action.DECIDE in d["actions"] and not d["decision"])
    if waiting:
        st.info(f"{waiting} dossier(s) confirmé(s) attendent l'avis du jury.", icon=":material/gavel:")
    frame = dossiers_frame(dossiers)
    key = rows_key(f"campaign_dossiers_{campaign_id}", frame["id"])
    event = st.dataframe(frame.drop(columns=["id"]), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=key,
                         column_config={
                             "N°": st.column_config.NumberColumn("N°", width=50),
                             "Établissement": st.column_config.TextColumn(width=160),
                             "Structure partenaire": st.column_config.TextColumn(width=160),
                             "Priorité": st.column_config.TextColumn("Priorité", width=70,
                                                                     help="Rang du dossier pour son établissement"),
                             "Manque": st.column_config.NumberColumn(
                                 "Manque", width=70,
                                 help="Champs et pièces obligatoires manquants (le détail à l'ouverture)"),
                             "Pièces": st.column_config.TextColumn("Pièces", width=60)})
    st.caption("Cochez la case à gauche d'un dossier pour le lire, télécharger ses pièces et enregistrer l'avis du "
               "jury.")
    ticked = selection_rows(event)
    if ticked:
        dossier_panel(int(frame.iloc[ticked[0]]["id"]), on_change=lambda: None)


def _follow_up(detail: dict[str, Any]) -> None:
    rows = read(follow_up_table, campaign_id=detail["id"])
    if rows is None:
        return
    st.caption(f"Chaque dossier retenu confirme le maintien du projet au plus tard le "
               f"{fr_date(detail['project_confirmation_due'])}, puis la prise de poste du médecin au plus tard le "
               f"{fr_date(detail['start_confirmation_due'])} ; un rappel part par courriel sept jours avant chaque "
               "date.")
    if not rows:
        st.info("Aucun dossier retenu.")
        return
    late = [r for r in rows if r["late"]]
    if late:
        st.error("Non confirmé à l'échéance : " + " ; ".join(
            f"{md(r['establishment'])} ({md(r['candidate'])})" for r in late) + ".", icon=":material/schedule:")
    confirmed = sum(1 for r in rows if not r["pending"])
    st.markdown(f"{len(rows)} dossier(s) retenu(s) : {confirmed} à jour de leurs confirmations, "
                f"{sum(1 for r in rows if r['pending'])} en attente, dont {len(late)} en retard.")
    st.dataframe(late_rows_highlighted(follow_up_frame(rows)), hide_index=True, width="stretch",
                 key=f"campaign_follow_up_{detail['id']}",
                 column_config={"Établissement": st.column_config.TextColumn(width=200),
                                "En retard": st.column_config.TextColumn(width=80)})


def _campaign(row: dict[str, Any]) -> None:
    detail = read(campaign_detail, campaign_id=row["id"])
    if detail is None:
        return
    actions = row["actions"]
    with st.container(border=True):
        _header(detail)
        # Who exports a campaign's dossiers reads them: core gives EXPORT to the campaign's ARS alone.
        dossiers = read(campaign_dossiers, campaign_id=row["id"]) if Action.EXPORT in actions else None
        with st.container(horizontal=True, vertical_alignment="center"):
            if Action.PUBLISH in actions:
                _publish(detail)
            if Action.PUBLISH_RESULTS in actions and dossiers is not None:
                _publish_results(detail, dossiers)
            if dossiers is not None:
                _export(detail, dossiers)
        if Action.EDIT in actions:
            _edit_form(row["id"], rules_fixed=Action.PUBLISH not in actions)
        if dossiers is None:
            return
        if Action.FOLLOW_UP in actions:
            listed, followed = st.tabs([f"Dossiers ({len(dossiers)})", "Suivi des dossiers retenus"])
            with listed:
                _dossiers(row["id"], dossiers)
            with followed:
                _follow_up(detail)
        else:
            st.markdown(f"##### Dossiers ({len(dossiers)})")
            _dossiers(row["id"], dossiers)


def render() -> None:
    st.title("Appels à candidatures")
    st.caption("Appels à candidatures pour des postes financés (mesure « 400 postes de médecins généralistes dans les "
               "territoires prioritaires ») : l'ARS ouvre l'appel, les bureaux des affaires médicales des "
               "établissements déposent un dossier par candidat, le jury statue, les résultats sont publiés puis les "
               "projets retenus suivis.")
    campaigns = read(list_campaigns)
    if campaigns is None:
        return
    if campaigns:
        _chart(campaigns)
        row = _table(campaigns)
        if row is not None:
            _campaign(row)
    else:
        st.info("Aucun appel à candidatures pour l'instant.")
    if may_create():
        _create_form()
