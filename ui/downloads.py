"""Downloads that give a file: built during the page's run, then handed to st.download_button as bytes.

A callable passed to st.download_button runs later, outside the run, where nobody is signed in
(STACK-NOTES, « Downloads »): the click gave no file. Here a « Préparer » button builds the file during
the run — the service checks the permission and writes its Event while the user is known — and the
bytes are kept in the session until the user downloads them.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

_PREPARED = "_renfort_prepared_files"
KEPT_FILES = 5  # the most recent prepared files a session keeps (documents may weigh 5 MB each)


def _prepared() -> dict[str, bytes]:
    return st.session_state.setdefault(_PREPARED, {})


def _keep(key: str, content: bytes) -> None:
    files = _prepared()
    files.pop(key, None)
    files[key] = content
    while len(files) > KEPT_FILES:
        files.pop(next(iter(files)))


def forget_prepared(key: str) -> None:
    """Drop a prepared file whose content no longer matches the page (filters changed, data changed)."""
    _prepared().pop(key, None)


def prepared_download(*, key: str, label: str, file_name: str, mime: str, build: Callable[[], bytes | None],
                      prepare_label: str = "Préparer le fichier", help: str | None = None) -> bytes | None:
    """« Préparer le fichier », then the download button of the file built.

    `build` runs during this run when the user asks for the file; it returns the bytes, or None after
    showing why not (a refused service: ui.actions.read/run_action show the French message). `key`
    names the file: make it change when what the file would contain changes (filters), so that a stale
    file is never offered. Returns the prepared bytes, if any.
    """
    content = _prepared().get(key)
    if content is None and st.button(prepare_label, key=f"{key}__prepare", icon=":material/description:",
                                     help=help):
        content = build()
        if content is not None:
            _keep(key, content)
    if content is not None:
        # "ignore": downloading does not rerun the page (a dialog stays open, nothing is rebuilt).
        st.download_button(label, content, file_name=file_name, mime=mime, key=f"{key}__download",
                           icon=":material/download:", on_click="ignore", type="primary")
    return content
