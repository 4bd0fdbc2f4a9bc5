"""Admin, CCS, ARS (its region): « Import d'établissements » from the ministry's template (DGS circular, annex 2)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.access.establishment_import import (
    EXISTING,
    MAX_IMPORT_BYTES,
    OUTCOMES,
    REJECTED,
    TO_CREATE,
    XLSX_MIME,
    ImportReport,
    import_establishments,
    import_template,
    preview_import,
    rejected_rows_xlsx,
)
from ui.actions import read, run_action

_PREVIEW = "_establishment_import_preview"  # (digest of the file, its preview): checked once per file
_RESULT = "_establishment_import_result"  # the last import's report, whose rejected rows stay downloadable
_ROUND = "_establishment_import_round"  # a new uploader (emptied) after each import
ALL = "Toutes"


def _progress() -> tuple[Callable[[float, str], None], Callable[[], None]]:
    """A progress bar the service moves while it checks or imports a large file; and how to remove it."""
    bar = st.progress(0.0, text="Préparation…")
    return (lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text)), bar.empty


def _frame(report: ImportReport, shown: str) -> pd.DataFrame:
    rows = [row for row in report.rows if shown == ALL or row.outcome == shown]
    return pd.DataFrame([
        {"Ligne": row.line, "Résultat": row.outcome, "FINESS": row.values["finess"],
         "Établissement": row.values["establishment_name"], "Ville": row.values["city"],
         "Courriel": row.values["email"],
         "Motifs et remarques": " ; ".join((*row.reasons, *row.notes)) or row.detail}
        for row in rows
    ], columns=["Ligne", "Résultat", "FINESS", "Établissement", "Ville", "Courriel", "Motifs et remarques"])


def _rejected_download(report: ImportReport, key: str) -> None:
    if not report.rejected:
        return
    # Built during the run from a report the service has already checked: the click only hands the bytes over.
    st.download_button(f"Télécharger les {len(report.rejected)} ligne(s) rejetée(s), avec leur motif",
                       data=rejected_rows_xlsx(report), file_name="lignes-rejetees.xlsx", mime=XLSX_MIME,
                       key=key, icon=":material/download:", on_click="ignore")


def _show_report(report: ImportReport) -> None:
    counts = report.counts
    st.caption(f"Feuille lue : « {report.sheet} » — {len(report.rows)} ligne(s) remplie(s).")
    columns = st.columns(len(OUTCOMES))
    for column, outcome in zip(columns, OUTCOMES, strict=True):
        column.metric(outcome.capitalize(), counts[outcome])
    if report.joined_existing or report.unchanged:
        st.caption(f"Parmi les lignes « {EXISTING} » : {report.joined_existing} compte(s) à rattacher à un "
                   f"établissement déjà présent, {report.unchanged} ligne(s) déjà importée(s) qui ne changent rien.")
    shown = st.radio("Lignes affichées", [ALL, *OUTCOMES], horizontal=True, key="establishment_import_filter")
    st.dataframe(_frame(report, shown), hide_index=True, width="stretch")


def _confirm(report: ImportReport, content: bytes) -> None:
    if not report.can_import:
        st.info("Aucune ligne à importer : corrigez les lignes rejetées puis déposez le fichier de nouveau.",
                icon=":material/info:")
        return
    label = (f"Importer {report.accounts_to_create} compte(s) "
             f"({report.count(TO_CREATE)} ligne(s) « {TO_CREATE} », {report.joined_existing} rattachement(s))")
    if not st.button(label, type="primary", icon=":material/upload:", key="establishment_import_confirm"):
        return
    progress, done = _progress()
    outcome = run_action(import_establishments, content=content, progress=progress, done=ImportReport.summary)
    done()
    st.session_state.pop(_PREVIEW, None)
    if outcome:
        st.session_state[_RESULT] = outcome.value
        st.session_state[_ROUND] = st.session_state.get(_ROUND, 0) + 1
    st.rerun()


def _preview(content: bytes) -> ImportReport | None:
    digest = hashlib.sha256(content).hexdigest()
    stored = st.session_state.get(_PREVIEW)
    if stored is not None and stored[0] == digest:
        return stored[1]
    progress, done = _progress()
    report = read(preview_import, content=content, progress=progress)
    done()
    if report is not None:
        st.session_state[_PREVIEW] = (digest, report)
    return report


def _last_result() -> None:
    result: ImportReport | None = st.session_state.get(_RESULT)
    if result is None:
        return
    with st.container(border=True):
        st.markdown("**Dernier import**  \n" + result.summary())
        st.caption("Chaque compte créé reçoit un courriel avec son lien d'activation (valable 72 heures).")
        _rejected_download(result, "establishment_import_result_rejected")


def render() -> None:
    st.title("Import d'établissements")
    st.write("Créez en une fois les comptes de nombreux établissements à partir du modèle de tableur du ministère : "
             "une ligne par établissement et par compte. Les colonnes peuvent être dans un autre ordre ; les "
             "numéros FINESS et codes postaux qui ont perdu leur zéro initial sont corrigés. Chaque compte créé "
             "reçoit un lien d'activation par courriel.")
    st.download_button("Télécharger le modèle (.xlsx)", data=import_template(),
                       file_name="modele-import-etablissements.xlsx", mime=XLSX_MIME, icon=":material/download:",
                       on_click="ignore", key="establishment_import_template")
    _last_result()
    uploaded = st.file_uploader(f"Modèle rempli (.xlsx, {MAX_IMPORT_BYTES // (1024 * 1024)} Mo au plus)",
                                type=["xlsx"], key=f"establishment_import_file:{st.session_state.get(_ROUND, 0)}")
    if uploaded is None:
        return
    content = uploaded.getvalue()
    report = _preview(content)
    if report is None:
        return
    st.subheader("Aperçu")
    _show_report(report)
    _rejected_download(report, "establishment_import_rejected")
    _confirm(report, content)
    if report.count(REJECTED):
        st.caption("Les lignes rejetées ne sont pas importées : corrigez-les dans le fichier des lignes rejetées "
                   "(les colonnes « ligne » et « motif » sont ignorées à l'import), puis déposez-le ici.")
