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
    XLSX_MIME,
    ImportReport,
    import_establishments,
    import_template,
    preview_import,
    rejected_rows_xlsx,
)
from ui.actions import read, run_action
from ui.markdown import md

_PREVIEW = "_establishment_import_preview"  # (digest of the file, its preview, its rejected rows): once per file
_RESULT = "_establishment_import_result"  # (the last import's report, its rejected rows), downloadable afterwards
_ROUND = "_establishment_import_round"  # a new uploader (emptied) after each import
ALL = "Toutes"
MAX_MB = MAX_IMPORT_BYTES // (1024 * 1024)
# ui.layout writes the limit of a volunteer's document under every uploader; this one takes a workbook.
UPLOADER_HINT = f"""<style>.st-key-establishment_import_upload [data-testid="stFileUploaderDropzoneInstructions"]
  span::after {{ content: "Classeur Excel (.xlsx) — {MAX_MB} Mo au plus"; }}</style>"""


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


def _rejected_file(report: ImportReport) -> bytes | None:
    """Built once, when the report arrives, and kept with it: the click only hands the bytes over."""
    return rejected_rows_xlsx(report) if report.rejected else None


def _rejected_download(report: ImportReport, content: bytes | None, key: str) -> None:
    if content is None:
        return
    st.download_button(f"Télécharger les lignes rejetées ({len(report.rejected)}), avec leur motif",
                       data=content, file_name="lignes-rejetees.xlsx", mime=XLSX_MIME, key=key,
                       icon=":material/download:", on_click="ignore")


def _show_report(report: ImportReport) -> None:
    counts = report.counts
    st.caption(f"Feuille lue : « {md(report.sheet)} » — {len(report.rows)} ligne(s) remplie(s).")  # the file's own
    columns = st.columns(len(OUTCOMES))
    for column, outcome in zip(columns, OUTCOMES, strict=True):
        column.metric(outcome.capitalize(), counts[outcome])
    if report.joined_existing or report.unchanged:
        st.caption(f"Parmi les lignes « {EXISTING} » : {report.joined_existing} compte(s) à rattacher à un "
                   f"établissement déjà présent, {report.unchanged} ligne(s) déjà importée(s) qui ne changent rien.")
    shown = st.radio("Lignes affichées", [ALL, *OUTCOMES], horizontal=True, key="establishment_import_filter")
    st.dataframe(_frame(report, shown), hide_index=True, width="stretch",
                 column_config={"Motifs et remarques": st.column_config.TextColumn(width="large")})


def _confirm(report: ImportReport, content: bytes) -> None:
    if not report.can_import:
        st.info("Aucune ligne à importer : corrigez les lignes rejetées puis déposez le fichier de nouveau.",
                icon=":material/info:")
        return
    label = f"Importer les lignes valides : {report.accounts_to_create} compte(s)"
    if not st.button(label, type="primary", icon=":material/upload:", key="establishment_import_confirm"):
        return
    progress, done = _progress()
    outcome = run_action(import_establishments, content=content, progress=progress, done=ImportReport.summary)
    done()
    st.session_state.pop(_PREVIEW, None)
    if outcome:
        st.session_state[_RESULT] = (outcome.value, _rejected_file(outcome.value))
        st.session_state[_ROUND] = st.session_state.get(_ROUND, 0) + 1
    st.rerun()


def _preview(content: bytes) -> tuple[ImportReport, bytes | None] | None:
    """The file's preview and its rejected rows, checked once per file (a large file takes seconds)."""
    digest = hashlib.sha256(content).hexdigest()
    stored = st.session_state.get(_PREVIEW)
    if stored is not None and stored[0] == digest:
        return stored[1:]
    progress, done = _progress()
    report = read(preview_import, content=content, progress=progress)
    done()
    if report is None:
        return None
    st.session_state[_PREVIEW] = (digest, report, _rejected_file(report))
    return report, st.session_state[_PREVIEW][2]


def _last_result() -> None:
    if _RESULT not in st.session_state:
        return
    result, rejected = st.session_state[_RESULT]
    with st.container(border=True):
        st.markdown("**Dernier import**  \n" + result.summary())
        st.caption("Chaque compte créé reçoit un courriel avec son lien d'activation (valable 72 heures).")
        _rejected_download(result, rejected, "establishment_import_result_rejected")


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
    st.html(UPLOADER_HINT)
    with st.container(key="establishment_import_upload"):
        uploaded = st.file_uploader(f"Modèle rempli (.xlsx, {MAX_MB} Mo au plus)", type=["xlsx"],
                                    key=f"establishment_import_file:{st.session_state.get(_ROUND, 0)}")
    if uploaded is None:
        return
    content = uploaded.getvalue()
    previewed = _preview(content)
    if previewed is None:
        return
    report, rejected = previewed
    st.subheader("Aperçu")
    _show_report(report)
    _rejected_download(report, rejected, "establishment_import_rejected")
    _confirm(report, content)
    if report.count(REJECTED):
        st.caption("Les lignes rejetées ne sont pas importées : corrigez-les dans le fichier des lignes rejetées "
                   "(les colonnes « ligne » et « motif » sont ignorées à l'import), puis déposez-le ici.")
