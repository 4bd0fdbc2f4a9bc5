"""« Journal », « Archivage des missions » and the alert history through the whole app (AppTest on app.py)."""

from __future__ import annotations

import sqlalchemy as sa

from core.shared.audit import record_event
from core.staffing.regulation import alert_ccs, close_alert
from db import models as m
from db.session import session_scope
from tests.readers import count_at, row_at, user_at, xlsx_rows
from tests.ui.conftest import open_page, signed_in, tick
from tests.ui.readers import button, served_files, table, texts

ARS_USER, CCS_USER, ADMIN = "ars.paysdelaloire@example.org", "ccs@example.org", "admin@example.org"
REGION = "52"


def _open(app, url_path: str, email: str, role: str):  # noqa: ANN001, ANN202
    signed_in(app, email, role)
    open_page(app, url_path)
    assert not app.exception
    return app


def _successes(app) -> list[str]:  # noqa: ANN001
    return [s.value for s in app.success]


# ---------------------------------------------------------------- « Journal »


def test_an_ars_journal_shows_only_events_of_its_region(app, demo_url) -> None:
    _open(app, "journal-des-actions", ARS_USER, "ars")
    shown = table(app)
    assert len(shown) > 0 and set(shown["Région"]) == {"Pays de la Loire"}
    with session_scope(demo_url, read_only=True) as session:
        in_region = session.scalar(sa.select(sa.func.count(m.Event.id)).where(m.Event.ars_code == REGION))
    assert any(text.endswith(f"sur {in_region}, les plus récents d'abord.") for text in texts(app.main))
    assert "journal_region" not in [box.key for box in app.selectbox]  # an ARS has no region to choose


def test_the_admin_filters_the_journal_and_downloads_it(app, demo_url) -> None:
    with session_scope(demo_url) as session:
        record_event(session, actor_id=user_at(demo_url, ADMIN).id, entity="outbox", entity_id=1, action="requeued")
    _open(app, "journal-des-actions", ADMIN, "admin")
    app.selectbox(key="journal_action").select("requeued").run()
    shown = table(app)
    assert list(shown["Action"]) == ["courriel remis en file"] and list(shown["Région"]) == ["National"]
    assert list(shown["Rôle"]) == ["Administrateur"]

    button(app, "Préparer l'export (1 événements)").click().run()
    assert not app.exception
    [(label, content)] = served_files(app).items()
    assert label == "Télécharger le journal (.xlsx)"
    rows = xlsx_rows(content)
    assert [row[3] for row in rows[1:]] == ["courriel remis en file"]
    assert count_at(demo_url, m.Event, m.Event.entity == "export", m.Event.action == "journal") == 1


# ---------------------------------------------------------------- « Archivage des missions »


def _a_closed_mission(url: str) -> int:
    with session_scope(url) as session:
        mission = session.scalars(sa.select(m.Mission).where(m.Mission.status == "closed")
                                  .order_by(m.Mission.end_date.desc(), m.Mission.id.desc())).first()
        if mission is None:
            mission = session.scalars(sa.select(m.Mission).where(m.Mission.status == "open")).first()
            mission.status = "closed"
        return mission.id


def test_the_admin_archives_a_closed_mission_then_restores_it(app, demo_url) -> None:
    mission_id = _a_closed_mission(demo_url)
    _open(app, "archivage", ADMIN, "admin")
    first = app.dataframe[0].value
    assert int(first.iloc[0]["N°"]) == mission_id
    tick(app, 0)
    button(app, "Archiver cette mission").click().run()
    assert not app.exception
    assert row_at(demo_url, m.Mission, mission_id).status == "archived"
    assert _successes(app)[0].startswith(f"Mission n° {mission_id} archivée.")
    archived = app.dataframe[-1].value
    assert list(archived["N°"]) == [mission_id]

    app.session_state[app.dataframe[-1].key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    button(app, "Restaurer (redevient « clôturée »)").click().run()
    assert row_at(demo_url, m.Mission, mission_id).status == "closed"
    assert _successes(app)[0] == f"Mission n° {mission_id} restaurée : elle est de nouveau clôturée."


def test_archiving_a_period_asks_for_a_confirmation_first(app, demo_url) -> None:
    mission_id = _a_closed_mission(demo_url)
    with session_scope(demo_url, read_only=True) as session:
        end = session.get(m.Mission, mission_id).end_date
    _open(app, "archivage", ADMIN, "admin")
    app.date_input(key="archive_from").set_value(end)
    app.date_input(key="archive_to").set_value(end)
    button(app, "Archiver la période").click().run()
    assert [e.value for e in app.error] == ["Cochez la confirmation avant d'archiver toute une période."]
    assert row_at(demo_url, m.Mission, mission_id).status == "closed"

    app.checkbox(key="archive_confirm").check()
    button(app, "Archiver la période").click().run()
    assert not app.exception
    assert row_at(demo_url, m.Mission, mission_id).status == "archived"
    assert _successes(app)[0].endswith("mission(s) archivée(s).")


# ---------------------------------------------------------------- alerts: history and closing


def _alert(url: str) -> int:
    with session_scope(url) as session:
        mission = session.scalars(
            sa.select(m.Mission).join(m.Establishment, m.Establishment.id == m.Mission.establishment_id)
            .where(m.Establishment.ars_code == REGION, m.Mission.status == "open", m.Mission.count > 0)
            .order_by(m.Mission.id)).first()
        alert_ccs(session, actor=user_at(url, ARS_USER), mission_id=mission.id, message="Personne à proposer.")
        return mission.id


def test_the_ccs_closes_an_alert_with_a_note_and_the_history_shows_it(app, demo_url) -> None:
    mission_id = _alert(demo_url)
    _open(app, "alertes", CCS_USER, "ccs")
    app.text_area(key=f"close_note_{mission_id}").input("Renfort de la réserve sanitaire prévu lundi.")
    button(app, "Clore l'alerte").click().run()
    assert not app.exception
    mission = row_at(demo_url, m.Mission, mission_id)
    assert mission.alert_close_note == "Renfort de la réserve sanitaire prévu lundi." and mission.alert_closed_at
    assert _successes(app)[:2] == ["Alerte close : l'ARS est prévenue par courriel avec votre note.",
                                   "Aucune alerte en attente."]
    history = table(app)
    assert list(history["État"]) == ["Close par le CCS"]
    assert list(history["Note du CCS"]) == ["Renfort de la réserve sanitaire prévu lundi."]


def test_the_ars_follows_its_alerts_in_its_own_page(app, demo_url) -> None:
    mission_id = _alert(demo_url)
    with session_scope(demo_url) as session:
        close_alert(session, actor=user_at(demo_url, CCS_USER), mission_id=mission_id, note="Vu avec la préfecture.")
    _open(app, "alertes-au-ccs", ARS_USER, "ars")
    history = table(app)
    assert list(history["État"]) == ["Close par le CCS"]
    assert list(history["Message de l'ARS"]) == ["Personne à proposer."]
    assert list(history["Note du CCS"]) == ["Vu avec la préfecture."]
    assert [b.label for b in app.button if b.key != "sign_out"] == []
