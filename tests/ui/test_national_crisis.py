"""Crisis mode at a glance on « Vue nationale » (issue 13): which regions, which professions, since when — in a
notice above the map and on the hover of each department of those regions."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.shared.actor import to_session_user
from core.staffing.regulation import set_crisis_mode
from db import models as m
from db.session import session_scope
from tests.ui.conftest import ROOT, open_page, sign_in_as

SINCE = datetime(2026, 11, 30, 8, 15, tzinfo=timezone.utc)  # 09:15 in Paris


def _crisis(url: str) -> None:
    with session_scope(url) as session:
        ars = session.scalars(sa.select(m.User).where(m.User.email == "ars.paysdelaloire@example.org")).one()
        set_crisis_mode(session, actor=to_session_user(session, user=ars), ars_code="52", enabled=True,
                        professions=["infirmier_de"], now=SINCE)


def test_the_regions_in_crisis_mode_are_named_with_their_professions_and_since_when(demo_url: str) -> None:
    st.cache_data.clear()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, "ccs@example.org", "ccs").run()
    open_page(app, "vue-nationale")
    assert any(c.value == "Mode gestion de crise : aucune région." for c in app.caption)

    _crisis(demo_url)
    st.cache_data.clear()
    open_page(app, "vue-nationale")
    [notice] = [w.value for w in app.warning if w.value.startswith("Mode gestion de crise actif")]
    assert notice.endswith("**Pays de la Loire** — Infirmier diplômé d'État, depuis le 30/11/2026 à 09:15")
    mainland = next(c for c in app.get("plotly_chart") if c.proto.id.endswith("national_map"))
    [trace, *_] = json.loads(mainland.proto.spec)["data"]
    assert trace["hovertemplate"].endswith("<br>Mode gestion de crise : %{customdata[4]}<extra></extra>")
    crisis_by_region = {row[0]: row[4] for row in trace["customdata"]}
    assert crisis_by_region["Pays de la Loire"] == "Infirmier diplômé d'État depuis le 30/11/2026"
    assert crisis_by_region["Bretagne"] == "non"
