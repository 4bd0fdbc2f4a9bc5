"""`python -m ops.replica_check [--keep] [--small]`: the read replica opt-in shown on a real streaming pair.

The machine's PostgreSQL cluster (5432) refuses replication connections and must not be reconfigured
(STACK-NOTES « Scale-out on this machine »), so this command builds its own throw-away pair in a temporary
directory, on two free loopback ports: a primary (initdb, wal_level=replica) and a hot standby cloned from it
(pg_basebackup -R -X stream). It migrates and seeds the demo data on the primary, points RENFORT_DATABASE_URL and
RENFORT_DATABASE_READ_URL at the two servers, then shows, counting the statements each engine runs:

1. the « Vue nationale » page (AppTest, signed in as the CCS) reads its figures on the replica, while the
   signed-in user is re-read on the primary;
2. an export records its Event on the primary and reads its rows on the replica, once the replica holds it;
3. a write of the application lands on the primary and reaches the replica within a second (lag measured);
4. a write attempted in a replica scope fails loudly: SQLSTATE 25006 (read_only_sql_transaction).

Both servers are stopped at the end and the directory removed, unless --keep (they are left running for
inspection, with the commands to stop them). Without PostgreSQL's server binaries, it says so and exits 0.
Run as root, the servers run as the `postgres` user (runuser): initdb refuses root.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from streamlit import logger as streamlit_logger

SERVER_USER = "postgres"
DATABASE = "renfort"
WRITES = 20  # writes whose arrival on the replica is timed
LAG_LIMIT_SECONDS = 1.0  # what the reads sent to the replica tolerate (issue 16 §3)
SMALL_DEMO = {"establishments": 20, "volunteers": 120, "missions": 30}
CCS_USER = "ccs@example.org"
Say = Callable[[str], None]


def server_binaries() -> Path | None:
    """PostgreSQL's server programs: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest first)."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True,
                                           key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)]
    needed = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
    return next((c for c in candidates if all((c / name).is_file() for name in needed)), None)


def missing_prerequisite() -> str | None:
    """Why the check cannot run here (French), or None."""
    if server_binaries() is None:
        return ("binaires du serveur PostgreSQL introuvables (initdb, pg_ctl, pg_basebackup : paquet Debian "
                "postgresql, dans /usr/lib/postgresql/<version>/bin)")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "lancé en root sans runuser : impossible de démarrer PostgreSQL sous l'utilisateur postgres"
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return "lancé en root sans utilisateur « postgres » pour faire tourner les serveurs (initdb refuse root)"
    return None


def free_port() -> int:
    """A port the kernel has just found free on loopback (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Pair:
    """A primary and its streaming replica, each a data directory and a port."""

    base: Path
    binaries: Path
    primary_port: int
    replica_port: int

    @property
    def primary_dir(self) -> Path:
        return self.base / "primaire"

    @property
    def replica_dir(self) -> Path:
        return self.base / "replique"

    def url(self, port: int, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def run(self, program: str, *args: str) -> None:
        """A server program, as the postgres user when we are root (initdb and postgres refuse root)."""
        command = [str(self.binaries / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if done.returncode:
            raise RuntimeError(f"{program} a échoué ({done.returncode}) : {(done.stderr or done.stdout).strip()[-800:]}")

    def stop_commands(self) -> list[str]:
        prefix = f"runuser -u {SERVER_USER} -- " if os.geteuid() == 0 else ""
        return [f"{prefix}{self.binaries / 'pg_ctl'} -D {d} -m fast -w stop" for d in (self.replica_dir, self.primary_dir)]


def _owned_directory(path: Path) -> None:
    """A directory the servers' user owns, private as PostgreSQL requires (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def _configure_primary(pair: Pair) -> None:
    """Loopback only, a private socket directory, WAL for a streaming replica, durability off (throw-away data)."""
    settings = {
        "port": pair.primary_port, "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{pair.base / 'sockets'}'", "wal_level": "replica", "hot_standby": "on",
        "max_wal_senders": 4, "fsync": "off", "full_page_writes": "off",
    }
    with (pair.primary_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n# ops.replica_check\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    with (pair.primary_dir / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")


def new_pair(base: Path) -> Pair:
    binaries = server_binaries()
    assert binaries is not None  # checked by missing_prerequisite
    return Pair(base, binaries, free_port(), free_port())


def start_pair(pair: Pair) -> None:
    """initdb, start the primary, clone it with pg_basebackup -R, start the clone as a hot standby (~2 s)."""
    base = pair.base
    base.chmod(0o755)  # the servers' user walks through it to its own directories
    for directory in (pair.primary_dir, pair.replica_dir, base / "sockets", base / "journaux"):
        _owned_directory(directory)
    pair.run("initdb", "-D", str(pair.primary_dir), "--auth=trust", "-U", SERVER_USER, "--encoding=UTF8",
             "--locale=C.UTF-8", "--no-sync")
    _configure_primary(pair)
    pair.run("pg_ctl", "-D", str(pair.primary_dir), "-l", str(base / "journaux" / "primaire.log"), "-w", "start")
    pair.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", SERVER_USER,
             "-D", str(pair.replica_dir), "-R", "-X", "stream", "-c", "fast", "--no-sync")
    # The copied configuration keeps the primary's port: the replica's is given on its command line.
    pair.run("pg_ctl", "-D", str(pair.replica_dir), "-o", f"-p {pair.replica_port}",
             "-l", str(base / "journaux" / "replique.log"), "-w", "start")


def stop_pair(pair: Pair) -> None:
    for directory in (pair.replica_dir, pair.primary_dir):
        if (directory / "postmaster.pid").exists():
            pair.run("pg_ctl", "-D", str(directory), "-m", "fast", "-w", "stop")


@contextmanager
def running_pair(keep: bool, say: Say) -> Iterator[Pair]:
    """The pair, started; stopped and removed at the end (even after a failure), unless kept."""
    pair = new_pair(Path(tempfile.mkdtemp(prefix="renfort-replique-")))
    try:
        start_pair(pair)
        yield pair
    finally:
        if keep:
            say(f"\nServeurs laissés en marche (--keep) dans {pair.base} :")
            say(f"  principale : {pair.primary_url}\n  réplique   : {pair.replica_url}")
            say("  pour les arrêter : " + " ; ".join(pair.stop_commands()) + f" ; rm -rf {pair.base}")
        else:
            stop_pair(pair)
            shutil.rmtree(pair.base, ignore_errors=True)


class Statements:
    """Statements run by each engine (primary, replica), counted by a SQLAlchemy event on each."""

    def __init__(self, engines: dict[str, sa.Engine]) -> None:
        self.counts: Counter[str] = Counter()
        self._listeners = []
        for name, engine in engines.items():
            def count(*_args, _name=name) -> None:  # noqa: ANN002
                self.counts[_name] += 1

            sa.event.listen(engine, "before_cursor_execute", count)
            self._listeners.append((engine, count))

    @contextmanager
    def during(self) -> Iterator[Counter[str]]:
        """The statements counted while the block runs."""
        before = Counter(self.counts)
        seen: Counter[str] = Counter()
        yield seen
        seen.update({name: self.counts[name] - before[name] for name in self.counts})


def _point_settings_at(pair: Pair) -> None:
    from core.shared.config import get_settings

    os.environ["RENFORT_DATABASE_URL"] = pair.primary_url
    os.environ["RENFORT_DATABASE_READ_URL"] = pair.replica_url
    get_settings.cache_clear()


def _create_database(pair: Pair) -> None:
    engine = sa.create_engine(pair.url(pair.primary_port, "postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    engine.dispose()


def _replayed(primary: sa.Engine, replica: sa.Engine, timeout: float = 30.0) -> float:
    """Seconds until the replica has replayed the primary's current WAL position."""
    started = time.monotonic()
    with primary.connect() as connection:
        position = connection.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar_one()
    query = sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:p AS pg_lsn)")
    with replica.connect() as connection:
        while not connection.execute(query, {"p": position}).scalar_one():
            if time.monotonic() - started > timeout:
                raise RuntimeError("la réplique n'a pas rattrapé la base principale en 30 s")
            time.sleep(0.005)
    return time.monotonic() - started


def _national_page(statements: Statements) -> tuple[Counter[str], str | None]:
    """« Vue nationale » run by AppTest as the CCS: statements per engine, and the page's exception if any."""
    from streamlit.testing.v1 import AppTest

    from core.shared.config import ROOT
    from ops.apptest import open_page, sign_in_as

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    # Counted from the first run: a CCS agent lands on « Vue nationale », whose figures are then cached.
    with statements.during() as seen:
        sign_in_as(app, CCS_USER, "ccs").run()
        open_page(app, "vue-nationale")
    failure = app.exception[0].message if app.exception else None
    if failure is None and not any(m.label == "Besoins ouverts" for m in app.metric):
        failure = "la page n'affiche pas ses chiffres"
    return seen, failure


def _export(statements: Statements) -> tuple[Counter[str], Counter[str], int]:
    """The command line's export: its Event on the primary, its rows on the caught-up replica."""
    from core.figures.exports import ExportRequest, build_export, prepare_export
    from core.shared.actor import COMMAND_LINE
    from db.session import session_scope

    request = ExportRequest("missions", file_format="csv")
    with statements.during() as recorded, session_scope() as session:
        receipt = prepare_export(session, actor=COMMAND_LINE, request=request)
    with statements.during() as built, session_scope(replica=True, caught_up=True) as session:
        exported = build_export(session, actor=COMMAND_LINE, receipt=receipt)
    return recorded, built, exported.rows


def _timed_writes(primary: sa.Engine, replica: sa.Engine, statements: Statements) -> tuple[list[float], Counter[str]]:
    """Application writes (audit events, through session_scope) and the time each takes to be readable on the
    replica, polled every 2 ms on a connection in autocommit (a new snapshot each time)."""
    from core.shared.audit import record_event
    from db.session import session_scope

    lags: list[float] = []
    with statements.during() as seen, replica.connect().execution_options(isolation_level="AUTOCOMMIT") as poll:
        for n in range(WRITES):
            with session_scope() as session:
                event = record_event(session, actor_id=None, entity="replica_check", entity_id=n, action="write",
                                     at=datetime.now(timezone.utc))
                session.flush()
                event_id = event.id
            committed = time.monotonic()
            while poll.execute(sa.text("SELECT 1 FROM event WHERE id = :id"), {"id": event_id}).first() is None:
                if time.monotonic() - committed > 10:
                    raise RuntimeError("écriture jamais arrivée sur la réplique (10 s)")
                time.sleep(0.002)
            lags.append(time.monotonic() - committed)
    return lags, seen


def _write_in_replica_scope() -> str | None:
    """The SQLSTATE of a write attempted in a replica scope (None: the write went through — a failure)."""
    from core.shared.audit import record_event
    from db.session import session_scope

    try:
        with session_scope(replica=True) as session:
            record_event(session, actor_id=None, entity="replica_check", entity_id=None, action="forbidden")
            session.flush()
    except sa.exc.DBAPIError as error:
        return getattr(error.orig, "sqlstate", None)
    return None


def _in_recovery(**scope: bool) -> bool:
    from db.session import session_scope

    with session_scope(**scope) as session:
        return bool(session.scalar(sa.text("SELECT pg_is_in_recovery()")))


def _ms(seconds: float) -> str:
    milliseconds = seconds * 1000
    return f"{milliseconds:.1f} ms".replace(".", ",") if milliseconds < 10 else f"{milliseconds:.0f} ms"


def run_check(*, keep: bool = False, small: bool = False, say: Say = print) -> bool:
    """Build the pair, run the four demonstrations, say each result in French; True when all hold."""
    reason = missing_prerequisite()
    if reason:
        say(f"Vérification de la réplique ignorée : {reason}.")
        return True
    from db.session import get_engine
    from ops.seed import seed_demo

    # AppTest's script thread leaves Streamlit's "no runtime" warnings behind: noise in a French report.
    streamlit_logger.set_log_level("error")

    ok = True

    def check(condition: bool, text: str) -> None:
        nonlocal ok
        ok = ok and condition
        say(("  [OK]     " if condition else "  [ÉCHEC]  ") + text)

    started = time.monotonic()
    with running_pair(keep, say) as pair:
        say(f"Paire PostgreSQL construite en {time.monotonic() - started:.1f} s : principale 127.0.0.1:"
            f"{pair.primary_port}, réplique 127.0.0.1:{pair.replica_port} ({pair.base}).")
        _create_database(pair)
        _point_settings_at(pair)
        step = time.monotonic()
        seed_demo(pair.primary_url, seed=2020, **(SMALL_DEMO if small else {}))
        primary, replica = get_engine(pair.primary_url), get_engine(pair.replica_url)
        catch_up = _replayed(primary, replica)
        say(f"Migrations et jeu de démonstration{' réduit' if small else ''} sur la principale en "
            f"{time.monotonic() - step:.1f} s ; réplique à jour {_ms(catch_up)} plus tard.")
        statements = Statements({"principale": primary, "réplique": replica})

        say("\n1. Où lisent les portées de session")
        check(not _in_recovery() and _in_recovery(replica=True),
              "session_scope() lit la principale, session_scope(replica=True) la réplique (pg_is_in_recovery)")

        say("\n2. Page « Vue nationale » (AppTest, CCS connecté)")
        seen, failure = _national_page(statements)
        check(failure is None, "la page s'affiche" + (f" — {failure}" if failure else ""))
        check(seen["réplique"] > 0, f"chiffres nationaux lus sur la réplique : {seen['réplique']} requête(s)")
        check(seen["principale"] > 0, f"utilisateur connecté relu sur la principale : {seen['principale']} requête(s)")

        say("\n3. Export (ligne de commande)")
        recorded, built, rows = _export(statements)
        check(recorded["principale"] > 0 and recorded["réplique"] == 0,
              f"événement du journal écrit sur la principale ({recorded['principale']} requête(s), 0 sur la réplique)")
        check(built["réplique"] > 0, f"{rows} ligne(s) lue(s) sur la réplique ({built['réplique']} requête(s) ; "
                                     f"{built['principale']} sur la principale pour attendre que la réplique ait "
                                     "l'événement)")

        say(f"\n4. Écritures ({WRITES}) et leur arrivée sur la réplique")
        lags, seen = _timed_writes(primary, replica, statements)
        check(seen["principale"] >= WRITES, f"écritures envoyées à la principale : {seen['principale']} requête(s)")
        check(max(lags) < LAG_LIMIT_SECONDS,
              f"retard de la réplique : médiane {_ms(statistics.median(lags))}, maximum {_ms(max(lags))} "
              f"(limite {LAG_LIMIT_SECONDS:.0f} s)")

        say("\n5. Écriture tentée dans une portée de réplique")
        sqlstate = _write_in_replica_scope()
        check(sqlstate == "25006", f"refusée avec SQLSTATE {sqlstate} (25006 attendu : transaction en lecture seule)")
    say(f"\n{'Réplique de lecture vérifiée' if ok else 'Vérification en échec'} en "
        f"{time.monotonic() - started:.1f} s.")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.replica_check",
                                     description="Vérifie la réplique de lecture sur une paire PostgreSQL jetable.")
    parser.add_argument("--keep", action="store_true", help="laisser les deux serveurs en marche à la fin")
    parser.add_argument("--small", action="store_true", help="jeu de démonstration réduit (plus rapide : tests)")
    args = parser.parse_args(argv)
    return 0 if run_check(keep=args.keep, small=args.small, say=lambda text: print(text, flush=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
