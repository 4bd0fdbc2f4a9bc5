"""Benchmark operations that run whole pages (AppTest); registered into ops.bench's registry."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from core.shared.config import ROOT
from db import models as m
from db.session import session_scope
from ops.apptest import open_page, sign_in_as
from ops.bench import BenchContext, operation, timed

# A whole page run (AppTest: the script, its queries, its charts serialised), in milliseconds.
PAGE_TARGETS = {"national": 500, "workforce": 1000}


def _apptest_page(ctx: BenchContext, url_path: str, extra_state: dict[str, Any]) -> float:
    mission_id, user_id = ctx.rng.choice(ctx.missions)
    with session_scope(ctx.url, read_only=True) as session:
        email = session.get(m.User, user_id).email
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in_as(app, email, "etablissement")
    for key, value in {**extra_state, "chosen_mission": mission_id}.items():
        app.session_state[key] = value
    app.run()
    duration = timed(lambda: open_page(app, url_path))
    if app.exception:
        raise RuntimeError(f"AppTest {url_path} : {app.exception[0].message}")
    return duration


@operation("apptest_choose", "Page « Choisir » complète (AppTest)", PAGE_TARGETS)
def _apptest_choose(ctx: BenchContext) -> float:
    return _apptest_page(ctx, "choisir", {})


@operation("apptest_dashboard", "Page « Tableau de bord » complète (AppTest)", PAGE_TARGETS)
def _apptest_dashboard(ctx: BenchContext) -> float:
    return _apptest_page(ctx, "tableau-de-bord", {})


def _regulator_page(ctx: BenchContext, role: str, url_path: str) -> float:
    with session_scope(ctx.url, read_only=True) as session:
        email = session.scalar(sa.select(m.User.email).where(m.User.role == role).order_by(m.User.id).limit(1))
    if email is None:
        return None
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in_as(app, email, role)
    app.run()
    duration = timed(lambda: open_page(app, url_path))
    if app.exception:
        raise RuntimeError(f"AppTest {url_path} : {app.exception[0].message}")
    return duration


@operation("apptest_national", "Page « Vue nationale » complète (AppTest)", PAGE_TARGETS)
def _apptest_national(ctx: BenchContext) -> float | None:
    return _regulator_page(ctx, "ccs", "vue-nationale")


@operation("apptest_region_missions", "Page « Missions de la région » complète (AppTest)", PAGE_TARGETS)
def _apptest_region_missions(ctx: BenchContext) -> float | None:
    return _regulator_page(ctx, "ars", "missions-region")
