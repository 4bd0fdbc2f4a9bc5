"""Migrations build the whole schema from an empty database, match the models, are idempotent, and the
latest one goes down and up again keeping the data."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from core.places.reference import NO_ARS_DEPARTMENTS, departements, postal_codes
from db.models import Base
from db.session import create_engine_for
from ops.migrate import alembic_config, migrate
from tests.conftest import PG_ADMIN_URL, _pg_admin, _pg_url, require


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require(bool(PG_ADMIN_URL), "PostgreSQL non configuré (RENFORT_TEST_PG_URL absent)")
    name = f"renfort_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _index_names(connection: sa.Connection, table: str) -> list[str]:
    # The inspector skips expression indexes on SQLite (lower(email)): ask the catalogue itself.
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = :t AND indexname NOT LIKE 'pk_%'"
    return sorted(connection.execute(sa.text(query), {"t": table}).scalars())


def _snapshot(url: str) -> dict:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return {
                table: (
                    sorted(c["name"] for c in sa.inspect(connection).get_columns(table)),
                    _index_names(connection, table),
                    connection.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar(),
                )
                for table in sorted(sa.inspect(connection).get_table_names())
            }
    finally:
        engine.dispose()


def test_migrate_builds_every_table_with_reference_data_from_an_empty_database(empty_url: str) -> None:
    written = migrate(empty_url)
    assert written["ars"] == 18
    assert written["departement"] == len([d for d in departements() if d not in NO_ARS_DEPARTMENTS]) == 103
    assert written["postal_code"] == len(postal_codes())
    snapshot = _snapshot(empty_url)
    assert set(Base.metadata.tables) <= set(snapshot)
    assert "uq_proposal_one_live_per_professional" in snapshot["proposal"][1]
    assert "uq_users_email_lower_live" in snapshot["users"][1]
    # Later migrations must not lose the expression indexes (SQLite batch copies would).
    assert "uq_professional_email_lower" in snapshot["professional"][1]


def test_running_migrate_twice_changes_nothing(empty_url: str) -> None:
    migrate(empty_url)
    before = _snapshot(empty_url)
    assert all(count == 0 for count in migrate(empty_url).values())
    assert _snapshot(empty_url) == before


def _differences(url: str) -> list:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_the_migrations_match_the_models(empty_url: str) -> None:
    migrate(empty_url)
    # Expression indexes (lower(email)) cannot be compared by autogenerate; they are checked above.
    assert _differences(empty_url) == []


# ---------------------------------------------------------------- 0005: outbox claim, duplicate index

OUTBOX = sa.table(
    "outbox", sa.column("id", sa.Integer), sa.column("dedup_key", sa.String), sa.column("to_address", sa.String),
    sa.column("subject", sa.String), sa.column("body_text", sa.Text), sa.column("body_html", sa.Text),
    sa.column("created_at", sa.DateTime), sa.column("sent_at", sa.DateTime), sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", sa.DateTime), sa.column("last_error", sa.Text),
    sa.column("status", sa.String), sa.column("claimed_at", sa.DateTime),  # from 0005 on
)
T0, T1 = datetime(2026, 11, 23, 14, 0), datetime(2026, 11, 23, 14, 5)  # naive UTC, as stored


def _alembic(url: str, action, revision: str) -> None:  # noqa: ANN001
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            action(config, revision)
    finally:
        engine.dispose()


def _execute(url: str, statement, **params):  # noqa: ANN001, ANN003, ANN202
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(statement) if isinstance(statement, str) else statement, params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def _outbox(url: str, *names: str) -> list[tuple]:
    """Typed reads (SQLite hands raw SQL datetimes back as text)."""
    return _execute(url, sa.select(*(OUTBOX.c[name] for name in names)).order_by(OUTBOX.c.id))


def test_migration_0005_goes_up_and_down_keeping_the_emails_and_never_resending_an_interrupted_one(
        empty_url: str) -> None:
    _alembic(empty_url, command.upgrade, "0004")
    at_0004 = _snapshot(empty_url)
    assert "ix_professional_possible_duplicate_of" not in at_0004["professional"][1]
    for number, sent_at in enumerate((T1, None, None)):
        _execute(empty_url, sa.insert(OUTBOX).values(
            id=number + 1, dedup_key=f"k{number}", to_address=f"p{number}@example.org", subject="Objet",
            body_text="texte", body_html="<p>texte</p>", created_at=T0, sent_at=sent_at,
            attempts=1 if sent_at else 0, next_attempt_at=T0, last_error=None))

    _alembic(empty_url, command.upgrade, "0005")

    assert _outbox(empty_url, "id", "status", "claimed_at", "sent_at") == [
        (1, "sent", None, T1), (2, "pending", None, None), (3, "pending", None, None)]
    at_0005 = _snapshot(empty_url)
    assert "ix_professional_possible_duplicate_of" in at_0005["professional"][1]
    assert at_0005["outbox"][1] == sorted(
        ["ix_outbox_due" if name == "ix_outbox_pending" else name for name in at_0004["outbox"][1]])
    assert at_0005["outbox"][0] == sorted(at_0004["outbox"][0] + ["claimed_at", "status"])
    for bad in ("UPDATE outbox SET status = 'perdu' WHERE id = 2",
                "UPDATE outbox SET status = 'sending' WHERE id = 2",  # without a claim
                "UPDATE outbox SET status = 'pending' WHERE id = 1",  # a sent_at but pending
                "UPDATE outbox SET dedup_key = 'k0' WHERE id = 2"):  # the copied table kept its unique key
        with pytest.raises(IntegrityError):
            _execute(empty_url, bad)
    # A worker claimed row 2 and died after the server accepted it.
    _execute(empty_url, sa.text("UPDATE outbox SET status = 'sending', claimed_at = :t WHERE id = 2")
             .bindparams(sa.bindparam("t", T1, type_=sa.DateTime)))

    _alembic(empty_url, command.downgrade, "0004")

    after_down = _snapshot(empty_url)
    assert {table: (columns, indexes) for table, (columns, indexes, _) in after_down.items()} == {
        table: (columns, indexes) for table, (columns, indexes, _) in at_0004.items()}
    rows = _outbox(empty_url, "id", "sent_at", "attempts", "last_error")
    assert rows[0] == (1, T1, 1, None) and rows[2] == (3, None, 0, None)
    assert rows[1][:3] == (2, T1, 0) and "non renvoyé, à vérifier" in rows[1][3]  # the old code must not resend it

    _alembic(empty_url, command.upgrade, "0005")  # (head matching the models: test above)

    assert _snapshot(empty_url) == at_0005
    assert _outbox(empty_url, "id", "status", "sent_at", "dedup_key") == [
        (1, "sent", T1, "k0"), (2, "sent", T1, "k1"), (3, "pending", None, "k2")]


# ---------------------------------------------------------------- 0006: event region, alert closing, archiving


def test_migration_0006_gives_older_events_the_region_of_their_object(empty_url: str) -> None:
    """Events written before 0006 (made here at head, then the column dropped by going down) get the
    region of their mission, proposal, establishment, volunteer or user; the others stay national."""
    from core.shared.audit import record_event
    from db.session import session_scope
    from tests.factories import make_establishment, make_mission, make_professional, make_proposal, make_user

    migrate(empty_url)
    with session_scope(empty_url) as session:
        nantes = make_establishment(session, postal_code="44000")  # Pays de la Loire (52)
        hr = make_user(session, establishment=nantes)
        mission = make_mission(session, nantes, hr)
        rennes_nurse = make_professional(session, postal_code="35000")  # Bretagne (53)
        proposal = make_proposal(session, mission, rennes_nurse)
        regulator = make_user(session, "ars", ars_code="84")
        objects = {"mission": mission.id, "proposal": proposal.id, "establishment": nantes.id,
                   "professional": rennes_nurse.id, "user": hr.id, "outbox": 1}
        for entity, object_id in objects.items():
            record_event(session, actor_id=None, entity=entity, entity_id=object_id, action="x", ars_code="national")
        record_event(session, actor_id=None, entity="user", entity_id=regulator.id, action="y", ars_code="national")
    _alembic(empty_url, command.downgrade, "0005")
    at_0005 = _snapshot(empty_url)
    assert "ars_code" not in at_0005["event"][0] and "archived_at" not in at_0005["mission"][0]

    _alembic(empty_url, command.upgrade, "0006")

    regions = dict(_execute(empty_url, "SELECT entity || ':' || action, ars_code FROM event"))
    assert regions == {"mission:x": "52", "proposal:x": "52", "establishment:x": "52", "professional:x": "53",
                       "user:x": "52", "outbox:x": None, "user:y": "84"}
    _alembic(empty_url, command.upgrade, "head")
    assert _differences(empty_url) == []


# ---------------------------------------------------------------- 0008: declined proposals


def test_migration_0008_moves_earlier_declines_to_their_own_state_and_back(empty_url: str) -> None:
    """Before 0008 a decline was a release with a text reason; after it, a final state of its own (which the
    candidate lists read). Made at head, taken down to 0007 (declines become releases again), then up."""
    from db.session import session_scope
    from tests.factories import make_establishment, make_mission, make_professional, make_proposal, make_user

    migrate(empty_url)
    with session_scope(empty_url) as session:
        nantes = make_establishment(session, postal_code="44000")
        mission = make_mission(session, nantes, make_user(session, establishment=nantes))
        declined = make_proposal(session, mission, make_professional(session), "decline", reason_code="trop_loin",
                                 reason="décliné par le volontaire : trop loin")
        expired = make_proposal(session, mission, make_professional(session), "libere",
                                reason="réservation expirée sans réponse")
    _alembic(empty_url, command.downgrade, "0007")
    assert _execute(empty_url, "SELECT id, state, reason FROM proposal ORDER BY id") == [
        (declined.id, "libere", "décliné par le volontaire"), (expired.id, "libere", "réservation expirée sans réponse")]

    _alembic(empty_url, command.upgrade, "0008")
    assert _execute(empty_url, "SELECT id, state FROM proposal ORDER BY id") == [(declined.id, "decline"),
                                                                                  (expired.id, "libere")]
    _alembic(empty_url, command.upgrade, "head")
    assert _differences(empty_url) == []


# ---------------------------------------------------------------- 0009: tension history


def test_migration_0009_adds_the_tension_history_and_takes_it_away(empty_url: str) -> None:
    """The history's tables come and go with 0009; a day's snapshot rows go with their day (cascade)."""
    migrate(empty_url)
    _execute(empty_url, "INSERT INTO tension_day (day, source, taken_at) VALUES ('2026-11-23', 'releve', "
                        "'2026-11-23 09:00:00')")
    _alembic(empty_url, command.downgrade, "0008")
    engine = create_engine_for(empty_url)
    try:
        assert not {"tension_day", "tension_snapshot"} & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    _alembic(empty_url, command.upgrade, "head")
    assert _execute(empty_url, "SELECT count(*) FROM tension_day") == [(0,)]
    assert _differences(empty_url) == []


# ---------------------------------------------------------------- 0010: territorial pools


def test_migration_0010_adds_the_pools_and_takes_them_away_keeping_the_proposals(empty_url: str) -> None:
    """Made at head with a pool, a member, a roster entry and a coordinator's push; taken down to 0009 (the
    pool tables and the finer category go, the push stays as an ARS push), then up again to a schema equal to the models."""
    from db.session import session_scope
    from tests.factories import make_establishment, make_mission, make_professional, make_proposal, make_user

    migrate(empty_url)
    with session_scope(empty_url) as session:
        ehpad = make_establishment(session, postal_code="33000")
        ehpad.finess_category_code = "500"
        ars_user = make_user(session, role="ars", ars_code=ehpad.ars_code)
        mission = make_mission(session, ehpad, make_user(session, establishment=ehpad))
        volunteer = make_professional(session)
        pushed = make_proposal(session, mission, volunteer, "en_cours", origin="pool")
        session.flush()
        session.execute(sa.text(
            "INSERT INTO territorial_pool (code, name, ars_code, department_code, support_establishment_id, "
            "start_date, created_at, created_by, engagement_due, convention_due) VALUES ('PTS33A', 'Pool', "
            ":ars, '33', :support, '2020-11-01', '2020-10-20 10:00:00', :by, '2020-11-06', '2021-01-30')"),
            {"ars": ehpad.ars_code, "support": ehpad.id, "by": ars_user.id})
        pool_id = session.execute(sa.text("SELECT id FROM territorial_pool")).scalar()
        session.execute(sa.text("INSERT INTO pool_member (pool_id, establishment_id, state, requested_at) "
                                "VALUES (:pool, :e, 'membre', '2020-10-20 10:00:00')"), {"pool": pool_id, "e": ehpad.id})
        session.execute(sa.text("INSERT INTO pool_roster (pool_id, professional_id, state, origin, pool_only, "
                                "created_at) VALUES (:pool, :p, 'membre', 'inscription', :yes, '2020-10-21 10:00:00')"),
                        {"pool": pool_id, "p": volunteer.id, "yes": True})
    _alembic(empty_url, command.downgrade, "0009")
    engine = create_engine_for(empty_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        columns = {c["name"] for c in sa.inspect(engine).get_columns("establishment")}
    finally:
        engine.dispose()
    assert not {"territorial_pool", "pool_member", "pool_roster", "finess_category"} & tables
    assert "finess_category_code" not in columns
    assert _execute(empty_url, "SELECT id, origin FROM proposal") == [(pushed.id, "push")]
    _alembic(empty_url, command.upgrade, "head")
    assert _differences(empty_url) == []


# ---------------------------------------------------------------- 0011: application campaigns


def test_migration_0011_adds_the_campaigns_and_takes_them_away(empty_url: str) -> None:
    """Made at head with a campaign, a dossier and its PDF; taken down to 0010 (the three tables go), then up again
    to a schema equal to the models; a dossier's attachments go with it (ON DELETE CASCADE)."""
    from db.session import session_scope
    from tests.factories import make_establishment, make_user

    migrate(empty_url)
    with session_scope(empty_url) as session:
        hospital = make_establishment(session, postal_code="75013")
        ars_user = make_user(session, role="ars", ars_code="11")
        session.execute(sa.text(
            "INSERT INTO campaign (ars_code, title, opens_at, closes_at, project_confirmation_due, "
            "start_confirmation_due, required_documents, required_fields, state, created_at, created_by) VALUES "
            "('11', 'Postes', '2026-01-05 08:00:00', '2026-03-13 22:59:59', '2026-10-01', '2026-11-02', '[]', '[]', "
            "'publiee', '2026-01-04 10:00:00', :by)"), {"by": ars_user.id})
        campaign_id = session.execute(sa.text("SELECT id FROM campaign")).scalar()
        session.execute(sa.text(
            "INSERT INTO campaign_dossier (campaign_id, establishment_id, state, created_at, created_by, updated_at) "
            "VALUES (:c, :e, 'incomplet', '2026-01-06 10:00:00', :by, '2026-01-06 10:00:00')"),
            {"c": campaign_id, "e": hospital.id, "by": ars_user.id})
        dossier_id = session.execute(sa.text("SELECT id FROM campaign_dossier")).scalar()
        session.execute(sa.text(
            "INSERT INTO dossier_attachment (dossier_id, kind, filename, mime, size, sha256, content, uploaded_by, "
            "uploaded_at) VALUES (:d, 'cv', 'cv.pdf', 'application/pdf', 5, 'x', :content, :by, "
            "'2026-01-06 10:00:00')"), {"d": dossier_id, "content": b"%PDF-", "by": ars_user.id})
        with pytest.raises(IntegrityError), session.begin_nested():  # one file per kind of document
            session.execute(sa.text(
                "INSERT INTO dossier_attachment (dossier_id, kind, filename, mime, size, sha256, content, "
                "uploaded_by, uploaded_at) VALUES (:d, 'cv', 'b.pdf', 'application/pdf', 5, 'x', :content, :by, "
                "'2026-01-06 10:00:00')"), {"d": dossier_id, "content": b"%PDF-", "by": ars_user.id})
    _execute(empty_url, "DELETE FROM campaign_dossier")
    assert _execute(empty_url, "SELECT count(*) FROM dossier_attachment") == [(0,)]
    _alembic(empty_url, command.downgrade, "0010")
    engine = create_engine_for(empty_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert not {"campaign", "campaign_dossier", "dossier_attachment"} & tables
    _alembic(empty_url, command.upgrade, "head")
    assert _differences(empty_url) == []


# ---------------------------------------------------------------- 0013: « trop loin »


def test_migration_0013_adds_the_too_far_distance_and_takes_it_away_keeping_the_volunteers(empty_url: str) -> None:
    """Volunteers of before 0013 have said nothing too far (NULL); down to 0012 the column goes, the rows stay."""
    from db.session import session_scope
    from tests.factories import make_professional

    migrate(empty_url)
    with session_scope(empty_url) as session:
        volunteer = make_professional(session)
        volunteer.too_far_dm = 535
    _alembic(empty_url, command.downgrade, "0012")
    engine = create_engine_for(empty_url)
    try:
        assert "too_far_dm" not in {c["name"] for c in sa.inspect(engine).get_columns("professional")}
    finally:
        engine.dispose()
    _alembic(empty_url, command.upgrade, "head")
    assert _execute(empty_url, "SELECT id, too_far_dm FROM professional") == [(volunteer.id, None)]
    assert _differences(empty_url) == []
