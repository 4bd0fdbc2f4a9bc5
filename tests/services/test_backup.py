"""`python -m ops.backup`: a dump of a small seeded PostgreSQL database, dropped and restored, gives back every table
with the same number of rows; a dump restores into a new database; a difference is reported as a failure."""

from __future__ import annotations

import os
import shlex
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from db import session as db_session
from ops import backup
from ops.seed import seed_demo
from tests.conftest import PG_ADMIN_URL, _pg_admin, _pg_url, require

SMALL = {"establishments": 20, "volunteers": 120, "missions": 30}


@pytest.fixture
def seeded_pg() -> Iterator[str]:
    """A database of its own on the test cluster, seeded with a small demo set, dropped at the end."""
    require(bool(PG_ADMIN_URL), "PostgreSQL non configuré (RENFORT_TEST_PG_URL absent)")
    missing = backup.missing_programs()
    require(missing is None, f"sauvegardes impossibles ici : {missing}")
    name = f"renfort_sauvegarde_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    try:
        seed_demo(url, seed=4, now=datetime.now(timezone.utc), **SMALL)
        db_session.get_engine(url).dispose()  # check drops the database: no connection of ours may stay open
        yield url
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_dump_drop_restore_gives_back_every_row(seeded_pg: str, tmp_path: Path, capsys) -> None:
    assert backup.main(["check", "--db", seeded_pg]) == 0
    printed = capsys.readouterr().out
    assert "Restauration vérifiée" in printed and "DIFFÉRENT" not in printed
    # The database really was dropped and recreated from the dump: its rows are there again.
    counts = backup.row_counts(backup.Target.parse(seeded_pg))
    assert counts["professional"] >= SMALL["volunteers"] and counts["mission"] >= SMALL["missions"]
    assert counts["event"] > 0 and counts["postal_code"] > 30_000 and counts["alembic_version"] == 1
    assert all(f"\n{table} " in printed for table in ("professional", "mission", "event", "alembic_version"))

    # A nightly dump restored into a new database beside it: the same rows.
    dump = tmp_path / "nuit.dump"
    assert backup.main(["dump", "--db", seeded_pg, "--out", str(dump)]) == 0 and dump.stat().st_size > 0
    copy = f"{backup.Target.parse(seeded_pg).name}_copie"
    try:
        assert backup.main(["restore", str(dump), "--into", copy, "--db", seeded_pg]) == 0
        assert backup.row_counts(backup.Target.parse(seeded_pg), copy) == counts
        assert backup.main(["restore", str(dump), "--into", copy, "--db", seeded_pg]) == 1  # never over a base
        assert "existe déjà" in capsys.readouterr().err
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def test_a_count_that_differs_fails_the_check() -> None:
    report = backup.CheckReport({"mission": 30, "event": 12}, {"mission": 30, "event": 11}, 0.1, 0.2, 1024)
    assert not report.ok and report.differences == ["event"]
    assert "← DIFFÉRENT" in next(line for line in report.table().splitlines() if line.startswith("event"))
    assert not backup.CheckReport({}, {}, 0, 0, 0).ok  # nothing counted proves nothing


def test_the_check_refuses_an_implicit_database_and_sqlite(capsys) -> None:
    assert backup.main(["check"]) == 1
    assert "--db" in capsys.readouterr().err
    with pytest.raises(backup.BackupError, match="PostgreSQL"):
        backup.Target.parse("sqlite:///data/renfort.db")


def test_old_dumps_are_pruned_keeping_the_most_recent(tmp_path: Path) -> None:
    for day in range(1, 6):
        path = tmp_path / f"renfort-base-2026120{day}-010000.dump"
        path.write_bytes(b"x")
        stamp = datetime(2026, 12, day, tzinfo=timezone.utc).timestamp()
        os.utime(path, (stamp, stamp))
    (tmp_path / "autre.txt").write_text("gardé")
    removed = backup.prune(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == [f"renfort-base-2026120{d}-010000.dump" for d in (1, 2, 3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autre.txt", "renfort-base-20261204-010000.dump",
                                                          "renfort-base-20261205-010000.dump"]


def test_the_password_never_reaches_the_command_line() -> None:
    target = backup.Target.parse("postgresql+psycopg://renfort:secret@db.exemple.fr:5433/renfort")
    assert "secret" not in target.libpq() and target.libpq() == "postgresql://renfort@db.exemple.fr:5433/renfort"
    assert target.environment()["PGPASSWORD"] == "secret"
    assert sa.engine.make_url(target.sqlalchemy("postgres")).database == "postgres"


def test_the_nightly_unit_runs_a_command_the_backup_script_accepts() -> None:
    """deploy/renfort-backup.service and its cron line call ops.backup as it parses today (a renamed option would
    silently stop the nightly dumps)."""
    unit = (Path(__file__).resolve().parents[2] / "deploy" / "renfort-backup.service").read_text()
    commands = [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart=")]
    commands += [line.split("python", 1)[1] for line in unit.splitlines() if line.startswith("#   30 2")]
    assert len(commands) == 2
    for command in commands:
        words = shlex.split(command)
        arguments = words[words.index("ops.backup") + 1:]
        parsed = backup.build_parser().parse_args(arguments)
        assert (parsed.command, parsed.keep) == ("dump", 14)
    assert "OnCalendar=" in (Path(__file__).resolve().parents[2] / "deploy" / "renfort-backup.timer").read_text()
