"""Issue 11 §5: archiving finished missions, the « Journal » of audit events, the history of the ARS alerts.

Each runs on SQLite and PostgreSQL (the `uow` fixture); who may call each service is in the
authorisation table (test_authorisation_table.py).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.figures.exports import EXPORT_ACTION
from core.figures.journal import ACTION_LABELS, ENTITY_LABELS, JournalFilters, export_journal, journal
from core.shared.actor import COMMAND_LINE
from core.shared.audit import record_event
from core.shared.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.staffing import archive, regulation
from core.staffing.missions import dashboard
from db import models as m
from tests.factories import END, NOW, START, make_actor, make_establishment, make_mission, make_user
from tests.readers import events, outbox, xlsx_rows


def _closed_mission(session, postal_code: str = "44000", *, end: date = END, status: str = "closed"):  # noqa: ANN001, ANN202
    establishment = make_establishment(session, postal_code=postal_code)
    creator = make_user(session, establishment=establishment)
    return make_mission(session, establishment, creator, start_date=min(START, end), end_date=end, status=status,
                        created_at=NOW - timedelta(days=30))


# ---------------------------------------------------------------- archiving


def test_an_admin_archives_a_closed_mission_and_can_restore_it(uow) -> None:
    with uow() as session:
        admin = make_actor(session, "admin")
        mission = _closed_mission(session)
        archive.archive_mission(session, actor=admin, mission_id=mission.id, now=NOW)
        assert (mission.status, mission.archived_at) == ("archived", NOW)
        assert [(e.before, e.after, e.ars_code) for e in events(session, "archived")] == [("closed", "archived", "52")]
        listed = archive.finished_missions(session, actor=admin, archived=True)
        assert [row["id"] for row in listed.rows] == [mission.id] and listed.total == 1
        assert archive.finished_missions(session, actor=admin).total == 0

        archive.restore_mission(session, actor=admin, mission_id=mission.id, now=NOW)
        assert (mission.status, mission.archived_at) == ("closed", None)
        assert [e.after for e in events(session, "restored")] == ["closed"]


@pytest.mark.parametrize("status", ["open", "filled", "pending"])
def test_a_mission_that_is_not_finished_is_never_archived(uow, status: str) -> None:
    with uow() as session:
        mission = _closed_mission(session, status=status)
        with pytest.raises(Conflict, match="clôturée"):
            archive.archive_mission(session, actor=make_actor(session, "admin"), mission_id=mission.id, now=NOW)
        assert mission.status == status and events(session, "archived") == []


def test_archiving_twice_or_restoring_a_live_mission_is_refused(uow) -> None:
    with uow() as session:
        admin = make_actor(session, "admin")
        mission = _closed_mission(session)
        archive.archive_mission(session, actor=admin, mission_id=mission.id, now=NOW)
        with pytest.raises(Conflict, match="déjà archivée"):
            archive.archive_mission(session, actor=admin, mission_id=mission.id, now=NOW)
        live = _closed_mission(session, status="open")
        with pytest.raises(Conflict, match="n'est pas archivée"):
            archive.restore_mission(session, actor=admin, mission_id=live.id, now=NOW)


def test_archiving_a_period_takes_the_closed_missions_ended_in_it_and_in_the_region(uow) -> None:
    with uow() as session:
        admin = make_actor(session, "admin")
        inside = _closed_mission(session, end=date(2026, 10, 15))
        other_region = _closed_mission(session, "35000", end=date(2026, 10, 15))
        too_late = _closed_mission(session, end=date(2026, 11, 2))
        still_open = _closed_mission(session, end=date(2026, 10, 15), status="open")
        archived = archive.archive_period(session, actor=admin, start=date(2026, 10, 1), end=date(2026, 10, 31),
                                          ars_code="52", now=NOW)
        assert archived == 1
        assert [mission.status for mission in (inside, other_region, too_late, still_open)] == \
            ["archived", "closed", "closed", "open"]
        with pytest.raises(NotFound, match="Aucune mission clôturée"):
            archive.archive_period(session, actor=admin, start="01/10/2026", end="31/10/2026", ars_code="52", now=NOW)


def test_a_period_ending_before_it_starts_names_the_field(uow) -> None:
    with uow() as session:
        _closed_mission(session)
        with pytest.raises(ValidationError) as refused:
            archive.archive_period(session, actor=make_actor(session, "admin"), start="31/10/2026", end="01/10/2026",
                                   now=NOW)
        assert refused.value.field == "archive_to" and "antérieure" in refused.value.message
        assert events(session, "archived") == []


def test_an_archived_mission_leaves_the_establishment_dashboard_by_default(uow) -> None:
    with uow() as session:
        mission = _closed_mission(session, status="archived")
        member = make_actor(session, "etablissement", establishment=session.get(m.Establishment,
                                                                                 mission.establishment_id))
        shown = dashboard(session, actor=member, establishment_id=mission.establishment_id,
                          statuses=("open", "filled", "pending"))
        assert shown == []
        everything = dashboard(session, actor=member, establishment_id=mission.establishment_id)
        assert [row["status"] for row in everything] == ["archived"]


# ---------------------------------------------------------------- the journal


def _trail(session) -> dict[str, m.Mission]:  # noqa: ANN001
    """A mission in Pays de la Loire (52) and one in Bretagne (53), each with an event; one national event."""
    nantes, rennes = _closed_mission(session, "44000"), _closed_mission(session, "35000")
    admin = make_user(session, "admin", last_name="Dupont")
    record_event(session, actor_id=admin.id, entity="mission", entity_id=nantes.id, action="closed", at=NOW)
    record_event(session, actor_id=admin.id, entity="mission", entity_id=rennes.id, action="closed", at=NOW)
    record_event(session, actor_id=None, entity="database", entity_id=None, action="seed", at=NOW)
    return {"52": nantes, "53": rennes}


def test_an_ars_reads_the_events_of_its_region_only(uow) -> None:
    with uow() as session:
        missions = _trail(session)
        regional = journal(session, actor=make_actor(session, "ars", ars_code="52"))
        assert [(row["entity_id"], row["region"]) for row in regional.rows] == \
            [(str(missions["52"].id), "Pays de la Loire")]
        with pytest.raises(PermissionDenied, match="autre région"):
            journal(session, actor=make_actor(session, "ars", ars_code="52"), filters=JournalFilters(ars_code="53"))


def test_national_roles_read_every_event_including_those_of_no_region(uow) -> None:
    with uow() as session:
        _trail(session)
        everything = journal(session, actor=make_actor(session, "ccs"))
        assert everything.total == 3
        national = journal(session, actor=make_actor(session, "admin"), filters=JournalFilters(ars_code="national"))
        assert [(row["action_label"], row["actor"], row["region"]) for row in national.rows] == \
            [("jeu de données", "Système", "National")]


def test_the_journal_filters_by_who_action_object_and_period(uow) -> None:
    with uow() as session:
        missions = _trail(session)
        ccs = make_actor(session, "ccs")
        by_name = journal(session, actor=ccs, filters=JournalFilters(who=" dupont "))
        assert by_name.total == 2 and {row["actor"].split()[-1] for row in by_name.rows} == {"Dupont"}
        assert journal(session, actor=ccs, filters=JournalFilters(action="seed")).total == 1
        assert journal(session, actor=ccs, filters=JournalFilters(entity="mission", ars_code="53")).rows[0][
            "entity_id"] == str(missions["53"].id)
        day = NOW.date()
        assert journal(session, actor=ccs, filters=JournalFilters(start=day, end=day)).total == 3
        assert journal(session, actor=ccs, filters=JournalFilters(start=day + timedelta(days=1),
                                                                  end=day + timedelta(days=2))).total == 0


def test_the_journal_export_opens_with_its_rows_and_is_itself_recorded(uow) -> None:
    with uow() as session:
        _trail(session)
        ars = make_actor(session, "ars", ars_code="52")
        content = export_journal(session, actor=ars, filters=JournalFilters(), now=NOW)
        rows = xlsx_rows(content)
        assert rows[0][:5] == ("Date", "Acteur", "Rôle", "Action", "Objet")
        assert [(row[3], row[4], row[8]) for row in rows[1:]] == [("clôture", "Mission", "Pays de la Loire")]
        assert [(e.entity, e.ars_code, e.details["rows"]) for e in events(session, "journal")] == [("export", "52", 1)]


def test_a_command_line_action_shows_as_such_without_a_user(uow) -> None:
    with uow() as session:
        mission = _closed_mission(session)
        archive.archive_mission(session, actor=COMMAND_LINE, mission_id=mission.id, now=NOW)
        [row] = journal(session, actor=make_actor(session, "admin"), filters=JournalFilters(action="archived")).rows
        assert (row["actor"], row["details"]) == ("ligne de commande", "")
        assert (row["action_label"], row["before"], row["after"]) == ("archivage", "Clôturée", "Archivée")
        assert events(session, "archived")[0].actor_user_id is None


def test_every_action_and_object_the_code_records_has_a_french_label() -> None:
    source = "\n".join(path.read_text() for folder in ("core", "ops")
                       for path in (Path(__file__).parents[2] / folder).rglob("*.py"))
    actions = set(re.findall(r'record_event\([^)]*?action="([a-z_]+)"', source, re.S)) | {EXPORT_ACTION}
    actions |= {state.value for state in m.ProposalState}  # a proposal's event is named after its new state
    entities = set(re.findall(r'entity="([a-z_]+)"', source))
    assert actions - set(ACTION_LABELS) == set()
    assert entities - set(ENTITY_LABELS) == set()


# ---------------------------------------------------------------- alerts: raised → pools opened → closed


def _alerted(session):  # noqa: ANN001, ANN202
    mission = _closed_mission(session, status="open")
    regulator = make_actor(session, "ars", ars_code="52")
    regulation.alert_ccs(session, actor=regulator, mission_id=mission.id, message="Personne dans la région.", now=NOW)
    return mission, regulator


def test_the_ccs_closes_an_alert_with_a_note_and_the_ars_is_told(uow) -> None:
    with uow() as session:
        mission, regulator = _alerted(session)
        centre = make_actor(session, "ccs")
        assert [row["id"] for row in regulation.ccs_alerts(session, actor=centre)] == [mission.id]
        regulation.close_alert(session, actor=centre, mission_id=mission.id, note="  Renfort militaire prévu. ",
                               now=NOW + timedelta(hours=2))
        assert regulation.ccs_alerts(session, actor=centre) == []
        [row] = regulation.alert_history(session, actor=regulator)
        assert (row["state"], row["alert_closed_at"], row["alert_close_note"], row["pools_opened_at"]) == \
            ("closed", NOW + timedelta(hours=2), "Renfort militaire prévu.", None)
        assert row["closed_by"] == f"{centre.first_name} {centre.last_name}" and row["actions"] == frozenset()
        mail = [e for e in outbox(session) if "alerte close" in e.subject]
        assert [e.to for e in mail] == [regulator.email] and "Renfort militaire prévu." in mail[0].body_text
        with pytest.raises(Conflict, match="déjà close"):
            regulation.close_alert(session, actor=centre, mission_id=mission.id, note="Encore", now=NOW)


def test_an_alert_goes_raised_then_pools_opened_then_closed(uow) -> None:
    with uow() as session:
        mission, regulator = _alerted(session)
        centre = make_actor(session, "ccs")

        def state() -> tuple[str, frozenset]:
            [row] = regulation.alert_history(session, actor=centre, ars_code="52")
            return row["state"], row["actions"]

        assert state() == ("waiting", frozenset({regulation.Action.CLOSE_ALERT}))
        regulation.open_national_pools(session, actor=centre, mission_id=mission.id, now=NOW + timedelta(hours=1))
        assert state() == ("pools", frozenset({regulation.Action.CLOSE_ALERT}))
        regulation.close_alert(session, actor=centre, mission_id=mission.id, note="Viviers ouverts, suivi fait.",
                               now=NOW + timedelta(hours=3))
        assert state() == ("closed", frozenset())
        # The ARS alerts again: the alert is open again, in the CCS's queue.
        regulation.alert_ccs(session, actor=regulator, mission_id=mission.id, message="Toujours personne.",
                             now=NOW + timedelta(days=1))
        assert state()[0] == "pools"
        assert mission.alert_close_note is None


def test_an_alert_ends_with_its_mission_and_a_note_is_required(uow) -> None:
    with uow() as session:
        mission, _ = _alerted(session)
        centre = make_actor(session, "ccs")
        with pytest.raises(ValidationError) as refused:
            regulation.close_alert(session, actor=centre, mission_id=mission.id, note="   ", now=NOW)
        assert refused.value.field == "note"
        mission.status = "closed"
        session.flush()
        [row] = regulation.alert_history(session, actor=centre)
        assert row["state"] == "ended" and row["actions"] == frozenset()
        never_alerted = _closed_mission(session, status="open")
        with pytest.raises(Conflict, match="pas fait l'objet"):
            regulation.close_alert(session, actor=centre, mission_id=never_alerted.id, note="Rien", now=NOW)


def test_an_ars_reads_the_alert_history_of_its_region_only(uow) -> None:
    with uow() as session:
        _alerted(session)
        other = make_actor(session, "ars", ars_code="53")
        assert regulation.alert_history(session, actor=other) == []
        with pytest.raises(PermissionDenied):
            regulation.alert_history(session, actor=other, ars_code="52")
