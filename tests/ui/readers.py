"""Read what an AppTest run shows: buttons, texts, tables, errors, metrics by label, plotly figures by key, blocks."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Button

from ui.downloads import PREPARED_FILES


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def charts(app: AppTest) -> dict[str, dict]:
    """The page's plotly figures by widget key (the element id ends with it)."""
    return {chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}


def plotly_array(value: Any) -> list:
    """A plotly data array: a plain list, or plotly's binary form {"dtype": …, "bdata": base64}."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def candidate_map(app: AppTest) -> dict[str, list[int]]:
    """The candidate map's points: the ids of each trace of volunteers by its legend name (« Disponible »,
    « Contacté »…), and under « L'établissement » nothing but its ring. Fails unless the page shows one such map."""
    maps = [figure for figure in charts(app).values()
            if any(trace.get("type") == "scattergeo" for trace in figure["data"])]
    assert len(maps) == 1, f"{len(maps)} carte(s) des candidats"
    return {trace["name"]: [row[0] for row in trace["customdata"] if row[0] is not None]
            for trace in maps[0]["data"] if trace.get("type") == "scattergeo"}


def blocks(node: Any, kind: str) -> list[Block]:
    """Every block of a kind (dialog, popover…) below a node of the element tree."""
    found = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", "") == kind:
            found.append(child)
        found += blocks(child, kind)
    return found


def button(app: AppTest, label: str) -> Button:
    matches = [b for b in app.button if b.label == label]
    assert matches, f"bouton « {label} » absent : {[b.label for b in app.button]}"
    return matches[0]


def labels(app: AppTest) -> dict[str, bool]:
    """Each button's label → enabled (the sidebar's sign-out button left out)."""
    return {b.label: not b.disabled for b in app.button if b.key != "sign_out"}


def dialog_titles(app: AppTest) -> list[str]:
    return [block.proto.dialog.title for block in blocks(app._tree, "dialog")]


def texts(node: Any) -> list[str]:
    """Every markdown, caption, info, error… value under a block."""
    found = []
    for child in getattr(node, "children", {}).values():
        value = getattr(child, "value", None)
        if isinstance(value, str) and child.type in ("markdown", "caption", "info", "warning", "error", "success"):
            found.append(value)
        found += texts(child)
    return found


def table(app: AppTest) -> pd.DataFrame:
    assert len(app.dataframe) == 1, "un seul tableau attendu"
    return app.dataframe[0].value


def errors(app: AppTest) -> list[str]:
    return [e.value for e in app.error]


def error_under(app: AppTest, widget: Any) -> str | None:
    """The error drawn right under a widget (the next element of the page), if any."""
    nodes = [node for node in app.main if node.type not in ("vertical", "horizontal", "column")]
    position = next(i for i, node in enumerate(nodes) if node is widget)
    following = nodes[position + 1:]
    if following and following[0].type == "caption":  # "Fichier conservé : …" under an uploader
        following = following[1:]
    return following[0].value if following and following[0].type == "error" else None


def prepared_files(app: AppTest) -> dict[str, bytes]:
    """The files « Préparer » built and kept in the session, by download key (what the download button serves)."""
    return dict(app.session_state[PREPARED_FILES]["files"]) if PREPARED_FILES in app.session_state else {}


MEDIA_FILES: dict[str, bytes] = {}  # file id → bytes, as Streamlit stored them for the browser (conftest records)


def served_files(app: AppTest) -> dict[str, bytes]:
    """What each download button of the page hands the browser: its label → the bytes behind its URL."""
    served = {}
    for download in app.get("download_button"):
        file_id = download.proto.url.rsplit("/", 1)[-1].split(".", 1)[0]
        served[download.proto.label] = MEDIA_FILES[file_id]
    return served
