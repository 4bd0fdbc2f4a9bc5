"""Pure helpers between Streamlit selections and the ids the services need (unit-tested)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

import pandas as pd


def ids_from_rows(frame: pd.DataFrame, rows: list[int], column: str = "id") -> list[int]:
    """st.dataframe gives row *positions*; the services want ids."""
    return [int(frame.iloc[position][column]) for position in rows if 0 <= position < len(frame)]


def rows_key(prefix: str, ids: Iterable[int]) -> str:
    """A table's widget key that follows the rows shown. A selection holds row *positions*: once a filter or
    an action (close, cancel, duplicate, re-sort) changes the rows, the old tick must not land on another row."""
    return f"{prefix}_{zlib.crc32(','.join(map(str, ids)).encode()):08x}"


def selection_rows(event: Any) -> list[int]:
    """Row positions of an st.dataframe selection, from the widget's return value or its state dict."""
    if not event:
        return []
    selection = event["selection"] if isinstance(event, dict) else event.selection
    rows = selection["rows"] if isinstance(selection, dict) else selection.rows
    return list(rows or [])


def candidate_from_map(event: Any, layer: str = "candidats") -> int | None:
    """The volunteer clicked on the map, if any (AppTest hands back a plain dict, the browser an object): on the
    SVG map, the first selected point's `customdata[0]` (None on the establishment's ring); on the pydeck map, the
    first object picked in `layer`."""
    if not event:
        return None
    selection = event["selection"] if isinstance(event, dict) else event.selection
    points = selection.get("points") if isinstance(selection, dict) else getattr(selection, "points", None)
    if points:
        customdata = points[0].get("customdata") or [None]
        return int(customdata[0]) if customdata[0] is not None else None
    objects = (selection.get("objects") if isinstance(selection, dict) else selection.objects) or {}
    picked = objects.get(layer) or []
    return int(picked[0]["id"]) if picked else None
