"""« Vue nationale »: the national figures are computed once per RENFORT_FIGURES_CACHE_SECONDS and shared by every
reader of the same role; the page says when they were computed (issue 13, speed as a person feels it)."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.figures.indicators import refresh_national_overview
from core.shared.clock import paris_datetime, utcnow
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


def test_the_page_opens_on_the_workers_snapshot_and_says_when_it_was_computed(demo_url: str) -> None:
    st.cache_data.clear()
    computed = utcnow() - timedelta(minutes=2)
    with session_scope(demo_url) as session:
        refresh_national_overview(session, now=computed)
        establishment = session.scalars(sa.select(m.Establishment).where(m.Establishment.status == "active")).first()
        make_mission(session, establishment, make_user(session, establishment=establishment))  # after the snapshot
    ccs = _national("ccs@example.org")
    assert not ccs.exception
    [when] = [c.value for c in ccs.caption if c.value.startswith("Chiffres à ")]
    assert when == (f"Chiffres à {paris_datetime(computed).split(' à ')[1]}, précalculés à chaque passage du worker "
                    "(au plus 5 min d'écart).")
    with session_scope(demo_url) as session:
        stored = session.scalar(sa.select(m.FiguresSnapshot.payload))["headline"]["open_missions"]
    assert int(_open_missions(ccs).replace("\u202f", "")) == stored  # the mission written after it is not there
