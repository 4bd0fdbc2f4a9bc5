"""« Plateformes territoriales » (issue 14): the ARS follows the funded pools of its region — table, map by department,
each pool's project, members, join requests and coordination — and creates new ones; the CCS and the ministry (read
only) see every pool. What each reader may do comes from core with every row."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.access.accounts import finess_category_labels
from core.places import reference
from core.pools.members import add_member, correct_finess_category, remove_member
from core.pools.projects import (
    FIELD_LABELS,
    NewPool,
    PoolList,
    ProjectFollowUp,
    close_pool,
    create_pool,
    default_deadlines,
    list_pools,
    pool_detail,
    pool_form_choices,
    pools_map,
    update_project,
)
from core.shared.actions import Action
from core.shared.clock import paris_today
from core.shared.permissions import own_region
from core.shared.validation import format_phone
from ui.actions import read, run_action
from ui.charts import OVERSEAS
from ui.field_checks import FieldCheck
from ui.format import fr_date, fr_int
from ui.forms import FormState, label
from ui.markdown import md
from ui.pool_projects import euros, join_requests_section, pools_frame, pools_map_figure
from ui.state import signed_in_user

SELECTED = "pools_selected"  # the pool whose detail is open, kept across actions that redraw the table
VERSION = "pools_version"  # changes after each action: a fresh table, nothing ticked
CREATE = "pool_create"
ALL_REGIONS = None
# Optional fields: once changed after a refused submit, their error waits for the next submit's verdict.
OPTIONAL = FieldCheck(lambda value, sibling, field: None)
PROJECT_CHECKS = {field: OPTIONAL for field in FIELD_LABELS}


# ---------------------------------------------------------------- the list, the figures, the map


def _region() -> str | None:
    """An ARS's own region; a national reader picks one, or every region."""
    region = own_region(signed_in_user())
    if region:
        return region
    names = reference.ars_names()
    return st.selectbox("Région", [ALL_REGIONS, *sorted(names, key=names.get)], key="pools_region",
                        format_func=lambda c: "Toutes les régions" if c is ALL_REGIONS else f"ARS {names[c]}",
                        placeholder="Choisissez dans la liste")


def _figures(result: PoolList) -> None:
    totals = result.totals
    first, second, third, fourth = st.columns(4)
    first.metric("Plateformes", fr_int(totals["pools"]), border=True)
    second.metric("Opérationnelles", fr_int(totals["operational"]), border=True,
                  help="Convention reçue, un coordinateur au compte activé et au moins un volontaire membre du vivier.")
    third.metric("Établissements membres", fr_int(totals["members"]), border=True)
    fourth.metric("Alertes", fr_int(totals["warnings"]), border=True,
                  help="Plateformes non opérationnelles à l'échéance de leur convention : leurs crédits peuvent être "
                       "récupérés.")
    first, second, third = st.columns([1, 1, 2])
    first.metric("Crédits engagés", euros(totals["committed"]), border=True,
                 help="Crédits dont le montant est indiqué (premier et second crédits).")
    second.metric("Crédits versés", euros(totals["paid"]), border=True,
                  help="Crédits dont la date de versement est indiquée.")
    third.metric("Vivier des plateformes", f"{fr_int(totals['roster'])} volontaire(s)", border=True,
                 help="Volontaires membres du vivier d'une plateforme (invitations acceptées et inscriptions avec le "
                      "code de la plateforme).")


def _watch_list(result: PoolList) -> None:
    """What needs the ARS now: warnings, late deadlines, join requests."""
    st.markdown("**À surveiller**")
    lines = []
    for row in result.rows:
        name = md(row["name"])
        if row["warnings"]:
            lines.append(f":red[●] **{name}** : {md(row['warnings'][0])} (manque : {md(', '.join(row['gaps']))}).")
        for what, state in (("lettre d'engagement", row["engagement"]), ("convention", row["convention"])):
            if state.late and not row["warnings"]:
                lines.append(f":orange[●] **{name}** : {what} en retard (échéance le {fr_date(state.due)}).")
        if row["join_requests"]:
            lines.append(f":blue[●] **{name}** : {row['join_requests']} demande(s) d'adhésion en attente.")
    st.markdown("  \n".join(lines) if lines else "Rien à signaler.")


def _map(region: str | None) -> None:
    rows = read(pools_map, ars_code=region)
    if not rows:
        return
    shown = [row for row in rows if row["code"] not in OVERSEAS] if region is None else rows  # mainland: readable
    st.plotly_chart(pools_map_figure(shown, height=460 if region is None else 400), key="pools_map", width="stretch",
                    config={"displayModeBar": False})
    overseas = [row for row in rows if row not in shown and row["pools"]]
    caption = "Chaque département prend l'état le plus préoccupant de ses plateformes."
    if overseas:
        caption += " Outre-mer : " + ", ".join(f"{row['name']} ({row['pools']})" for row in overseas) + "."
    st.caption(caption)


def _table(result: PoolList) -> dict[str, Any] | None:
    """The pools, one ticked to open its detail (the one just acted upon after an action)."""
    frame = pools_frame(result.rows)
    key = f"pools_table:{result.region}:{len(result.rows)}:{st.session_state.get(VERSION, 0)}"
    fresh = key not in st.session_state
    event = st.dataframe(frame.drop(columns=["id"]), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=key)
    st.caption("Cochez la case à gauche d'une plateforme pour ouvrir son suivi.")
    ticked = event.selection.rows if event else []
    if ticked:
        st.session_state[SELECTED] = int(frame.iloc[ticked[0]]["id"])
    elif not fresh:
        st.session_state[SELECTED] = None
    return next((row for row in result.rows if row["id"] == st.session_state.get(SELECTED)), None)


def _after_change(pool_id: int | None) -> None:
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1
    st.session_state[SELECTED] = pool_id


# ---------------------------------------------------------------- one pool


def _date(form: FormState, field: str, text: str, default: Any) -> None:
    key = form.key(field, default)
    st.date_input(text, key=key, format="DD/MM/YYYY", **({} if key in st.session_state else {"value": None}))
    form.error(field)


def _amount(form: FormState, field: str, text: str, default: Any, help: str | None = None) -> None:
    key = form.key(field, default)
    st.number_input(text, key=key, min_value=0, step=1000, help=help,
                    **({} if key in st.session_state else {"value": None}))
    form.error(field)


def _text(form: FormState, field: str, text: str, default: Any) -> None:
    st.text_area(text, key=form.key(field, default), height=90)
    form.error(field)


def _project_form(detail: dict[str, Any]) -> None:
    project, pool_id = detail["project"], detail["id"]
    form = FormState(f"pool_project:{pool_id}", checks=PROJECT_CHECKS)
    st.markdown("##### Échéances")
    left, right = st.columns(2)
    with left:
        _date(form, "engagement_due", label("Échéance de la lettre d'engagement", True), project["engagement_due"])
    with right:
        _date(form, "convention_due", label("Échéance de la convention", True), project["convention_due"])
    st.markdown("##### 1. Lettre d'engagement")
    left, right = st.columns(2)
    with left:
        _date(form, "engagement_received_on", "Reçue le", project["engagement_received_on"])
    with right:
        _amount(form, "total_budget", "Budget total du projet (€)", project["total_budget"])
    _text(form, "engagement_summary", "Résumé (projet, objectifs, établissements associés)",
          project["engagement_summary"])
    left, right = st.columns(2)
    with left:
        _amount(form, "funding_acquired", "Financements acquis (€)", project["funding_acquired"])
    with right:
        _amount(form, "funding_expected", "Financements attendus (€)", project["funding_expected"])
    st.markdown("##### Premier crédit (après analyse de la lettre)")
    left, right = st.columns(2)
    with left:
        _amount(form, "first_credit_amount", "Montant (€)", project["first_credit_amount"],
                help=f"{euros(detail['default_first_credit'])} par défaut dès que la date de versement est indiquée.")
    with right:
        _date(form, "first_credit_on", "Versé le", project["first_credit_on"])
    st.markdown("##### 2. Convention")
    _date(form, "convention_received_on", "Reçue le", project["convention_received_on"])
    left, right = st.columns(2)
    with left:
        _text(form, "convention_signatories", "Établissements signataires", project["convention_signatories"])
    with right:
        _text(form, "progress_report", "Bilan d'étape du fonctionnement", project["progress_report"])
    st.markdown("##### Second crédit (sur la base de la convention et du bilan d'étape)")
    left, right = st.columns(2)
    with left:
        _amount(form, "second_credit_amount", "Montant (€)", project["second_credit_amount"])
    with right:
        _date(form, "second_credit_on", "Versé le", project["second_credit_on"])
    form.keep()
    if st.button("Enregistrer le suivi", type="primary", icon=":material/save:", key=f"pool_project_save_{pool_id}"):
        follow_up = ProjectFollowUp(**{field: form.value(field) for field in FIELD_LABELS})
        done = lambda changed: ("Suivi enregistré : " + ", ".join(changed) + "." if changed  # noqa: E731
                                else "Aucun changement à enregistrer.")
        if run_action(update_project, pool_id=pool_id, follow_up=follow_up, on_error=form.capture, done=done):
            form.reset()
            _after_change(pool_id)
        st.rerun()
    form.summary()


def _project_read_only(detail: dict[str, Any]) -> None:
    project = detail["project"]
    lines = [("Échéance de la lettre d'engagement", fr_date(project["engagement_due"])),
             ("Lettre d'engagement", detail["engagement"].label),
             ("Budget total", euros(project["total_budget"])),
             ("Financements acquis / attendus",
              f"{euros(project['funding_acquired'])} / {euros(project['funding_expected'])}"),
             ("Premier crédit", f"{euros(project['first_credit_amount'])}"
                                + (f", versé le {fr_date(project['first_credit_on'])}" if project["first_credit_on"]
                                   else "")),
             ("Échéance de la convention", fr_date(project["convention_due"])),
             ("Convention", detail["convention"].label),
             ("Second crédit", f"{euros(project['second_credit_amount'])}"
                               + (f", versé le {fr_date(project['second_credit_on'])}" if project["second_credit_on"]
                                  else ""))]
    for field, text in (("engagement_summary", "Résumé de la lettre"), ("convention_signatories", "Signataires"),
                        ("progress_report", "Bilan d'étape")):
        if project[field]:
            lines.append((text, md(project[field])))
    st.markdown("\n".join(f"- **{name}** : {value}" for name, value in lines))


def _members(detail: dict[str, Any]) -> None:
    rows = detail["member_rows"]
    frame = pd.DataFrame([{"Établissement": r["name"], "FINESS": r["finess"], "Catégorie": r["category"] or "",
                           "Commune": r["city"], "Membre depuis": fr_date(r["decided_at"].date()) if r["decided_at"]
                           else "", "Support": "Oui" if r["support"] else ""} for r in rows],
                         columns=["Établissement", "FINESS", "Catégorie", "Commune", "Membre depuis", "Support"])
    st.dataframe(frame, hide_index=True, width="stretch")
    removable = {r["establishment_id"]: r["name"] for r in rows if Action.MANAGE_MEMBERS in r["actions"]}
    pool_id = detail["id"]
    if Action.MANAGE_MEMBERS not in detail["actions"]:
        return
    left, right = st.columns(2)
    with left:
        candidates = detail["candidates"]
        if candidates:
            chosen = st.selectbox("Ajouter un établissement du département", list(candidates),
                                  format_func=candidates.get, index=None, key=f"pool_add_{pool_id}",
                                  placeholder="EHPAD, SSIAD, SPASAD ou SAAD sans plateforme")
            if st.button("Ajouter à la plateforme", icon=":material/add:", key=f"pool_add_button_{pool_id}",
                         disabled=chosen is None):
                if run_action(add_member, pool_id=pool_id, establishment_id=chosen,
                              done=lambda name: f"« {md(name)} » ajouté à la plateforme ; ses comptes sont prévenus "
                                                "par courriel."):
                    _after_change(pool_id)
                st.rerun()
        else:
            st.caption("Aucun autre EHPAD, SSIAD, SPASAD ou SAAD du département n'est libre de rejoindre la plateforme.")
    with right:
        if removable:
            leaving = st.selectbox("Retirer un établissement", list(removable), format_func=removable.get, index=None,
                                   key=f"pool_remove_{pool_id}", placeholder="Choisissez un membre",
                                   help="L'établissement support reçoit les crédits : il ne peut pas être retiré.")
            with st.popover("Retirer…", icon=":material/remove:", disabled=leaving is None):
                st.caption("L'établissement quitte la plateforme : ses missions sortent de la file du coordinateur. "
                           "Il pourra la rejoindre de nouveau.")
                if st.button("Oui, retirer", type="primary", key=f"pool_remove_button_{pool_id}"):
                    if run_action(remove_member, pool_id=pool_id, establishment_id=leaving,
                                  done=lambda name: f"« {md(name)} » retiré de la plateforme."):
                        _after_change(pool_id)
                    st.rerun()
    _category_correction(detail)


def _category_correction(detail: dict[str, Any]) -> None:
    """An EHPAD registered under another FINESS category is offered nowhere: its ARS corrects the category here."""
    pool_id, establishments = detail["id"], detail["correctable"]
    if not establishments:
        return
    with st.expander("Corriger la catégorie FINESS d'un établissement du département", icon=":material/edit:"):
        st.caption("Un EHPAD, un SSIAD, un SPASAD ou un SAAD enregistré sous une autre catégorie ne peut ni demander "
                   "à rejoindre la plateforme ni y être ajouté : corrigez sa catégorie, puis ajoutez-le.")
        chosen = st.selectbox("Établissement", list(establishments), format_func=establishments.get, index=None,
                              key=f"pool_category_establishment_{pool_id}", placeholder="Nom, commune ou FINESS")
        labels = finess_category_labels()
        code = st.selectbox("Catégorie FINESS", list(labels), format_func=labels.get, index=None,
                            key=f"pool_category_code_{pool_id}", placeholder="Choisissez dans la liste")
        if st.button("Enregistrer la catégorie", icon=":material/save:", key=f"pool_category_button_{pool_id}",
                     disabled=chosen is None or code is None):
            if run_action(correct_finess_category, establishment_id=chosen, code=code,
                          done=lambda answer: f"Catégorie FINESS de « {md(answer[0])} » : {md(answer[1])}."):
                _after_change(pool_id)
            st.rerun()


def _coordination(detail: dict[str, Any]) -> None:
    st.markdown(f"**Code de la plateforme** : `{detail['code']}` — les volontaires le saisissent dans « Proposer mon "
                "aide » pour rejoindre directement son vivier.")
    st.markdown(f"**Vivier** : {fr_int(detail['roster'])} volontaire(s) membre(s), {fr_int(detail['invited'])} "
                "invitation(s) en attente.")
    if detail["coordinator_rows"]:
        st.markdown("**Coordination**\n" + "\n".join(
            f"- {md(c['name'])} — {md(c['email'])}" + (f" — {format_phone(c['phone'])}" if c["phone"] else "")
            + ("" if c["activated"] else " (compte pas encore activé)") for c in detail["coordinator_rows"]))
    elif detail["coordinators"] is None:
        st.markdown(f"**Coordination** : {detail['coordinator_count']} coordinateur(s) désigné(s).")
    else:
        st.info("Aucun coordinateur : ouvrez son compte dans « Comptes » (rôle « Coordinateur de vivier "
                "territorial », cette plateforme).", icon=":material/person_add:")
    status = "oui" if detail["operational"] else "non — manque : " + ", ".join(detail["gaps"])
    st.markdown(f"**Opérationnelle** : {status}.")
    st.caption("Opérationnelle : convention reçue, au moins un coordinateur au compte activé et au moins un volontaire "
               "membre du vivier.")


def _close(detail: dict[str, Any]) -> None:
    if Action.CLOSE not in detail["actions"]:
        return
    with st.popover("Fermer la plateforme…", icon=":material/block:"):
        st.caption("Ses établissements membres sont libérés, ses demandes d'adhésion refusées, son vivier dissous (les "
                   "volontaires inscrits avec son code rejoignent le vivier national) et ses coordinateurs ne peuvent "
                   "plus agir. Le suivi du projet reste consultable.")
        if st.button("Oui, fermer la plateforme", type="primary", key=f"pool_close_{detail['id']}"):
            if run_action(close_pool, pool_id=detail["id"], done=lambda name: f"Plateforme « {md(name)} » fermée."):
                _after_change(detail["id"])
            st.rerun()


def _detail(pool_id: int) -> None:
    detail = read(pool_detail, pool_id=pool_id)
    if detail is None:
        return
    with st.container(border=True):
        st.subheader(detail["name"])
        st.caption(f"{detail['department_code']} — {detail['department']} · ARS {detail['region']} · support : "
                   f"{detail['support']} (FINESS {detail['support_finess']}) · début du projet le "
                   f"{fr_date(detail['start_date'])} · code {detail['code']}"
                   + (f" · fermée le {fr_date(detail['closed_at'].date())}" if detail["closed_at"] else ""))
        for warning in detail["warnings"]:
            st.error(f"{warning[0].upper()}{warning[1:]} (manque : {', '.join(detail['gaps'])}).",
                     icon=":material/warning:")
        st.markdown(f"Lettre d'engagement : **{detail['engagement'].label}** (échéance le "
                    f"{fr_date(detail['engagement'].due)}) · Convention : **{detail['convention'].label}** (échéance "
                    f"le {fr_date(detail['convention'].due)}) · Crédits engagés {euros(detail['committed'])}, versés "
                    f"{euros(detail['paid'])}")
        requests = len(detail["requests"])
        project, members, joins, coordination = st.tabs([
            "Suivi du projet", f"Établissements membres ({detail['members']})",
            f"Demandes d'adhésion ({requests})", "Coordination et vivier"])
        with project:
            if Action.EDIT in detail["actions"]:
                _project_form(detail)
            else:
                _project_read_only(detail)
        with members:
            _members(detail)
        with joins:
            join_requests_section(detail["requests"], on_change=lambda: _after_change(detail["id"]))
        with coordination:
            _coordination(detail)
        _close(detail)


# ---------------------------------------------------------------- a new pool


def _create_form() -> None:
    form = FormState(CREATE)
    with st.expander("Créer une plateforme", icon=":material/add_circle:", expanded=bool(form.errors())):
        choices = read(pool_form_choices)
        if choices is None:
            return
        department = form.selectbox(label("Département", True), list(choices.departments), "department_code",
                                    format_func=choices.departments.get, placeholder="Choisir…")
        form.error("department_code")
        if st.session_state.get("pool_create_department") != department:  # another department: other choices
            st.session_state["pool_create_department"] = department
            form.set_value("support_finess", None)
            form.set_value("member_ids", [])
        detail = read(pool_form_choices, department_code=department) if department else None
        if detail is not None and detail.taken:
            st.warning(f"Ce département a déjà une plateforme ouverte, « {md(detail.taken)} » : l'appel à projets en "
                       "prévoit une par département (plusieurs seulement en Gironde et dans les Pyrénées-Atlantiques).",
                       icon=":material/warning:")
        st.text_input(label("Nom de la plateforme", True), key=form.key("name"),
                      placeholder="Plateforme territoriale solidaire du …")
        form.error("name")
        supports = detail.supports if detail else {}
        form.selectbox(label("Établissement support (celui qui reçoit les crédits)", True), list(supports),
                       "support_finess", format_func=supports.get, placeholder="Choisir (recherche par nom ou FINESS)…")
        form.error("support_finess")
        candidates = detail.members if detail else {}
        st.multiselect("Établissements membres (EHPAD, SSIAD, SPASAD, SAAD du département)", list(candidates),
                       key=form.key("member_ids"), format_func=candidates.get,
                       placeholder="Choisissez un ou plusieurs établissements",
                       help="L'établissement support en est membre d'office s'il est lui-même un EHPAD, un SSIAD, un "
                            "SPASAD ou un SAAD. D'autres pourront demander à rejoindre la plateforme.")
        form.error("member_ids")
        start = _start(form)
        left, right = st.columns(2)
        with left:
            _date(form, "engagement_due", "Échéance de la lettre d'engagement", None)
        with right:
            _date(form, "convention_due", "Échéance de la convention", None)
        if start:
            engagement, convention = default_deadlines(start)
            st.caption(f"Laissées vides, les échéances suivent l'appel à manifestation d'intérêt : lettre d'engagement "
                       f"le {fr_date(engagement)} (18 jours après le début), convention le {fr_date(convention)} "
                       "(103 jours après).")
        form.keep()
        if st.button("Créer la plateforme", type="primary", icon=":material/add_circle:", key="pool_create_submit"):
            pool = NewPool(name=form.value("name") or "", department_code=department or "",
                           support_finess=form.value("support_finess") or "",
                           member_ids=tuple(form.value("member_ids") or ()), start_date=form.value("start_date"),
                           engagement_due=form.value("engagement_due"), convention_due=form.value("convention_due"))
            outcome = run_action(create_pool, pool=pool, on_error=form.capture,
                                 done=lambda c: f"Plateforme « {md(c.name)} » créée : code {c.code}, {c.members} "
                                                "établissement(s) membre(s).")
            if outcome:
                form.reset()
                st.session_state.pop("pool_create_department", None)
                _after_change(outcome.value.id)
            st.rerun()
        form.summary()


def _start(form: FormState) -> Any:
    key = form.key("start_date", paris_today())
    st.date_input(label("Début du projet", True), key=key, format="DD/MM/YYYY")
    form.error("start_date")
    return st.session_state.get(key)


def render() -> None:
    st.title("Plateformes territoriales")
    st.caption("Plateformes territoriales solidaires de renfort RH : un vivier de remplacement partagé par les EHPAD, "
               "SSIAD, SPASAD et SAAD d'un département, porté par un établissement support et animé par un "
               "coordinateur ; suivi de chaque projet financé (lettre d'engagement, convention, crédits, échéances).")
    region = _region()
    closed = st.toggle("Afficher les plateformes fermées", key="pools_closed")
    result = read(list_pools, ars_code=region, include_closed=closed)
    if result is None:
        return
    _figures(result)
    left, right = st.columns([3, 2])
    with left:
        _map(region)
    with right:
        _watch_list(result)
    if result.rows:
        row = _table(result)
        if row is not None:
            _detail(row["id"])
    else:
        st.info("Aucune plateforme territoriale pour l'instant." if not closed else "Aucune plateforme.")
    if result.can_create:
        _create_form()
