"""French display formats."""

from __future__ import annotations

from datetime import date, datetime

from core.shared.clock import PARIS, paris_datetime
from core.shared.config import get_settings
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


def fr_day(moment: datetime | date | None) -> str:
    """A campaign's instant as the day it is in Paris (an opening at 00:00 in Paris is the day before in UTC)."""
    if isinstance(moment, datetime):
        return fr_date(moment.astimezone(PARIS).date())
    return fr_date(moment)


def fr_size(size: int | None) -> str:
    """A file's size in French: 700 → « 0,7 Ko », 1 363 149 → « 1,3 Mo », 5 242 880 → « 5 Mo »."""
    if size is None:
        return "–"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0") + " Mo"
    return f"{max(size / 1024, 0.1):.1f} Ko".replace(".", ",")


def precomputed_caption(computed_at: datetime) -> str:
    """What the regulation pages say over figures the worker computed (core.figures.snapshots)."""
    return (f"Chiffres à {paris_datetime(computed_at).split(' à ')[1]}, précalculés à chaque passage du worker "
            f"(au plus {get_settings().figures_snapshot_seconds // 60} min d'écart).")
