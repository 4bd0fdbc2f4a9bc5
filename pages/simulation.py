"""CCS: « Simulation » — the crisis simulator's last report, and a small run started from here (issue 17).

The report is what `python -m core simulate` wrote under RENFORT_SIMULATION_DIR (core.figures.simulation): the
key figures, the charts of ui.simulation_charts, the regions, and the HTML file to download. A run started here
works in a process of its own, on a temporary database: the page follows it with a progress bar refreshed every
two seconds (a fragment: only the bar is drawn again), then shows its report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core.figures.simulation import (
    DAYS,
    DEFAULTS,
    RULES,
    SEEDS,
    WAVES,
    RunProgress,
    SimulationOverview,
    SimulationRequest,
    SimulationRun,
    latest_report,
    simulation_progress,
    start_simulation,
)
from ui import simulation_charts as charts
from ui.actions import read, run_action
from ui.format import fr_int
from ui.forms import FormState, label
from ui.markdown import md
from ui.state import flash

FORM = "simulation"
RUN_KEY = "simulation_run_id"  # the run this session follows with its progress bar
REFRESH_SECONDS = 2
INTRO = ("Le simulateur rejoue une vague de besoins en renforts de plusieurs semaines, région par région : "
         "établissements, volontaires, ARS et CCS y agissent deux fois par jour simulé au travers des vrais services "
         "de la plateforme, et l'on compare les règles de 2020 aux nôtres (postes pourvus, délais, équité des "
         "sollicitations). Chaque simulation tourne dans un processus à part, sur sa propre base de données "
         "temporaire créée pour l'occasion : la base réelle n'est jamais lue ni modifiée.")
KIND_WORDS = {"report": "Rapport d'une simulation", "comparison": "Rapport d'une comparaison de simulations"}


# ---------------------------------------------------------------- starting a run and following it


def _launcher(overview: SimulationOverview) -> None:
    form = FormState(FORM)
    following = st.session_state.get(RUN_KEY) or (overview.running.run_id if overview.running else None)
    with st.expander("Lancer une simulation", icon=":material/play_circle:",
                     expanded=bool(form.errors()) or following is not None or overview.latest is None):
        if following is not None:
            _progress(following)
        elif overview.failed is not None:
            st.error(f"La dernière simulation ({md(overview.failed.run_id)}) a échoué : {md(overview.failed.error)}",
                     icon=":material/error:")
        st.caption("Au jeu de démonstration (environ 300 établissements et 3 000 volontaires) : une à deux minutes "
                   "par simulation, deux fois plus pour les deux règles comparées.")
        left, right = st.columns(2)
        with left:
            st.number_input(label("Graine", True), step=1, format="%d", key=form.key("seed", DEFAULTS["seed"]),
                            help=f"Entre {SEEDS[0]} et {fr_int(SEEDS[1])} : la même graine rejoue la même "
                                 "vague, aux mêmes décisions.")
            form.error("seed")
            st.number_input(label("Jours simulés", True), step=1, format="%d", key=form.key("days", DEFAULTS["days"]),
                            help=f"De {DAYS[0]} à {DAYS[1]} jours.")
            form.error("days")
        with right:
            st.radio(label("Règles", True), list(RULES), format_func=RULES.get, key=form.key("rules", DEFAULTS["rules"]))
            form.error("rules")
            st.number_input(label("Nombre de besoins de la vague", True), step=10, format="%d",
                            key=form.key("wave", DEFAULTS["wave"]),
                            help=f"De {WAVES[0]} à {WAVES[1]} missions déposées pendant la vague.")
            form.error("wave")
        form.keep()
        if st.button("Lancer la simulation", type="primary", icon=":material/play_arrow:", key="simulation_start",
                     disabled=not overview.can_start,
                     help=None if overview.can_start else "Une simulation est en cours : attendez qu'elle se termine."):
            _start(form)
        form.summary()


def _start(form: FormState) -> None:
    request = SimulationRequest(seed=form.value("seed"), rules=form.value("rules"), days=form.value("days"),
                                wave=form.value("wave"), scale="demo")
    outcome = run_action(start_simulation, request=request, on_error=form.capture,
                         done="Simulation lancée : sa progression s'affiche ci-dessous, son rapport à la fin.")
    if outcome:
        form.set_errors({})
        st.session_state[RUN_KEY] = outcome.value
    st.rerun()  # drawn again: the bar of the run, or each error beside its field


@st.fragment(run_every=REFRESH_SECONDS)
def _progress(run_id: str) -> None:
    """The bar of the run in progress, drawn again every two seconds; the whole page once the run has ended."""
    progress: RunProgress | None = read(simulation_progress, run_id=run_id)
    if progress is None:
        st.session_state.pop(RUN_KEY, None)
        return
    if progress.running:
        text = progress.phase_label + (f" — {progress.message}" if progress.message else "")
        st.progress(progress.fraction, text=md(text))
        return
    st.session_state.pop(RUN_KEY, None)
    if progress.failed:
        flash("error", f"La simulation a échoué : {md(progress.error or '')}")
    else:
        flash("success", "La simulation est terminée : son rapport est affiché ci-dessous.")
    st.rerun(scope="app")


# ---------------------------------------------------------------- the last report


def _metrics(report: Mapping[str, Any]) -> None:
    figures = charts.key_figures(report)
    for start in range(0, len(figures), 4):
        for column, figure in zip(st.columns(4), figures[start:start + 4]):
            column.metric(figure.label, figure.value, help=figure.help)


WIDE = {"regions"}  # a bar per region and two panels: the page's whole width


def _charts(figures: list, prefix: str) -> None:
    """Two charts a row, the wide ones alone on theirs."""
    pairs = [(key, figure) for key, figure in figures if key not in WIDE]
    for position in range(0, len(pairs), 2):
        for column, (key, figure) in zip(st.columns(2), pairs[position:position + 2]):
            column.plotly_chart(figure, key=f"{prefix}{key}", width="stretch", config={"displayModeBar": False})
    for key, figure in figures:
        if key in WIDE:
            st.plotly_chart(figure, key=f"{prefix}{key}", width="stretch", config={"displayModeBar": False})


def _single(report: Mapping[str, Any], prefix: str) -> None:
    parameters = report["parameters"]
    st.markdown(md(f"{parameters.get('rules_label') or charts.rules_label(parameters.get('rules', ''))} — graine "
                   f"{parameters.get('seed')}, {parameters.get('days')} jours, {parameters.get('wave')} besoins, "
                   f"échelle {charts.SCALE_LABELS.get(parameters.get('scale'), parameters.get('scale'))}, "
                   f"à partir du {charts.fr_date_text(parameters.get('start'))}."))
    _metrics(report)
    _charts(charts.report_figures(report), prefix)
    st.subheader("Par région")
    st.dataframe(charts.regions_table(report), hide_index=True, width="stretch", key=f"{prefix}regions")
    with st.expander("Paramètres de la simulation", icon=":material/tune:"):
        st.dataframe(_parameters(parameters), hide_index=True, width="stretch", key=f"{prefix}parameters")


def _parameters(parameters: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(charts.parameter_lines(parameters), columns=["Paramètre", "Valeur"])


def _comparison(run: SimulationRun) -> None:
    comparison = run.comparison or {}
    st.markdown(md(charts.comparison_summary(comparison)))
    targets = charts.targets_table(comparison)
    if not targets.empty:
        st.subheader("Objectifs")
        st.table(targets, hide_index=True)  # a table, not a data grid: its long values wrap instead of being cut
    st.subheader("Médianes des graines")
    st.dataframe(charts.medians_table(comparison), hide_index=True, width="stretch", key="simulation_medians")
    if run.reports:
        seed = (comparison.get("seeds") or ["?"])[0]
        st.subheader(f"Les règles sur la même vague (graine {seed})")
        _charts(charts.comparison_figures(run.reports), "simulation_")
    st.subheader("Chaque simulation")
    st.dataframe(charts.runs_table(comparison), hide_index=True, width="stretch", key="simulation_runs")
    if run.reports:
        st.subheader(f"Le détail de chaque règle (graine {(comparison.get('seeds') or ['?'])[0]})")
        for tab, (rules, report) in zip(st.tabs([charts.rules_label(r) for r in run.reports]), run.reports.items()):
            with tab:
                _single(report, f"simulation_{rules}_")


def _report(run: SimulationRun | None) -> None:
    if run is None:
        st.info("Aucune simulation n'a encore été faite : lancez-en une ci-dessus. Son rapport s'affichera ici.",
                icon=":material/info:")
        return
    st.header("Dernier rapport")
    st.caption(md(f"{KIND_WORDS[run.kind]}, terminée le {run.finished_label} — dossier {run.path}."))
    if run.html is not None:
        st.download_button("Télécharger le rapport (.html)", data=run.html, file_name=run.html_name,
                           mime="text/html", icon=":material/download:", key="simulation_download",
                           help="Un fichier autonome, graphiques compris, qui s'ouvre sans connexion.")
    if run.kind == "comparison":
        _comparison(run)
    elif run.report is not None:
        _single(run.report, "simulation_")


def render() -> None:
    st.title("Simulation")
    st.markdown(INTRO)
    overview: SimulationOverview | None = read(latest_report)
    if overview is None:
        return
    _launcher(overview)
    _report(overview.latest)
