"""The candidate search shared by "Choisir" (establishments) and "Proposer" (ARS, CCS): filters, offline
map, ranked table with row selection, pager. Each page keeps its own state under its own prefix."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.places import reference
from core.shared.clock import paris_datetime
from core.shared.config import get_settings
from core.shared.labels import DECLINE_REASONS
from core.staffing.matching import PAGE_SIZE, CandidateFilters, CandidatePage, find_candidates, km_text
from ui.actions import read
from ui.format import fr_date, fr_int
from ui.labels import MOBILITY, yes_no
from ui.links import switch_to
from ui.maps import STATE_COLOURS, candidate_deck, candidate_figure, state_legend
from ui.markdown import md
from ui.selection import candidate_from_map, rows_key, selection_rows
from ui.sheet import show_sheet

STATE_LABELS = {"contacte": "CONTACTÉ", "en_cours": "EN COURS (PROPOSÉ PAR L'ARS)", "affecte": "AFFECTÉ"}
POOL_PUSH_LABEL = "EN COURS (PROPOSÉ PAR LA PLATEFORME)"  # pushed by a territorial pool's coordinator
ROSTER_BADGE = "Vivier territorial"
STATUS_FILTER = {"disponible": "Disponible", "contacte": "Contacté", "en_cours": "En cours (proposé à l'établissement)"}


@dataclass(frozen=True)
class CandidateView:
    """Widget keys of one page's candidate search: `prefix_text`, `prefix_page`, `prefix_generation`…"""

    prefix: str
    url_path: str
    mission_key: str  # the mission the page shows, set by other pages to open it there
    establishment_hint: str = "Votre établissement"

    def open(self, mission_id: int) -> None:
        """Go to this page, on this mission, at the first page of candidates (a page number kept from another
        mission may lie past this one's end)."""
        st.session_state[self.mission_key] = mission_id
        self.first_page()
        switch_to(self.url_path)

    @property
    def page_key(self) -> str:
        return f"{self.prefix}_page"

    @property
    def generation_key(self) -> str:
        return f"{self.prefix}_generation"

    @property
    def generation(self) -> int:
        return st.session_state.get(self.generation_key, 0)

    @property
    def offset(self) -> int:
        return st.session_state.get(self.page_key, 0)

    def first_page(self) -> None:
        st.session_state[self.page_key] = 0

    def reset_selection(self) -> None:
        """After an action: the table and the map start with nothing selected."""
        st.session_state[self.generation_key] = self.generation + 1

    def filters(self) -> CandidateFilters:
        p, again = self.prefix, self.first_page
        with st.expander("Filtres", expanded=True, icon=":material/filter_alt:"):
            first = st.columns([3, 3, 3, 2])
            text = first[0].text_input("Nom ou commune", key=f"{p}_text", on_change=again)
            statuses = first[1].multiselect("Statut", list(STATUS_FILTER), format_func=STATUS_FILTER.get,
                                            key=f"{p}_status", on_change=again, placeholder="Tous")
            mobilities = first[2].multiselect("Mobilité", list(MOBILITY), format_func=MOBILITY.get,
                                              key=f"{p}_mobility", on_change=again, placeholder="Toutes")
            distance = first[3].number_input("Distance max (km)", min_value=0, max_value=1200, value=None, step=10,
                                             key=f"{p}_distance", placeholder="sans limite", on_change=again)
            boxes = st.columns(5)
            flags = [box.checkbox(text, key=f"{p}_{key}", on_change=again) for box, (key, text) in zip(boxes, (
                ("verified", "Vérifiés seulement"), ("ehpad", "Expérience EHPAD"), ("rea", "Expérience réanimation"),
                ("vacc", "Expérience vaccination"), ("whole", "Disponible toute la période")))]
        return CandidateFilters(text=text, statuses=tuple(statuses), max_distance_km=distance,
                                mobilities=tuple(mobilities), verified_only=flags[0], exp_ehpad=flags[1],
                                exp_reanimation=flags[2], exp_vaccination=flags[3], whole_period=flags[4])

    def search(self, mission_id: int) -> CandidatePage | None:
        """The filters above the table, then the current page of candidates (None after a refusal shown)."""
        filters = self.filters()
        return read(find_candidates, mission_id=mission_id, filters=filters, offset=self.offset)

    def show_map(self, page: CandidatePage) -> None:
        profession = reference.profession_labels().get(page.mission.profession_code, "")
        points = [{"id": p["id"], "lat": p["lat"], "lon": p["lon"], "name": f"{p['first_name']} {p['last_name']}",
                   "distance_km": p["distance_dm"] / 10, "state": p["proposal_state"],
                   "detail": f"{STATE_COLOURS.get(p['proposal_state'], STATE_COLOURS[None])[0]} · {profession} · "
                             f"{km_text(p['distance_dm'])} · {p['city']}"}
                  for p in page.map_points]
        establishment = {"lat": page.mission.lat, "lon": page.mission.lon, "name": page.mission.establishment_name,
                         "detail": self.establishment_hint}
        key = f"{self.prefix}_map_{self.generation}"
        if get_settings().map_tiles:
            event = st.pydeck_chart(candidate_deck(establishment, points), on_select="rerun",
                                    selection_mode="single-object", key=key, height=420)
            st.caption(state_legend() + ". Cliquez un point pour ouvrir sa fiche.")
        else:
            event = st.plotly_chart(candidate_figure(establishment, points), on_select="rerun",
                                    selection_mode="points", key=key, width="stretch")
            st.caption("Cliquez un point pour ouvrir sa fiche ; la molette zoome.")
        # The map's selection persists across reruns: open the sheet once per click, not on every later rerun
        # (a closed sheet would reopen when a row is ticked, and "Voir la fiche" would open a second dialog).
        clicked, opened = candidate_from_map(event), f"{key}:opened"
        if clicked is None:
            st.session_state.pop(opened, None)
        elif st.session_state.get(opened) != clicked:
            st.session_state[opened] = clicked
            show_sheet(clicked)

    def table(self, page: CandidatePage) -> tuple[pd.DataFrame, list[int]]:
        """The ranked table; returns it with the ticked row positions."""
        frame = candidate_frame(page)
        event = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                             # The key follows the rows shown: a selection (row positions) never survives a new
                             # filter, page or action to tick someone else.
                             key=rows_key(f"{self.prefix}_table_{self.generation}", (r["id"] for r in page.rows)),
                             column_config={"id": None,
                                            "Vivier": st.column_config.TextColumn(width="medium"),
                                            "Pourquoi ce rang": st.column_config.TextColumn(width="large"),
                                            "Distance (km)": st.column_config.NumberColumn(format="localized")})
        st.caption("Cochez la case à gauche des professionnels pour agir ; les boutons s'activent selon leur statut.")
        selected = selection_rows(event)
        for position in selected[:3]:  # the whole « Pourquoi ce rang » of the ticked rows, however narrow the column
            if position < len(page.rows):
                row = page.rows[position]
                st.caption(md(f"Pourquoi ce rang — {row['first_name']} {row['last_name']} : {row['reasons']}"))
        self.pager(page)
        turned_down_notice(page)
        return frame, selected

    def for_a_regulator(self, mission: dict) -> tuple[CandidatePage, pd.DataFrame, list[int]] | None:
        """« Proposer des candidats » and the pool's « Proposer des membres du vivier »: the mission's establishment
        and criteria, then its map and ranked table; None when there is nobody to show (the page says why)."""
        st.caption(f"{md(mission['establishment'])} ({md(mission['postal_code'])} {md(mission['city'])}) — "
                   f"{mission_criteria(mission)}")
        page = self.search(mission["id"])
        if page is None:
            return None
        if page.message:
            st.info(md(page.message), icon=":material/info:")
            return None
        self.show_map(page)
        frame, selected = self.table(page)
        return page, frame, selected

    def pager(self, page: CandidatePage) -> None:
        first = page.offset + 1
        last = page.offset + len(page.rows)
        left, middle, right = st.columns([1, 4, 1])
        left.button("◀ Précédents", disabled=page.offset == 0, key=f"{self.prefix}_prev",
                    on_click=lambda: st.session_state.update({self.page_key: max(0, page.offset - PAGE_SIZE)}))
        middle.caption(f"Affichage {first} - {last} de {fr_int(page.total)}"
                       + (f" · {fr_int(page.reserved_elsewhere)} professionnel(s) correspondant(s) réservé(s) pour "
                          "d'autres missions" if page.reserved_elsewhere else ""))
        right.button("Suivants ▶", disabled=last >= page.total, key=f"{self.prefix}_next",
                     on_click=lambda: st.session_state.update({self.page_key: page.offset + PAGE_SIZE}))


CHOOSE = CandidateView("choose", url_path="choisir", mission_key="chosen_mission")
PROPOSE = CandidateView("propose", url_path="proposer", mission_key="proposed_mission",
                        establishment_hint="Établissement demandeur")
POOL = CandidateView("pool_propose", url_path="proposer-vivier", mission_key="pool_proposed_mission",
                     establishment_hint="Établissement membre de la plateforme")


def turned_down_notice(page: CandidatePage) -> None:
    """Those this mission is never offered again (refused, declined, assignment cancelled), apart and greyed."""
    if not page.turned_down:
        return
    with st.expander(f"Écartés pour cette mission ({len(page.turned_down)})", icon=":material/block:"):
        for row in page.turned_down:
            reason = DECLINE_REASONS.get(row["reason_code"] or "")
            st.caption(md(row["sentence"] + (f" ({reason.lower()})" if reason else "") + "."))
        st.caption("Ils ne sont plus proposés pour cette mission ; ils restent candidats pour les autres.")


def candidate_frame(page: CandidatePage) -> pd.DataFrame:
    labels = reference.profession_labels()
    rows = []
    for r in page.rows:
        availability = f"du {fr_date(r['available_from'])}" + (f" au {fr_date(r['available_to'])}" if r["available_to"] else "")
        alerts = list(r["warnings"]) + (["profil non confirmé depuis 30 j"] if r["stale"] else [])
        # « Pourquoi ce rang » comes right after who and where they stand: readable without scrolling sideways.
        rows.append({
            "id": r["id"], "Nom": r["last_name"], "Prénom": r["first_name"],
            "Statut": _state_label(r), "Vivier": ROSTER_BADGE if r["pool_roster"] else "",
            "Pourquoi ce rang": r["reasons"],
            "Intéressé(e)": f"oui, le {paris_datetime(r['interested_at'])}" if r["interested_at"] else "",
            "Ville": f"{r['postal_code']} {r['city']}", "Distance (km)": r["distance_km"],
            "Vérifié": "VÉRIFIÉ" if r["verified"] else "", "⚠ Alerte": " ; ".join(alerts),
            "Disponibilités": availability, "EHPAD": yes_no(r["exp_ehpad"]),
            "Réanimation": yes_no(r["exp_reanimation"]), "Véhicule": yes_no(r["has_vehicle"]),
            "Profession": labels.get(r["profession_code"], r["profession_code"]), "Spécialité": r["specialty"] or "",
            "Mobilité": r["mobility"].capitalize(),
        })
    frame = pd.DataFrame(rows)
    # « Vivier » only where it says something: the mission of a pool's member establishment, its roster listed
    # (a coordinator sees nothing else: no column then either)
    shown = any(r["pool_roster"] for r in page.rows) and not page.roster_only
    return frame if shown else frame.drop(columns="Vivier", errors="ignore")


def _state_label(row: dict) -> str:
    return POOL_PUSH_LABEL if row["pool_push"] else STATE_LABELS.get(row["proposal_state"], "DISPONIBLE")


def mission_criteria(mission: dict) -> str:
    criteria = [text for flag, text in ((mission["exp_ehpad"], "expérience EHPAD"),
                                        (mission["exp_reanimation"], "expérience réanimation"),
                                        (mission["needs_vehicle"], "véhicule"), (mission["needs_weekend"], "week-end"),
                                        (mission["vaccination"], "vaccination")) if flag]
    return f"{mission['count']} poste(s), {mission['assigned']} pourvu(s)" + (
        f" · critères : {', '.join(criteria)}" if criteria else "")
