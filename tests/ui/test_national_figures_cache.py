"""« Vue nationale »: the national figures are computed once per RENFORT_FIGURES_CACHE_SECONDS and shared by every
reader of the same role; the page says when they were computed (issue 13, speed as a person feels it)."""

from __future__ import annotations

import re

import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from db import models as m
from db.session import session_scope
from tests.factories import make_mission, make_user
from tests.ui.conftest import ROOT, open_page, sign_in_as


def _open_missions(app: AppTest) -> str:
    return next(metric.value for metric in app.metric if metric.label == "Besoins ouverts")


def _national(email: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, email, "ccs" if email.startswith("ccs") else "ministere").run()
    return open_page(app, "vue-nationale")


def test_the_figures_say_when_they_were_computed_and_are_shared_until_they_expire(demo_url: str) -> None:
    st.cache_data.clear()
    ccs = _national("ccs@example.org")
    assert not ccs.exception
    [when] = [c.value for c in ccs.caption if c.value.startswith("Chiffres à ")]
    assert re.fullmatch(r"Chiffres à \d\d:\d\d, recalculés au plus toutes les 60 s\.", when)
    before = _open_missions(ccs)

    with session_scope(demo_url) as session:  # a new need, written by someone else meanwhile
        establishment = session.scalars(sa.select(m.Establishment).where(m.Establishment.status == "active")).first()
        make_mission(session, establishment, make_user(session, establishment=establishment))
    ccs.run()
    assert _open_missions(ccs) == before  # within the time-to-live: the figures computed a moment ago

    st.cache_data.clear()  # what the time-to-live's end does
    ccs.run()
    assert int(_open_missions(ccs).replace("\u202f", "")) == int(before.replace("\u202f", "")) + 1
