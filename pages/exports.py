"""« Exports »: the ministry, the CCS, each ARS (its region) and each establishment (its own data) choose a
dataset and its filters, see the first rows and the row count, then prepare the .xlsx or CSV file.

What each reader may export, and whether names may be asked, comes from core (export_options); the file
is recorded in the audit trail before it is built (prepare_export, a write), then streamed with a
progress bar (build_export, a read).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.figures.datasets import CATEGORY, DEPARTMENT, PERIOD, PROFESSION, REGION, STATUS, ExportFilters
from core.figures.exports import (
    ExportOptions,
    ExportPreview,
    ExportRequest,
    build_export,
    export_options,
    prepare_export,
    preview_export,
)
from core.figures.spreadsheet import XLSX_MIME
from core.places import reference
from core.pools.projects import export_pools, pool_export_scope
from core.shared.errors import DomainError
from ui.actions import read, run_action
from ui.downloads import content_key, prepared_download
from ui.format import fr_int
from ui.markdown import md

FORMATS = {"xlsx": "Excel (.xlsx)", "csv": "CSV (point-virgule, UTF-8)"}
EVERYWHERE = None  # the « toutes / tous » choice of a filter


def _choice(column, label: str, options: dict[str, str], key: str, everything: str) -> str | None:  # noqa: ANN001
    return column.selectbox(label, [EVERYWHERE, *options], key=key,
                            format_func=lambda code: everything if code is EVERYWHERE else options[code], placeholder="Choisissez dans la liste")


def _region(options: ExportOptions, column) -> str | None:  # noqa: ANN001
    if options.fixed_region:
        column.text_input("Région", f"ARS {options.regions[options.fixed_region]}", disabled=True,
                          key="exports_region_fixed", help="Une ARS exporte les données de sa région.")
        return options.fixed_region
    names = {code: f"ARS {name}" for code, name in options.regions.items()}
    return _choice(column, "Région", names, "exports_region", "Toutes les régions")


def _filters(options: ExportOptions, dataset: str) -> ExportFilters:
    used = options.filters[dataset]
    first, second, third = st.columns(3)
    region = _region(options, first) if REGION in used and options.regions else None
    departments = {d.code: f"{d.code} — {d.name}" for d in sorted(reference.departements().values(),
                                                                     key=lambda d: d.code)
                   if region is None or d.ars_code == region}
    department = _choice(second, "Département", departments, f"exports_department_{region}",
                         "Tous les départements") if DEPARTMENT in used else None
    profession = _choice(third, "Profession", reference.profession_labels(), "exports_profession",
                         "Toutes les professions") if PROFESSION in used else None
    first, second, third = st.columns(3)
    category = _choice(first, "Catégorie d'établissement", reference.category_labels(), "exports_category",
                       "Toutes les catégories") if CATEGORY in used else None
    start = end = None
    if PERIOD in used:
        start = second.date_input("Du", value=None, format="DD/MM/YYYY", key="exports_from")
        end = third.date_input("Au", value=None, format="DD/MM/YYYY", key="exports_to")
    statuses: list[str] = []
    if STATUS in used:
        labels = options.statuses[dataset]
        statuses = st.multiselect("Statut", list(labels), format_func=labels.get, key=f"exports_statuses_{dataset}",
                                  placeholder="Tous les statuts")
    return ExportFilters(ars_code=region, department_code=department, profession_code=profession,
                         category_code=category, start=start, end=end, statuses=tuple(statuses))


def _request(options: ExportOptions) -> ExportRequest:
    dataset = st.selectbox("Jeu de données", list(options.datasets), format_func=options.datasets.get,
                           key="exports_dataset", placeholder="Choisissez dans la liste")
    st.caption(options.descriptions[dataset])
    filters = _filters(options, dataset)
    left, right = st.columns(2)
    steps = options.steps[dataset]
    step = left.radio("Regroupement des postes", list(steps), format_func=steps.get, horizontal=True,
                      key="exports_step") if steps else "semaine"
    file_format = (right if steps else left).radio("Format", list(FORMATS), format_func=FORMATS.get,
                                                   horizontal=True, key="exports_format")
    if options.names_allowed:
        nominative = st.checkbox("Export nominatif (noms, coordonnées et numéros RPPS des personnes)",
                                 key="exports_nominative",
                                 help="Sans cette case, chaque volontaire est un pseudonyme stable et son département "
                                      "remplace sa commune. Un export nominatif est inscrit comme tel au journal.")
    else:
        nominative = False
        st.caption("Exports pseudonymisés : chaque volontaire y est un pseudonyme stable, son département remplace "
                   "sa commune ; ni nom, ni courriel, ni téléphone, ni numéro RPPS.")
    return ExportRequest(dataset, filters, nominative=nominative, file_format=file_format, step=step or "semaine")


def _show_preview(preview: ExportPreview) -> None:
    st.subheader("Aperçu")
    # The scope names an establishment's establishments: typed text.
    st.markdown(f"**{fr_int(preview.total)} ligne(s)** dans le fichier — {md(preview.scope_label)}.")
    if not preview.rows:
        st.info("Aucune ligne pour ces filtres : le fichier ne contiendra que les en-têtes.")
        return
    frame = _blank_missing_texts(pd.DataFrame(preview.rows, columns=preview.columns))
    st.dataframe(frame, hide_index=True, width="stretch", column_config=_french_dates(frame))
    if preview.total > len(preview.rows):
        st.caption(f"Les {len(preview.rows)} premières lignes sur {fr_int(preview.total)}.")


def _blank_missing_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """An empty cell reads as nothing, not « None » (a browser's word for a missing value): texts get "", and a
    column of numbers or dates with gaps becomes text (the file keeps the types)."""
    for name in frame.columns:
        values = frame[name].dropna()
        if len(values) and isinstance(values.iloc[0], str):
            frame[name] = frame[name].fillna("")
        elif pd.api.types.is_datetime64_any_dtype(frame[name]) and len(values) < len(frame):
            frame[name] = [value.strftime("%d/%m/%Y %H:%M") if pd.notna(value) else "" for value in frame[name]]
        elif len(values) < len(frame) and not isinstance(values.iloc[0] if len(values) else None, date):
            frame[name] = [_shown(value) for value in frame[name]]
    return frame


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return fr_int(value) if isinstance(value, int) else str(value).replace(".", ",")


def _french_dates(frame: pd.DataFrame) -> dict[str, object]:
    """Dates shown JJ/MM/AAAA, as in the file."""
    config: dict[str, object] = {}
    for name in frame.columns:
        values = frame[name].dropna()
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            config[name] = st.column_config.DatetimeColumn(name, format="DD/MM/YYYY HH:mm")
        elif len(values) and isinstance(values.iloc[0], date):
            config[name] = st.column_config.DateColumn(name, format="DD/MM/YYYY")
    return config


def _refused(error: DomainError) -> None:
    st.error(md(error.message), icon=":material/error:")


def _build(request: ExportRequest) -> bytes | None:
    """Recorded first (a write transaction of its own), then streamed with a progress bar."""
    recorded = run_action(prepare_export, request=request, on_error=_refused)
    if not recorded:
        return None
    bar = st.progress(0.0, text="Préparation du fichier…")

    def progress(done: int, expected: int) -> None:
        bar.progress(min(1.0, done / expected) if expected else 1.0,
                     text=f"{fr_int(done)} ligne(s) écrite(s) sur {fr_int(expected)}")

    # The rows from the replica when there is one, once it holds the Event just recorded on the primary.
    exported = read(build_export, receipt=recorded.value, progress=progress, replica=True, caught_up=True)
    bar.empty()
    return None if exported is None else exported.content


def _pools_export() -> None:
    """The territorial pools (ARS: its region; CCS and ministry: all), for those who export them."""
    scope = read(pool_export_scope, on_error=lambda error: None)
    if scope is None:
        return
    st.divider()
    st.subheader("Plateformes territoriales")
    st.caption(f"Périmètre : {md(scope.label)}. Une ligne par plateforme (établissement support, membres, coordination, "
               "vivier, échéances, budget, crédits engagés et versés, alerte), puis ses établissements membres et les "
               "demandes d'adhésion ; l'export est inscrit au journal.")

    def build() -> bytes | None:
        done = run_action(export_pools, on_error=_refused)
        return done.value.content if done else None

    prepared_download(key=content_key("pools_export", scope), label="Télécharger les plateformes (.xlsx)",
                      file_name=scope.file_name, mime=XLSX_MIME, build=build, prepare_label="Préparer l'export des "
                      "plateformes")


def render() -> None:
    st.title("Exports")
    options = read(export_options)
    if options is None:
        return
    st.caption(f"Périmètre : {md(options.scope_label)}. Chaque fichier porte une première feuille « À propos » "
               "(jeu de données, filtres, auteur, date, nombre de lignes) et chaque export est inscrit au journal.")
    request = _request(options)
    preview = read(preview_export, request=request, replica=True)
    if preview is None:
        return
    _show_preview(preview)
    label = "Télécharger le fichier Excel" if request.file_format == "xlsx" else "Télécharger le fichier CSV"
    prepared_download(key=content_key("export", (request, preview.total)), label=label,
                      file_name=preview.file_name, mime=preview.mime, build=lambda: _build(request),
                      help="Construit le fichier maintenant ; l'export est inscrit au journal (qui, quoi, filtres, "
                           "nominatif ou non, nombre de lignes).")
    _pools_export()
