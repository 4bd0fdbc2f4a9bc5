"""French display formats."""

from __future__ import annotations

from datetime import date

from ui.markdown import md

NARROW_NBSP = "\u202f"


def fr_int(value: int | float | None) -> str:
    """12345 → '12 345' (French thousands separator)."""
    if value is None:
        return "–"
    return f"{int(round(value)):,}".replace(",", NARROW_NBSP)


def fr_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "–"


def fr_percent(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}".replace(".", ",") + f"{NARROW_NBSP}%"


def check_line(label: str, problem: str | None) -> str:
    """'✔ label' in green when the check passed, '✘ label — problem' in red otherwise (Markdown).

    `label` is Markdown (escape what a user typed in it); `problem` is core's plain text, which may quote
    the typed value: escaped here."""
    if problem is None:
        return f":green[✔] {label} — vérifié"
    return f":red[✘] {label} — {md(problem)}"
