"""Read what an AppTest run shows: metrics by label, plotly figures by widget key, blocks by kind."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block


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


def blocks(node: Any, kind: str) -> list[Block]:
    """Every block of a kind (dialog, popover…) below a node of the element tree."""
    found = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", "") == kind:
            found.append(child)
        found += blocks(child, kind)
    return found
