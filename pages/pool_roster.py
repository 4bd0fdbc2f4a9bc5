"""Territorial pool coordinator: « Vivier » — the roster (members, invitations waiting, pool-only members marked),
release to the national pool and removal with confirmation, and the invitation of volunteers of the region."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.places import reference
from core.pools.members import join_requests
from core.pools.roster import (
    SEARCH_LIMIT,
    VolunteerSearch,
    invite,
    release_member,
    remove_member,
    roster,
    search_volunteers,
)
from core.shared.actions import Action
from core.shared.clock import paris_datetime
from ui.actions import read, run_action
from ui.format import fr_int
from ui.labels import MOBILITY, PROFESSIONAL_STATUS
from ui.markdown import md
from ui.pool_heading import pool_caption
from ui.pool_projects import join_requests_section
from ui.selection import rows_key, selection_rows

POOL_ONLY = "Plateforme seulement"
GENERATION = "pool_roster_generation"  # a new key after an action: nothing stays ticked


def _generation() -> int:
    return st.session_state.get(GENERATION, 0)


def _after_action() -> None:
    st.session_state[GENERATION] = _generation() + 1


def _roster_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {"id": r["id"], "Nom": r["last_name"], "Prénom": r["first_name"], "Vivier": r["state_label"],
         "Visibilité": POOL_ONLY if r["restricted"] else ("Vivier national" if r["member"] else ""),
         "Profession": r["profession"], "Ville": f"{r['postal_code']} {r['city']}",
         "Statut": PROFESSIONAL_STATUS.get(r["status"], r["status"]), "Courriel": r["email"] or "",
         "Téléphone": r["phone"] or "",
         "Depuis le": paris_datetime(r["answered_at"] or r["created_at"]).split(" à ")[0]}
        for r in rows
    ])


def _act(service, done: str, **arguments) -> None:  # noqa: ANN001 - a core service
    run_action(service, done=done, **arguments)
    _after_action()


def _roster_actions(row: dict) -> None:
    name = f"{md(row['first_name'])} {md(row['last_name'])}"
    st.markdown(f"**{name}** — {row['state_label']}"
                + (f" — {POOL_ONLY.lower()} (inscrit(e) avec le code)" if row["restricted"] else ""))
    columns = st.columns(2)
    if Action.RELEASE in row["actions"]:
        with columns[0].popover("Ouvrir au vivier national…", icon=":material/public:", width="stretch"):
            st.write(f"{name} s'est inscrit(e) pour la plateforme seulement. L'ouvrir au vivier national permet à "
                     "tous les établissements de sa zone de le (la) solliciter ; il (elle) reste membre du vivier et "
                     "en est prévenu(e) par courriel.")
            st.button("Confirmer l'ouverture au vivier national", type="primary", key=f"release_{row['id']}",
                      on_click=_act, args=(release_member, f"{name} est ouvert(e) au vivier national ; un courriel "
                                                           "l'en informe."),
                      kwargs={"entry_id": row["id"]})
    invitation = not row["member"]
    label = "Retirer l'invitation…" if invitation else "Retirer du vivier…"
    with columns[1].popover(label, icon=":material/person_remove:", width="stretch"):
        if invitation:
            st.write(f"L'invitation de {name} sera retirée ; il (elle) ne pourra plus l'accepter.")
            done = f"Invitation de {name} retirée."
        else:
            st.write(f"{name} ne fera plus partie du vivier et en sera prévenu(e) par courriel."
                     + (" Inscrit(e) pour la plateforme seulement, son profil sera mis en pause." if row["restricted"]
                        else " Il (elle) reste dans le vivier national."))
            done = f"{name} est retiré(e) du vivier ; un courriel l'en informe."
        st.button("Confirmer le retrait", type="primary", key=f"remove_{row['id']}", on_click=_act,
                  args=(remove_member, done), kwargs={"entry_id": row["id"]})


def _roster() -> None:
    st.subheader("Membres et invitations")
    rows = read(roster)
    if rows is None:
        return
    if not rows:
        st.info("Le vivier est vide : invitez des volontaires de la région ci-dessous, ou donnez le code "
                "d'inscription de la plateforme aux professionnels qui veulent la rejoindre.", icon=":material/groups:")
        return
    members = sum(r["member"] for r in rows)
    st.caption(f"{members} membre(s), {len(rows) - members} invitation(s) en attente · « {POOL_ONLY} » : inscrit(e) "
               "avec le code de la plateforme, vu(e) de ses seuls établissements membres et de l'ARS tant que vous ne "
               "l'ouvrez pas au vivier national.")
    event = st.dataframe(_roster_frame(rows), hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", column_config={"id": None},
                         key=rows_key(f"pool_roster_table_{_generation()}", (r["id"] for r in rows)))
    selected = selection_rows(event)
    if selected and selected[0] < len(rows):
        _roster_actions(rows[selected[0]])
    else:
        st.caption("Cochez la case à gauche d'un membre pour l'ouvrir au vivier national ou le retirer.")


def _search_filters(departments: dict[str, str], own: str) -> VolunteerSearch:
    labels = reference.profession_labels()
    columns = st.columns([3, 3, 3])
    text = columns[0].text_input("Nom ou commune", key="pool_search_text")
    profession = columns[1].selectbox("Profession", [None, *labels], key="pool_search_profession",
                                      format_func=lambda c: "Toutes" if c is None else labels[c], placeholder="Toutes")
    options = [None, *departments]
    department = columns[2].selectbox("Département", options, key="pool_search_department", index=options.index(own),
                                      format_func=lambda c: "Toute la région" if c is None else
                                      f"{c} — {departments[c]}", placeholder="Toute la région")
    return VolunteerSearch(text=text, profession_code=profession, department_code=department)


def _invite(departments: dict[str, str], own: str) -> None:
    st.subheader("Inviter un volontaire de la région")
    st.caption("Le volontaire reçoit un courriel et accepte ou décline l'invitation depuis « Mon profil » : personne "
               "n'entre dans le vivier sans son accord.")
    found = read(search_volunteers, search=_search_filters(departments, own))
    if found is None:
        return
    rows, total = found
    if not rows:
        st.info("Aucun volontaire de la région ne correspond à cette recherche.")
        return
    frame = pd.DataFrame([
        {"id": r["id"], "Nom": r["last_name"], "Prénom": r["first_name"], "Profession": r["profession"],
         "Ville": f"{r['postal_code']} {r['city']}", "Mobilité": MOBILITY.get(r["mobility"], r["mobility"]),
         "Statut": PROFESSIONAL_STATUS.get(r["status"], r["status"]), "Vérifié": "VÉRIFIÉ" if r["verified"] else "",
         "Vivier": r["why_not"] or ""}
        for r in rows
    ])
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         column_config={"id": None},
                         key=rows_key(f"pool_search_table_{_generation()}", (r["id"] for r in rows)))
    shown = (f"Les {SEARCH_LIMIT} premiers sur {fr_int(total)} : affinez la recherche." if total > len(rows)
             else f"{fr_int(total)} volontaire(s).")
    st.caption(f"{shown} Cochez la case à gauche d'un volontaire pour l'inviter.")
    selected = selection_rows(event)
    if not selected or selected[0] >= len(rows):
        return
    row = rows[selected[0]]
    name = f"{md(row['first_name'])} {md(row['last_name'])}"
    if row["why_not"]:
        st.caption(f"{name} : {md(row['why_not'])}")
    st.button(f"Inviter {row['first_name']} {row['last_name']}", type="primary", icon=":material/person_add:",
              disabled=Action.INVITE not in row["actions"], on_click=_act,
              args=(invite, f"Invitation envoyée à {name} : il (elle) répondra depuis « Mon profil »."),
              kwargs={"professional_id": row["id"]})


def render() -> None:
    st.title("Vivier")
    heading = pool_caption()
    if heading is None:
        return
    _roster()
    _invite(heading["region_departments"], heading["department_code"])  # the pool's own department first
    st.subheader("Demandes d'adhésion d'établissements")
    st.caption("Un EHPAD, SSIAD, SPASAD ou SAAD du département demande à rejoindre la plateforme : acceptez-le ou "
               "refusez-le (l'ARS le peut aussi).")
    join_requests_section(read(join_requests, pool_id=heading["id"]) or [], on_change=_after_action)
