"""One user action = one transaction, its outcome flashed on the next run (pages call this, never SQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.shared.errors import DomainError
from db.session import session_scope
from ui.layout import flash, signed_in_user


def run_action(action: Callable[..., Any], *args: Any, done: str | None = None) -> bool:
    """Call `action(session, user, *args)`; a refusal or the `done` confirmation is shown after the rerun."""
    try:
        with session_scope() as session:
            action(session, signed_in_user(), *args)
    except DomainError as error:
        flash("error", error.message)
        return False
    if done:
        flash("success", done)
    return True
