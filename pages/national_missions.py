"""CCS, ministry (read-only) and admins: « Missions nationales » — every region's missions in one list, the most
urgent first, and the drill-down France › région › département › établissement › mission with its breadcrumbs.

The level, the filters and the page number live in the address (ui.drill_down.View): a reload or a shared link
shows the same view. The filter widgets follow the address: when it changes from outside (a link, a breadcrumb,
a reload), they are drawn anew from it (a new key generation); when the user changes a widget, the address
follows the widget.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import streamlit as st

from core.figures.national_missions import (
    ALERT_FILTERS,
    URGENCY_LEVELS,
    Breakdown,
    NationalMissionList,
    Place,
    national_breakdown,
    national_mission,
    national_missions,
)
from core.places import reference
from core.shared.actions import Action
from core.shared.clock import paris_datetime, paris_today
from core.shared.permissions import is_read_only
from core.staffing.regulation import urgency_explanation
from ui.actions import read
from ui.candidates import PROPOSE
from ui.drill_down import View, crumbs, view_link
from ui.format import fr_date, fr_int
from ui.labels import yes_no
from ui.markdown import md
from ui.regions import CHOSEN_REGION
from ui.selection import rows_key, selection_rows
from ui.state import signed_in_user

PAGE_SIZE = 50
SYNCED = "national_missions_synced"  # the address as this page last wrote or read it
GENERATION = "national_missions_generation"  # bumped when the address changed from outside: widgets drawn anew
URGENCY_NAMES = {key: label for key, label, _ in URGENCY_LEVELS}
CRISIS_CHOICES = {True: "En mode gestion de crise", False: "Hors mode gestion de crise"}
CHILDREN = {"france": ("region", "Régions"), "region": ("department", "Départements"),
            "department": ("establishment", "Établissements")}
LEVEL_WORDS = ", ".join(f"{label.lower()} " + (f"à partir de {lowest}" if lowest else f"en dessous de {above[2]}")
                        for (_, label, lowest), above in zip(URGENCY_LEVELS, ((0, "", 0), *URGENCY_LEVELS)))
OPEN_WORDS = {"region": "la région", "department": "le département", "establishment": "l'établissement"}
# Columns of the list that the level already says (its breadcrumbs name them): left out, so that a row fits.
IMPLIED = {"france": (), "region": (), "department": ("Département",), "establishment": ("Département", "Établissement")}
NARROW = ("Début", "Fin", "Alerte, crise")  # short values (mostly a dash for the last): narrow
BOUNDED = {"Département": 130, "Établissement": 190, "Profession": 180}
ROW_PIXELS = 35  # a row of st.dataframe (and its header)
CRUMB_ICONS = (":material/public:", ":material/map:", ":material/location_on:", ":material/domain:")


# ---------------------------------------------------------------- the address


def _current_view() -> View:
    """The view of the address. When the address changed since this page wrote it (a link, a breadcrumb, a reload),
    it is written back in its clean form — and so sent to the browser, whose address bar a link to this same page
    leaves as it was (seen in Chromium) — and the widgets are drawn anew from it."""
    params = st.query_params.to_dict()
    view = View.from_params(params)
    if st.session_state.get(SYNCED) != params:
        _go(view)
    return view


def _go(view: View, *, from_widgets: bool = False) -> None:
    """Show this view: the address is written, and the filter widgets drawn anew from it — unless the change
    comes from the widgets themselves, which show it already."""
    params = view.to_params()
    st.query_params.from_dict(params)
    st.session_state[SYNCED] = params
    if not from_widgets:
        st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def _key(name: str) -> str:
    return f"national_missions_{name}_{st.session_state.get(GENERATION, 0)}"


# ---------------------------------------------------------------- filters


def _filters(view: View) -> View:
    """The filter widgets, drawn with the view's values; the view they give (first page again on a change)."""
    professions, categories = reference.profession_labels(), reference.category_labels()
    first = st.columns([3, 3, 2])
    profession = first[0].selectbox(
        "Profession", [None, *professions], index=_index([None, *professions], view.profession_code),
        format_func=lambda c: "Toutes" if c is None else professions[c], key=_key("profession"), placeholder="Toutes")
    category = first[1].selectbox(
        "Catégorie d'établissement", [None, *categories], index=_index([None, *categories], view.category_code),
        format_func=lambda c: "Toutes" if c is None else categories[c], key=_key("category"), placeholder="Toutes")
    today = paris_today()
    chosen = (view.period_start, view.period_end) if view.period_start and view.period_end else ()
    period = first[2].date_input(
        "Période", value=chosen, format="DD/MM/YYYY", key=_key("period"),
        min_value=min([today - timedelta(days=365), *filter(None, chosen)]),
        max_value=max([today + timedelta(days=365), *filter(None, chosen)]),
        help="jj/mm/aaaa – jj/mm/aaaa : les missions dont les dates chevauchent la période.")
    second = st.columns([3, 3, 2])
    urgency = second[0].multiselect("Urgence", list(URGENCY_NAMES), default=list(view.urgency_levels),
                                    format_func=URGENCY_NAMES.get, key=_key("urgency"), placeholder="Tous les niveaux")
    alert = second[1].selectbox("Alerte CCS", [None, *ALERT_FILTERS], index=_index([None, *ALERT_FILTERS], view.alert),
                                format_func=lambda a: "Toutes" if a is None else ALERT_FILTERS[a], key=_key("alert"),
                                placeholder="Toutes")
    crisis = second[2].selectbox("Mode gestion de crise", [None, True, False],
                                 index=_index([None, True, False], view.crisis),
                                 format_func=lambda c: "Tous" if c is None else CRISIS_CHOICES[c], key=_key("crisis"),
                                 placeholder="Tous")
    start, end = (period[0], period[-1]) if len(period) == 2 else (view.period_start, view.period_end)
    if len(period) == 0:
        start = end = None
    chosen_view = replace(view, profession_code=profession, category_code=category, period_start=start, period_end=end,
                          urgency_levels=tuple(level for level in URGENCY_NAMES if level in urgency), alert=alert,
                          crisis=crisis)
    return chosen_view if chosen_view == view else replace(chosen_view, page=1)


def _index(options: list, value: object) -> int:
    return next((i for i, option in enumerate(options) if option is value or option == value), 0)


# ---------------------------------------------------------------- levels


def _breadcrumbs(slot, view: View, place: Place) -> None:  # noqa: ANN001 - a Streamlit container
    with slot.container(horizontal=True, gap="small", vertical_alignment="center", key="national_missions_crumbs"):
        for position, crumb in enumerate(crumbs(view, place)):
            if position:
                st.markdown("›")
            if crumb.view is None:
                st.markdown(f"**{md(crumb.label)}**")
            else:
                view_link(crumb.label, crumb.view, icon=CRUMB_ICONS[position])


def _figures(listed: NationalMissionList) -> None:
    columns = st.columns(4)
    columns[0].metric("Missions ouvertes", fr_int(listed.total), border=True)
    columns[1].metric("Postes demandés", fr_int(listed.posts), border=True)
    columns[2].metric("Postes non pourvus", fr_int(listed.unfilled), border=True)
    columns[3].metric("Alertes CCS en cours", fr_int(listed.alerts), border=True)


def _children(view: View) -> None:
    """The level below: a row per region, department or establishment; a ticked row opens it."""
    level, title = CHILDREN[view.level]
    # Counts by region, department or establishment: the replica's (a second of lag); the lists stay on the primary.
    breakdown: Breakdown | None = read(national_breakdown, level=level, filters=view.filters(), replica=True)
    if breakdown is None:
        return
    st.subheader(title)
    if not breakdown.rows:
        st.info("Aucun établissement n'a de mission pour ces filtres dans ce département.")
        return
    frame = pd.DataFrame([_child_row(level, row) for row in breakdown.rows])
    # Every region or department in sight at once (at most 18 rows); establishments scroll within the table.
    height = ROW_PIXELS * (len(frame) + 1) + 3 if level != "establishment" else "auto"
    event = st.dataframe(frame, hide_index=True, width="stretch", height=height, on_select="rerun",
                         selection_mode="single-row", column_config={"code": None, "Urgence max.": st.column_config.TextColumn(
                             alignment="right")},
                         key=rows_key(f"national_missions_{level}", (r["code"] for r in breakdown.rows)))
    shown = f" ({len(breakdown.rows)} premiers sur {fr_int(breakdown.total)})" if breakdown.total > len(breakdown.rows) else ""
    st.caption(f"Cochez une ligne pour ouvrir {OPEN_WORDS[level]} ; les chiffres suivent les filtres ci-dessus{shown}.")
    picked = selection_rows(event)
    if picked and picked[0] < len(breakdown.rows):
        code = breakdown.rows[picked[0]]["code"]
        target = {"region": {"ars_code": code}, "department": {"department_code": code},
                  "establishment": {"establishment_id": code}}[level]
        _go(replace(view, **target, page=1))
        st.rerun()


def _child_row(level: str, row: dict) -> dict:
    name = {"region": ("Région", row["name"]), "department": ("Département", f"{row['name']} ({row['code']})"),
            "establishment": ("Établissement", row["name"])}[level]
    line = {"code": row["code"], name[0]: name[1]}
    if level == "establishment":
        line["Ville"] = row["city"]
    # The urgency is a dash where there is no mission (a browser shows a missing number as « None »).
    line |= {"Missions": row["missions"], "Postes demandés": row["posts"], "Postes non pourvus": row["unfilled"],
             "Alertes CCS": row["alerts"],
             "Urgence max.": "–" if row["top_urgency"] is None else str(row["top_urgency"])}
    if level == "region":
        line["Mode gestion de crise"] = row["crisis"] or "non"
    if level == "establishment":  # long labels: last, so that the figures stay in sight
        line["Catégorie"] = row["category"]
    return line


def _missions(view: View, listed: NationalMissionList) -> None:
    st.subheader("Missions, les plus urgentes d'abord")
    if not listed.rows:
        _empty(view)
        return
    frame = pd.DataFrame([{
        "id": r["id"], "Urgence": r["urgency"],  # its level in the column's help; the department says the region
        "Département": f"{r['department']} ({r['department_code']})", "Établissement": r["establishment"],
        "Profession": r["profession"], "Début": fr_date(r["start_date"]), "Fin": fr_date(r["end_date"]),
        "Pourvue": f"POURVUE {r['assigned']}/{r['count']}", "Alerte, crise": _signals(r),
    } for r in listed.rows]).drop(columns=list(IMPLIED[view.level]))
    event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         column_config={"id": None, **_narrow()}, key=rows_key("national_missions_list", frame["id"]))
    first = listed.offset + 1
    left, middle, right = st.columns([1, 4, 1], vertical_alignment="center")
    left.button("◀ Précédentes", disabled=view.page <= 1, key="national_missions_previous",
                on_click=_go, args=(replace(view, page=view.page - 1),))
    middle.caption(f"Affichage {fr_int(first)}-{fr_int(listed.offset + len(listed.rows))} sur {fr_int(listed.total)} "
                   "· cochez une mission pour l'ouvrir.")
    right.button("Suivantes ▶", disabled=listed.offset + len(listed.rows) >= listed.total,
                 key="national_missions_next", on_click=_go, args=(replace(view, page=view.page + 1),))
    picked = selection_rows(event)
    if picked and picked[0] < len(listed.rows):
        row = listed.rows[picked[0]]
        _go(replace(view, ars_code=row["ars_code"], department_code=row["department_code"],
                    establishment_id=row["establishment_id"], mission_id=row["id"], page=1))
        st.rerun()


def _signals(row: dict) -> str:
    """An alert to the CCS and crisis mode in one column (most rows have neither): the row fits the page."""
    signals = [f"alerte CCS : {row['alert_label'].lower()}" if row["ccs_alert_at"] else "",
               "mode gestion de crise" if row["crisis"] else ""]
    return " · ".join(s for s in signals if s).capitalize() or "–"


def _narrow() -> dict:
    """Narrow columns for the short values and bounded ones for the long names (the whole name on hover), so that
    a row fits a 1400-pixel screen without scrolling sideways."""
    return {**{name: st.column_config.Column(width="small") for name in NARROW},
            **{name: st.column_config.Column(width=pixels) for name, pixels in BOUNDED.items()},
            "Urgence": st.column_config.NumberColumn(width="small", help=f"Score d'urgence. Niveaux : {LEVEL_WORDS}.")}


def _empty(view: View) -> None:
    filtered = view.without_filters() != replace(view, page=1)
    where = {"france": "dans le pays", "region": "dans cette région", "department": "dans ce département",
             "establishment": "dans cet établissement"}[view.level]
    advice = ("Retirez un filtre ou élargissez la période" if filtered else "Remontez d'un niveau par le fil d'Ariane")
    st.info(f"Aucune mission ouverte ne correspond à ces filtres {where}. {advice}.", icon=":material/search_off:")
    if filtered:
        st.button("Retirer tous les filtres", key="national_missions_clear", on_click=_go,
                  args=(replace(view.without_filters(), mission_id=None),))


# ---------------------------------------------------------------- one mission


def _mission(slot, view: View) -> None:  # noqa: ANN001 - a Streamlit container
    mission = read(national_mission, mission_id=view.mission_id)
    if mission is None:
        _breadcrumbs(slot, view, Place())
        return
    _breadcrumbs(slot, view, mission["place"])
    st.subheader(f"{mission['profession']} — {mission['establishment']}")
    left, right = st.columns(2)
    left.markdown("\n".join([
        f"- **Statut** : {mission['status_label']} — POURVUE {mission['assigned']}/{mission['count']}, "
        f"{mission['waiting']} en attente de réponse",
        f"- **Urgence** : {mission['urgency']} ({mission['urgency_label']})"
        + (f" ; priorité manuelle de l'ARS : {mission['manual_priority']}" if mission["manual_priority"] else ""),
        f"- **Dates** : du {fr_date(mission['start_date'])} au {fr_date(mission['end_date'])}",
        f"- **Spécialité** : {md(mission['specialty'] or '–')}",
        f"- **Critères** : expérience EHPAD {yes_no(mission['exp_ehpad']).lower()}, réanimation "
        f"{yes_no(mission['exp_reanimation']).lower()}, véhicule {yes_no(mission['needs_vehicle']).lower()}, "
        f"week-end {yes_no(mission['needs_weekend']).lower()}, vaccination {yes_no(mission['vaccination']).lower()}",
    ]))
    right.markdown("\n".join([
        f"- **Établissement** : {md(mission['establishment'])}, {mission['postal_code']} {md(mission['city'])}",
        f"- **Catégorie** : {mission['category']}",
        f"- **Département** : {mission['department']} ({mission['department_code']}) — ARS {mission['region']}",
        f"- **Mode gestion de crise** : {'oui, l’ARS propose les candidats' if mission['crisis'] else 'non'}",
        "- **Contact** : " + _contact(mission),
        f"- **Créée le** : {paris_datetime(mission['created_at'])}",
    ]))
    if mission["ccs_alert_at"]:
        st.warning(f"Alerte au CCS ({mission['alert_label']}) du {paris_datetime(mission['ccs_alert_at'])} : "
                   f"{md(mission['ccs_alert_message'] or '')}", icon=":material/campaign:")
    if Action.PROPOSE in mission["actions"]:
        st.button("Proposer des candidats", type="primary", icon=":material/person_search:",
                  key="national_missions_propose", on_click=_propose, args=(mission["ars_code"], mission["id"]))
    else:
        st.caption("Consultation seule.")


def _contact(mission: dict) -> str:
    if mission["contact_hidden"]:
        return "non communiqué au ministère (données pseudonymisées)"
    parts = [md(part) for part in (mission["contact_name"], mission["contact_phone"]) if part]
    return " — ".join(parts) if parts else "non renseigné"


def _propose(ars_code: str, mission_id: int) -> None:
    st.session_state[CHOSEN_REGION] = ars_code
    PROPOSE.open(mission_id)


# ---------------------------------------------------------------- the page


def render() -> None:
    st.title("Missions nationales")
    read_only = is_read_only(signed_in_user())
    st.caption(("Consultation seule : les coordonnées des contacts ne sont pas affichées (données pseudonymisées). "
                if read_only else "") + "Toutes les régions, les missions les plus urgentes d'abord.",
               help=f"{urgency_explanation()} Ici, d'une région à l'autre, seul le score classe : la priorité manuelle "
                    f"d'une ARS ordonne sa propre file. Niveaux : {LEVEL_WORDS}.")
    view = _current_view()
    slot = st.container()  # the breadcrumbs, above the filters: drawn once the service has resolved the place
    if view.level == "mission":  # one mission: no filter applies (they are kept in the address for the way back)
        _mission(slot, view)
        return
    chosen = _filters(view)
    if chosen != view:
        _go(chosen, from_widgets=True)
        view = chosen
    listed = read(national_missions, filters=view.filters(), offset=(view.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if listed is None:
        _breadcrumbs(slot, view, Place())
        return
    if not listed.rows and view.page > 1:  # a page past the end (a shared link to a list since shortened)
        _go(replace(view, page=1))
        st.rerun()
    _breadcrumbs(slot, view, listed.place)
    _figures(listed)
    if view.level in CHILDREN:
        _children(view)
    _missions(view, listed)
