"""Every page action through one door: one transaction, the French message of a refusal shown, a flash on
success. Pages never open a session nor catch a DomainError themselves (DESIGN §8).

`run_action` runs a service that writes, `read` one that only reads (a read-only scope, the refusal shown
in place; `replica=True` for the figures that tolerate a second of lag, db.session.session_scope). Both call
`service(session, actor=<signed-in user>, **arguments)`: services take the acting user and their other arguments
by keyword.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import streamlit as st

from core.shared.clock import utcnow
from core.shared.config import get_settings
from core.shared.errors import DomainError
from core.shared.permissions import reader_scope
from db.session import session_scope
from ui.markdown import md
from ui.state import flash, signed_in_user

Done = str | Callable[[Any], str] | None  # a confirmation, or how to word it from the service's answer


@dataclass(frozen=True)
class Outcome:
    """What an action gave: true when it went through, with the service's answer."""

    ok: bool
    value: Any = None

    def __bool__(self) -> bool:
        return self.ok


# A core message is plain French text that may quote what a user typed (« … » a name, a file name): it is
# escaped for Markdown (ui.markdown). Core writes no Markdown in its messages.
def _flash_refusal(error: DomainError) -> None:
    flash("error", md(error.message))


def show_refusal(error: DomainError) -> None:
    """The refusal's French message where the action was asked (a form, a dialog), not at the next run's top."""
    st.error(md(error.message), icon=":material/error:")


def run_action(service: Callable[..., Any], /, *, done: Done = None,
               on_error: Callable[[DomainError], None] | None = None, **arguments: Any) -> Outcome:
    """One user action in one transaction, committed when the service returns, rolled back if it refuses.

    A refusal's French message is flashed at the top of the next run, or handed to `on_error` (a form shows
    it beside its fields); `done` is flashed on success: it is Markdown, so a page escapes with ui.markdown.md
    any user text it puts in it.
    """
    try:
        with session_scope() as session:
            value = service(session, actor=signed_in_user(), **arguments)
    except DomainError as error:
        (on_error or _flash_refusal)(error)
        return Outcome(False)
    if done is not None:
        flash("success", done(value) if callable(done) else done)
    return Outcome(True, value)


@st.cache_data(ttl=get_settings().figures_cache_seconds, show_spinner=False, max_entries=256)
def _shared(database_url: str, service_name: str, scope: tuple[str, str | None], arguments: tuple,
            _service: Callable[..., Any], _actor: Any) -> tuple[Any, datetime]:
    # Keyed by what the answer depends on: the database, the service and its arguments, the reader's role and
    # region — never by who asked, so that every CCS agent shares one computation. Its actor is the first asker's
    # (`_actor`, not hashed): the permission is decided by role and region alone for the services read so.
    # The replica when one is configured: these figures are already up to RENFORT_FIGURES_CACHE_SECONDS old.
    with session_scope(database_url, replica=True) as session:
        return _service(session, actor=_actor, **dict(arguments)), utcnow()


def read_shared(service: Callable[..., Any], /, **arguments: Any) -> tuple[Any, datetime] | None:
    """Figures that depend on the reader's role and region alone (the national overview): computed at most once
    per RENFORT_FIGURES_CACHE_SECONDS per server process, with the time they were computed. A per-process cache
    cannot see writes made by other processes or the worker: the time-to-live is what bounds the staleness, and
    the page says « chiffres à HH:MM »."""
    actor = signed_in_user()
    try:
        return _shared(get_settings().database_url, f"{service.__module__}.{service.__qualname__}",
                       reader_scope(actor), tuple(sorted(arguments.items())), service, actor)
    except DomainError as error:
        show_refusal(error)
        return None


def read(service: Callable[..., Any], /, *, on_error: Callable[[DomainError], None] | None = None,
         replica: bool = False, caught_up: bool = False, **arguments: Any) -> Any:
    """What a page shows, read in a read-only scope; None once a refusal has been shown in its place.

    `replica=True` only for what tolerates about a second of lag (indicators, national figures, an export's
    rows): the signed-in user's own lists and dashboards, which must show their last action at once, stay on the
    primary. `caught_up=True` waits for the replica to hold what this user has just committed (an export's Event).
    """
    try:
        with session_scope(read_only=True, replica=replica, caught_up=caught_up) as session:
            return service(session, actor=signed_in_user(), **arguments)
    except DomainError as error:
        (on_error or show_refusal)(error)
        return None
