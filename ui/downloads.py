"""Downloads that give a file: built during the page's run, then handed to st.download_button as bytes.

A callable passed to st.download_button runs later, outside the run, where nobody is signed in
(STACK-NOTES, « Downloads »): the click gave no file. Here a « Préparer » button builds the file during
the run — the service checks the permission and writes its Event while the user is known — and the
bytes are kept in the session until the user downloads them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from ui.state import signed_in_user

PREPARED_FILES = "_renfort_prepared_files"  # {"user_id": …, "files": {key: bytes}} in the session state
KEPT_FILES = 5  # the most recent prepared files a session keeps (documents may weigh 5 MB each)


def _prepared() -> dict[str, bytes]:
    """The files prepared by the signed-in user. The session outlives a sign-out: a file prepared (and
    audited) for one user is never offered to the next one who signs in in the same browser tab."""
    user = signed_in_user()
    user_id = None if user is None else user.id
    kept = st.session_state.get(PREPARED_FILES)
    if kept is None or kept["user_id"] != user_id:
        kept = st.session_state[PREPARED_FILES] = {"user_id": user_id, "files": {}}
    return kept["files"]


def _keep(key: str, content: bytes) -> None:
    files = _prepared()
    files.pop(key, None)
    files[key] = content
    while len(files) > KEPT_FILES:
        files.pop(next(iter(files)))


def content_key(prefix: str, content: Any) -> str:
    """A download key that changes with what the file would contain (rows shown, filters chosen): a file
    prepared before a change is then never offered after it. `content` must have a stable repr."""
    return f"{prefix}_{zlib.crc32(repr(content).encode()):08x}"


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
    slot = st.empty()  # the « Préparer » button gives way to the download button as soon as the file is built
    if content is None and slot.button(prepare_label, key=f"{key}__prepare", icon=":material/description:",
                                       help=help):
        content = build()
        if content is not None:
            _keep(key, content)
            slot.empty()
    if content is not None:
        # Bytes, never a callable (see the module's docstring). "ignore": downloading does not rerun the
        # page (a dialog stays open, nothing is rebuilt).
        st.download_button(label, content, file_name=file_name, mime=mime, key=f"{key}__download",
                           icon=":material/download:", on_click="ignore", type="primary")
    return content
