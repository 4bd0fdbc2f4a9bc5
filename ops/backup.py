"""`python -m ops.backup dump|restore|check`: PostgreSQL backups of the application's database, and their proof.

- `dump [--out FILE] [--keep N]`: `pg_dump -Fc` (compressed custom format, what pg_restore reads) of the database
  of RENFORT_DATABASE_URL (or --db) into FILE, by default RENFORT_BACKUP_DIR/renfort-<base>-<AAAAMMJJ-HHMMSS>.dump;
  --keep N then deletes all but the N most recent dumps of that directory (a nightly timer: deploy/).
- `restore FILE --into NAME`: a new database NAME (refused if it exists) on the same server, filled from FILE;
  `restore FILE --replace`: the configured database's objects dropped and restored from FILE, in one transaction
  (stop the servers and workers first).
- `check --db URL`: dump → drop → restore → the row count of every table compared, printed as a French table;
  exits 1 when a count differs. It DROPS the database it is given (then restores it): point it at a copy or a
  test database, never at production while it serves. The dump is kept when the restore fails.

The password of the URL goes to the programs through PGPASSWORD, never on their command line (visible to `ps`).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from core.shared.config import ROOT, get_settings
from ops.cli import parser_with_database

DEFAULT_BACKUP_DIR = ROOT / "data" / "sauvegardes"
MAINTENANCE_DATABASE = "postgres"  # where CREATE / DROP DATABASE are sent from


class BackupError(RuntimeError):
    """A French message for the operator; the command exits 1 with it."""


def client_program(name: str) -> str | None:
    """pg_dump / pg_restore: the newest Debian version first (a client must be at least the server's version;
    /usr/bin's are postgresql-common's wrappers), else the one on PATH."""
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True,
                      key=lambda p: int(Path(p).parents[1].name) if Path(p).parents[1].name.isdigit() else 0)
    return versions[0] if versions else shutil.which(name)


def missing_programs() -> str | None:
    """Why backups cannot run here (French), or None."""
    absent = [name for name in ("pg_dump", "pg_restore") if client_program(name) is None]
    return f"{' et '.join(absent)} introuvable(s) (paquet Debian postgresql-client)" if absent else None


@dataclass(frozen=True)
class Target:
    """A PostgreSQL database, as the libpq programs take it (URI without password) and as SQLAlchemy does."""

    url: sa.engine.URL

    @classmethod
    def parse(cls, url: str) -> Target:
        parsed = sa.engine.make_url(url)
        if not parsed.drivername.startswith("postgresql") or not parsed.database:
            raise BackupError("les sauvegardes concernent une base PostgreSQL : RENFORT_DATABASE_URL (ou --db) doit "
                              "être une adresse postgresql+psycopg://…/base (la base SQLite embarquée se copie "
                              "comme un fichier, serveur arrêté).")
        return cls(parsed)

    @property
    def name(self) -> str:
        return self.url.database

    def libpq(self, database: str | None = None) -> str:
        # URL.set(password=None) would keep the password: the URL is rebuilt without it.
        bare = sa.engine.URL.create("postgresql", username=self.url.username, host=self.url.host, port=self.url.port,
                                    database=database or self.name, query=self.url.query)
        return bare.render_as_string(hide_password=False)

    def environment(self) -> dict[str, str]:
        return {**os.environ, **({"PGPASSWORD": self.url.password} if self.url.password else {})}

    def sqlalchemy(self, database: str | None = None) -> str:
        return self.url.set(database=database or self.name).render_as_string(hide_password=False)


def _run(target: Target, program: str, *args: str) -> float:
    """A libpq program; its seconds. Its error output becomes the French message of a BackupError."""
    path = client_program(program)
    if path is None:
        raise BackupError(f"{program} introuvable (paquet Debian postgresql-client).")
    started = time.monotonic()
    done = subprocess.run([path, *args], env=target.environment(), capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(f"{program} a échoué ({done.returncode}) : {done.stderr.strip()[-800:]}")
    return time.monotonic() - started


def _admin(target: Target, statement: str) -> None:
    """CREATE / DROP DATABASE, sent from the maintenance database (they cannot run in a transaction)."""
    engine = sa.create_engine(target.sqlalchemy(MAINTENANCE_DATABASE), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _exists(target: Target, name: str) -> bool:
    engine = sa.create_engine(target.sqlalchemy(MAINTENANCE_DATABASE))
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() \
                is not None
    finally:
        engine.dispose()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def row_counts(target: Target, database: str | None = None) -> dict[str, int]:
    """The exact row count of every table of the public schema (migrations' alembic_version included)."""
    engine = sa.create_engine(target.sqlalchemy(database))
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names(schema="public")
            return {table: connection.exec_driver_sql(f"SELECT count(*) FROM public.{_quoted(table)}").scalar_one()
                    for table in sorted(tables)}
    finally:
        engine.dispose()


def backup_dir() -> Path:
    return Path(os.environ.get("RENFORT_BACKUP_DIR", "").strip() or DEFAULT_BACKUP_DIR)


def dump(target: Target, out: Path | None = None) -> tuple[Path, float]:
    """pg_dump -Fc of the target into `out` (default: a timestamped file of RENFORT_BACKUP_DIR); path and seconds.
    Written beside under a temporary name first: a dump cut short never passes for a good one."""
    out = out or backup_dir() / f"renfort-{target.name}-{datetime.now():%Y%m%d-%H%M%S}.dump"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partiel")
    # Owners and grants stay in the archive: pg_restore chooses to skip them (--no-owner) where roles differ.
    seconds = _run(target, "pg_dump", "--format=custom", f"--file={partial}", f"--dbname={target.libpq()}")
    partial.replace(out)
    return out, seconds


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` most recent dumps (renfort-*.dump) of the directory; the deleted ones."""
    dumps = sorted(directory.glob("renfort-*.dump"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in dumps[keep:]:
        old.unlink()
    return dumps[keep:]


def restore_into(target: Target, source: Path, name: str) -> float:
    """A new database `name` on the target's server, filled from the dump; seconds."""
    if _exists(target, name):
        raise BackupError(f"la base « {name} » existe déjà : choisissez un autre nom (ou --replace pour remplacer "
                          "le contenu de la base configurée).")
    _admin(target, f"CREATE DATABASE {_quoted(name)} TEMPLATE template0 ENCODING 'UTF8'")
    return _run(target, "pg_restore", "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
                f"--dbname={target.libpq(name)}", str(source))


def restore_replacing(target: Target, source: Path) -> float:
    """The target's objects dropped and recreated from the dump, in one transaction (all or nothing); seconds."""
    return _run(target, "pg_restore", "--clean", "--if-exists", "--exit-on-error", "--single-transaction",
                "--no-owner", "--no-privileges", f"--dbname={target.libpq()}", str(source))


@dataclass(frozen=True)
class CheckReport:
    before: dict[str, int]
    after: dict[str, int]
    dump_seconds: float
    restore_seconds: float
    dump_bytes: int

    @property
    def differences(self) -> list[str]:
        return [t for t in sorted(self.before.keys() | self.after.keys()) if self.before.get(t) != self.after.get(t)]

    @property
    def ok(self) -> bool:
        return not self.differences and bool(self.before)

    def table(self) -> str:
        """French table: each table's rows before and after, the differing ones marked."""
        width = max(len(t) for t in self.before.keys() | self.after.keys() | {"table"})
        lines = [f"{'table':<{width}}  {'avant':>10}  {'après':>10}", "-" * (width + 24)]
        for name in sorted(self.before.keys() | self.after.keys()):
            before, after = self.before.get(name), self.after.get(name)
            mark = "" if before == after else "  ← DIFFÉRENT"
            lines.append(f"{name:<{width}}  {_n(before):>10}  {_n(after):>10}{mark}")
        lines.append("-" * (width + 24))
        lines.append(f"{'total':<{width}}  {_n(sum(self.before.values())):>10}  {_n(sum(self.after.values())):>10}")
        return "\n".join(lines)


def _n(value: int | None) -> str:
    return "absente" if value is None else f"{value:,}".replace(",", " ")


def check(target: Target, keep_dump: Path | None = None) -> CheckReport:
    """dump → drop → restore (the database recreated as dumped) → row counts compared. The dump goes to a temporary
    directory, removed after a good restore; after a failed one it is moved to `keep_dump` (or RENFORT_BACKUP_DIR)
    and the error names it, so that nothing is lost."""
    before = row_counts(target)
    workdir = Path(tempfile.mkdtemp(prefix="renfort-verif-"))
    path, dump_seconds = dump(target, workdir / f"renfort-{target.name}.dump")
    size = path.stat().st_size
    try:
        _admin(target, f"DROP DATABASE {_quoted(target.name)} WITH (FORCE)")
        # --create: the database recreated from the dump itself (its encoding and settings), then filled.
        restore_seconds = _run(target, "pg_restore", "--create", "--exit-on-error", "--no-owner", "--no-privileges",
                               f"--dbname={target.libpq(MAINTENANCE_DATABASE)}", str(path))
    except BackupError as error:
        kept = keep_dump or backup_dir() / path.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, kept)
        raise BackupError(f"{error} — la sauvegarde est gardée : {kept} (python -m ops.backup restore {kept} "
                          f"--into {target.name})") from error
    shutil.rmtree(workdir, ignore_errors=True)
    return CheckReport(before, row_counts(target), dump_seconds, restore_seconds, size)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} Mo".replace(".", ",") if n >= 1_048_576 else f"{n / 1024:.0f} Ko"


def _seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")


def _cmd_dump(target: Target, args: argparse.Namespace) -> int:
    path, seconds = dump(target, Path(args.out) if args.out else None)
    print(f"Sauvegarde de la base « {target.name} » : {path} ({_size(path.stat().st_size)}, {_seconds(seconds)}).")
    if args.keep:
        for old in prune(path.parent, args.keep):
            print(f"Ancienne sauvegarde supprimée : {old}")
    return 0


def _cmd_restore(target: Target, args: argparse.Namespace) -> int:
    source = Path(args.file)
    if not source.is_file():
        raise BackupError(f"fichier introuvable : {source}")
    if bool(args.into) == bool(args.replace):
        raise BackupError("précisez --into NOM (une nouvelle base) ou --replace (remplace le contenu de la base "
                          f"« {target.name} »).")
    if args.into:
        seconds = restore_into(target, source, args.into)
        print(f"Base « {args.into} » créée et restaurée depuis {source} en {_seconds(seconds)}.")
    else:
        seconds = restore_replacing(target, source)
        print(f"Base « {target.name} » remplacée par le contenu de {source} en {_seconds(seconds)}.")
    return 0


def _cmd_check(target: Target, args: argparse.Namespace) -> int:  # noqa: ARG001 - one signature for all three
    print(f"Vérification de la restauration de « {target.name} » : sauvegarde, suppression de la base, "
          "restauration, puis comptage des lignes de chaque table.")
    report = check(target)
    print(report.table())
    print(f"Sauvegarde {_seconds(report.dump_seconds)} ({_size(report.dump_bytes)}), restauration "
          f"{_seconds(report.restore_seconds)}.")
    if not report.ok:
        print(f"ÉCHEC : nombre de lignes différent pour {', '.join(report.differences) or 'aucune table lue'}.")
        return 1
    print(f"Restauration vérifiée : {len(report.before)} tables, mêmes nombres de lignes.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser, sub, database = parser_with_database("python -m ops.backup", "Sauvegardes PostgreSQL de Renfort RH")
    dump_parser = sub.add_parser("dump", parents=[database], help="pg_dump -Fc de la base dans un fichier")
    dump_parser.add_argument("--out", help="fichier à écrire (par défaut RENFORT_BACKUP_DIR/renfort-<base>-<date>.dump)")
    dump_parser.add_argument("--keep", type=int, help="ne garder que les N sauvegardes les plus récentes du dossier")
    dump_parser.set_defaults(func=_cmd_dump)
    restore = sub.add_parser("restore", parents=[database], help="restaure une sauvegarde dans une nouvelle base ou à la place de la base")
    restore.add_argument("file", help="le fichier .dump (pg_dump -Fc)")
    restore.add_argument("--into", help="nom d'une nouvelle base à créer sur le même serveur")
    restore.add_argument("--replace", action="store_true", help="remplacer le contenu de la base configurée "
                                                                "(serveurs et workers arrêtés)")
    restore.set_defaults(func=_cmd_restore)
    verify = sub.add_parser("check", parents=[database], help="sauvegarde → suppression → restauration → mêmes nombres de lignes "
                                          "(SUPPRIME puis restaure la base visée : une copie, jamais la production)")
    verify.set_defaults(func=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        missing = missing_programs()
        if missing:
            raise BackupError(missing)
        if args.command == "check" and not args.db:
            raise BackupError("check supprime puis restaure la base : donnez-la explicitement avec --db URL.")
        return args.func(Target.parse(args.db or get_settings().database_url), args)
    except BackupError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
