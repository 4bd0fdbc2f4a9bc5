"""CCS (and the ministry, read-only): "Vue nationale" — tension of the whole country."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.figures.indicators import (
    IndicatorFilters,
    NationalOverview,
    Period,
    activity_period,
    dashboard_period,
    national_overview,
)
from core.figures.tension_history import TREND_DAYS, TensionHistory, tension_history
from core.places import reference
from core.shared.clock import paris_datetime
from core.shared.config import get_settings
from core.shared.permissions import is_read_only
from core.staffing.regulation import MissionFilters, region_missions
from ui.actions import read, read_shared
from ui.charts import (
    OVERSEAS,
    all_zero,
    choropleth,
    colour_range,
    line,
    posts_bars,
    selected_location,
)
from ui.format import fr_date, fr_int, fr_percent, precomputed_caption
from ui.state import signed_in_user
from ui.tension import history_controls, ranking_frame, render_history

MEASURES = {"unfilled": "Postes non pourvus", "tension": "Tension : postes non pourvus par volontaire disponible"}
MAP_KEYS = ("national_map", *(f"national_inset_{code}" for code in OVERSEAS))
PERIOD_HELP = ("Par défaut, les 30 derniers jours et les 60 prochains : les besoins en cours et à venir. "
               "Une mission compte quand ses dates chevauchent la période ; la courbe d'activité s'arrête à "
               "aujourd'hui.")


def _filters() -> IndicatorFilters:
    labels = reference.profession_labels()
    # Open on the current and upcoming needs, not on the last 30 days only: a need that starts next
    # week is exactly what the crisis centre must staff (see core.figures.indicators.dashboard_period).
    default = dashboard_period()
    left, right = st.columns(2)
    period = left.date_input("Période", value=(default.start, default.end), key="national_period",
                             format="DD/MM/YYYY", help=PERIOD_HELP)
    profession = right.selectbox("Profession", [None, *labels], key="national_profession",
                                 format_func=lambda c: "Toutes" if c is None else labels[c], placeholder="Toutes")
    chosen = Period(period[0], period[-1]) if len(period) == 2 else None
    return IndicatorFilters(period=chosen, profession_code=profession)


def _headline(overview: NationalOverview) -> None:
    h = overview.headline
    first = st.columns(4)
    first[0].metric("Besoins ouverts", fr_int(h.open_missions), border=True)
    first[1].metric("Postes demandés", fr_int(h.posts_requested), border=True)
    first[2].metric("Postes pourvus", fr_int(h.posts_filled), border=True)
    first[3].metric("Taux de pourvoi", fr_percent(h.fill_rate), border=True)
    second = st.columns(3)
    second[0].metric("Volontaires disponibles", fr_int(h.available_volunteers), border=True)
    second[1].metric("Demandes de compte en attente", fr_int(h.pending_account_requests), border=True)
    second[2].metric("Alertes des ARS ouvertes", fr_int(h.open_alerts), border=True)


def _crises(overview: NationalOverview) -> None:
    """Crisis mode at a glance: which regions, for which professions, since when."""
    if not overview.crises:
        st.caption("Mode gestion de crise : aucune région.")
        return
    lines = [f"**{crisis.region}** — {crisis.profession}, depuis le {paris_datetime(crisis.since)}"
             for crisis in overview.crises]
    st.warning("Mode gestion de crise actif (l'ARS propose elle-même les candidats) :  \n" + "  \n".join(lines),
               icon=":material/emergency:")


def _crisis_words(overview: NationalOverview) -> dict[str, str]:
    """Per region in crisis mode, the hover line of its departments."""
    words: dict[str, list[str]] = {}
    for crisis in overview.crises:
        day = paris_datetime(crisis.since).split(" à ")[0]
        words.setdefault(crisis.ars_code, []).append(f"{crisis.profession} depuis le {day}")
    return {code: " ; ".join(parts) for code, parts in words.items()}


def _map_frame(overview: NationalOverview, by_region: bool) -> pd.DataFrame:
    regions = {r.ars_code: r for r in overview.by_region}
    crises = _crisis_words(overview)
    rows = []
    for d in overview.by_department:
        source = regions.get(d.ars_code) if by_region else d
        unfilled, available, tension = source.unfilled_posts, source.available_same_professions, source.tension
        # No tension where posts wait and nobody is available: a grey category of its own on the map.
        rows.append({"Code": d.department_code, "Département": f"{d.department_name} ({d.department_code})",
                     "Région": reference.ars_names().get(d.ars_code, ""), "Postes non pourvus": unfilled,
                     "Volontaires disponibles": available, "Tension": tension,
                     "Postes non pourvus par volontaire": _tension_words(tension, unfilled),
                     "Mode gestion de crise": crises.get(d.ars_code, "non")})
    return pd.DataFrame(rows)


def _tension_words(tension: float | None, unfilled: int) -> str:
    if tension is None:
        return "aucun volontaire disponible" if unfilled else "–"
    return f"{tension:.2f}".replace(".", ",")


def _ranking(overview: NationalOverview, trends: TensionHistory | None) -> None:
    """Beside the map, its departments from the most tense, with the change over 7 days of the history."""
    st.markdown("**Départements par tension**")
    frame = ranking_frame([(d.department_code, d.department_name, d.unfilled_posts, d.tension)
                           for d in overview.by_department], trends.departments if trends else [])
    if frame.empty:
        st.caption("Aucun département n'a de poste non pourvu pour ces filtres.")
        return
    # Pixel widths: the table sits in a third of the page and must not scroll sideways.
    st.dataframe(frame, hide_index=True, width="stretch", height=560, column_config={
        "Département": st.column_config.TextColumn(width=130),
        "Tension": st.column_config.TextColumn(help="Postes non pourvus par volontaire disponible", width=100),
        f"{TREND_DAYS} j": st.column_config.TextColumn(help=f"Évolution de la tension en {TREND_DAYS} jours",
                                                      width=58),
        "Postes": st.column_config.NumberColumn(help="Postes non pourvus", width=58)})
    st.caption(f"Tension et postes non pourvus du jour pour ces filtres ; « {TREND_DAYS} j » : évolution de la "
               f"tension depuis {TREND_DAYS} jours selon les relevés quotidiens (– : jour manquant ou volontaires "
               "inconnus).")


def _maps(overview: NationalOverview, ranking: TensionHistory | None) -> str | None:
    """The mainland and the overseas departments as insets; returns the clicked department, if any."""
    left, right = st.columns([3, 2])
    measure = left.radio("Indicateur", list(MEASURES), format_func=MEASURES.get, horizontal=True, key="national_measure")
    mesh = right.radio("Maille", ["department", "region"], horizontal=True, key="national_mesh",
                       format_func={"department": "Départements", "region": "Régions"}.get)
    frame = _map_frame(overview, mesh == "region")
    if frame.empty:
        st.info("Aucune donnée pour ces filtres.")
        return None
    if all_zero(frame, ["Postes non pourvus"]):
        st.info("Aucun poste non pourvu pour ces filtres : aucun département n'est en tension.")
    value = "Postes non pourvus" if measure == "unfilled" else "Tension"
    hover = ["Région", "Postes non pourvus", "Volontaires disponibles", "Postes non pourvus par volontaire",
             "Mode gestion de crise"]
    scale = colour_range(frame[value].tolist())
    if value == "Postes non pourvus":  # a count is never missing: no grey category
        frame = frame.assign(**{value: frame[value].fillna(0)})
    mainland = frame[~frame["Code"].isin(OVERSEAS)]
    map_column, ranking_column = st.columns([3, 2])
    with map_column:
        selections = {"national_map": selected_location(st.plotly_chart(
            choropleth(mainland, value, hover, scale, title=MEASURES[measure], height=640),
            on_select="rerun", selection_mode="points", key="national_map", width="stretch"))}
    with ranking_column:
        _ranking(overview, ranking)
    insets = st.columns(len(OVERSEAS))
    for column, (code, name) in zip(insets, OVERSEAS.items()):
        part = frame[frame["Code"] == code]
        with column:
            st.caption(name)
            # Clickable like the mainland: the same choropleth, so the same point selection.
            selections[f"national_inset_{code}"] = selected_location(st.plotly_chart(
                choropleth(part, value, hover, scale, height=170, legend=False),
                on_select="rerun", selection_mode="points", key=f"national_inset_{code}", width="stretch",
                config={"displayModeBar": False}))
    st.caption("Cliquez un département (en métropole ou outre-mer) pour afficher ses missions. En mode « Régions », "
               "chaque département prend la valeur de sa région.")
    return _latest_click(selections)


def _latest_click(selections: dict[str, str | None]) -> str | None:
    """The department of the latest click over the mainland map and the insets.

    Each chart keeps its own selection between runs, so several may hold one: the latest click is the
    selection that changed since the previous run; the list closes when its selection is cleared."""
    seen = st.session_state.get("national_seen_clicks", {})
    shown = st.session_state.get("national_shown_click")  # (chart key, department code)
    for key, code in selections.items():
        if code and code != seen.get(key):
            shown = (key, code)
    if shown and selections.get(shown[0]) != shown[1]:
        shown = None
    st.session_state["national_seen_clicks"] = selections
    st.session_state["national_shown_click"] = shown
    return shown[1] if shown else None


def _department_missions(code: str, filters: IndicatorFilters) -> None:
    """The department's open missions still to staff, under the page's profession and period filters."""
    departement = reference.departements().get(code)
    if departement is None or departement.ars_code is None:
        return
    st.subheader(f"Missions ouvertes — {departement.name} ({code})")
    period = filters.period
    # Imported here: this function is the only part of the page the drill-down touches (issue 13).
    from ui.drill_down import View, view_link

    view_link("Ouvrir le département dans « Missions nationales »", View(
        ars_code=departement.ars_code, department_code=code, profession_code=filters.profession_code,
        period_start=period.start if period else None, period_end=period.end if period else None),
        icon=":material/travel_explore:")
    queue = read(region_missions, ars_code=departement.ars_code, limit=200, filters=MissionFilters(
        department_code=code, profession_code=filters.profession_code,
        period_start=period.start if period else None, period_end=period.end if period else None,
        unfilled_only=True))
    if queue is None:
        return
    scope = [reference.profession_labels().get(filters.profession_code, filters.profession_code)] \
        if filters.profession_code else []
    if period:
        scope.append(f"dates chevauchant la période du {fr_date(period.start)} au {fr_date(period.end)}")
    shown = f" ({len(queue.rows)} premières sur {fr_int(queue.total)})" if queue.total > len(queue.rows) else ""
    st.caption("Missions à pourvoir, les plus urgentes d'abord" + (" — " + ", ".join(scope) if scope else "")
               + shown + ".")
    if not queue.rows:
        st.info("Aucune mission ouverte à pourvoir dans ce département pour ces filtres.")
        return
    st.dataframe(pd.DataFrame([
        {"Urgence": r["urgency"], "Établissement": r["establishment"], "CP": r["postal_code"],
         "Profession": r["profession"], "Début": fr_date(r["start_date"]), "Fin": fr_date(r["end_date"]),
         "Pourvue": f"POURVUE {r['assigned']}/{r['count']}", "Alerte": "ALERTE CCS" if r["ccs_alert_at"] else ""}
        for r in queue.rows
    ]), hide_index=True, width="stretch")


def _history(filters: IndicatorFilters) -> None:
    """« Évolution de la tension »: the country or one region, by day or week."""
    st.subheader("Évolution de la tension")
    names = reference.ars_names()
    left, right = st.columns([1, 2])
    region = left.selectbox("Territoire", [None, *sorted(names, key=names.get)], key="national_history_region",
                            format_func=lambda code: "Toute la France" if code is None else names[code],
                            placeholder="Toute la France")
    with right:
        step, days = history_controls("national_history")
    shared = read_shared(tension_history, ars_code=region, profession_code=filters.profession_code, days=days,
                         step=step)
    if shared is not None:
        render_history(shared[0], "national_history")


def _charts(overview: NationalOverview, activity: Period | None) -> None:
    posts = ["Postes demandés", "Postes pourvus"]
    regions = pd.DataFrame([{"Région": r.name, "Postes demandés": r.requested, "Postes pourvus": r.filled}
                            for r in overview.by_region_posts])
    professions = pd.DataFrame([{"Profession": p.label, "Postes demandés": p.requested, "Postes pourvus": p.filled}
                                for p in overview.by_profession_posts if p.requested])
    left, right = st.columns(2)
    if all_zero(regions, posts):
        left.info("Aucun poste demandé pour ces filtres : pas de graphique par région.")
    else:
        left.plotly_chart(posts_bars(regions, "Région", "Postes demandés et pourvus par région", horizontal=True),
                          width="stretch", key="national_regions")
    if all_zero(professions, posts):
        right.info("Aucun poste demandé pour ces filtres : pas de graphique par profession.")
    else:
        right.plotly_chart(posts_bars(professions.head(12), "Profession", "Par profession (les 12 premières)",
                                      horizontal=True), width="stretch", key="national_professions")
    if activity is None:
        st.info("La période choisie est entièrement à venir : il n'y a pas encore d'activité à tracer.")
        return
    series = pd.DataFrame([{"Jour": d.day, "Missions créées": d.missions_created, "Affectations": d.assignments}
                           for d in overview.time_series])
    if all_zero(series, ["Missions créées", "Affectations"]):
        st.info(f"Aucune mission créée ni affectation du {fr_date(activity.start)} au {fr_date(activity.end)}.")
        return
    st.plotly_chart(line(series, "Jour", ["Missions créées", "Affectations"],
                         f"Activité du {fr_date(activity.start)} au {fr_date(activity.end)}"),
                    width="stretch", key="national_series")


def render() -> None:
    st.title("Vue nationale")
    if is_read_only(signed_in_user()):
        st.caption("Consultation seule.")
    filters = _filters()
    activity = activity_period(filters.period) if filters.period else None
    shared = read_shared(national_overview, filters=filters, series_period=activity)
    if shared is None:
        return
    overview, computed_at = shared
    if overview.computed_at is not None:  # the worker's snapshot of the opening view
        st.caption(precomputed_caption(overview.computed_at))
    else:
        st.caption(f"Chiffres à {paris_datetime(computed_at).split(' à ')[1]}, recalculés au plus toutes les "
                   f"{get_settings().figures_cache_seconds} s.")
    if filters.period is None:  # a range being picked: the series falls back to the last 30 days
        activity = overview.period
    _headline(overview)
    _crises(overview)
    trends = read_shared(tension_history, profession_code=filters.profession_code, days=TREND_DAYS + 1)
    clicked = _maps(overview, trends[0] if trends else None)
    if clicked:
        _department_missions(clicked, filters)
    _history(filters)
    _charts(overview, activity)
