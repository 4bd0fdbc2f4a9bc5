"""With RENFORT_DATABASE_READ_URL set, « Vue nationale » and « Indicateurs » draw their figures from the replica while
the signed-in user is re-read from the primary; unset, everything reads the primary (issue 16 §3)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.shared.clock import paris_today
from core.shared.config import get_settings
from db import models as m
from db.session import session_scope
from tests.conftest import clone_sqlite
from tests.factories import make_establishment, make_mission
from tests.ui.conftest import ROOT, open_page, sign_in_as
from tests.ui.readers import metrics

CCS_USER, ARS_USER = "ccs@example.org", "ars.paysdelaloire@example.org"


def _figures(url_path: str, email: str, role: str, label: str) -> str:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    sign_in_as(app, email, role).run()
    open_page(app, url_path)
    assert not app.exception
    return metrics(app)[label]


def _add_open_mission(url: str) -> None:
    """A need of 3 posts in Loire-Atlantique, written on the primary only (the replica copy was taken before)."""
    with session_scope(url) as session:
        creator = session.scalar(sa.select(m.User).where(m.User.email == CCS_USER))
        start = paris_today() + timedelta(days=5)
        make_mission(session, make_establishment(session, "44000"), creator, count=3, start_date=start,
                     end_date=start + timedelta(days=10))


def test_the_national_figures_and_indicators_come_from_the_replica_when_one_is_configured(
        demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replica = clone_sqlite(Path(demo_url.removeprefix("sqlite:///")), tmp_path / "replica.db")
    _add_open_mission(demo_url)
    monkeypatch.setenv("RENFORT_DATABASE_READ_URL", replica)
    get_settings.cache_clear()
    st.cache_data.clear()
    national = _figures("vue-nationale", CCS_USER, "ccs", "Besoins ouverts")
    regional = _figures("indicateurs", ARS_USER, "ars", "Postes demandés")

    monkeypatch.delenv("RENFORT_DATABASE_READ_URL")
    get_settings.cache_clear()
    st.cache_data.clear()
    # The primary holds one more open need (3 posts): the figures above were the replica's.
    assert int(_figures("vue-nationale", CCS_USER, "ccs", "Besoins ouverts").replace("\u202f", "")) == \
        int(national.replace("\u202f", "")) + 1
    assert int(_figures("indicateurs", ARS_USER, "ars", "Postes demandés").replace("\u202f", "")) == \
        int(regional.replace("\u202f", "")) + 3
