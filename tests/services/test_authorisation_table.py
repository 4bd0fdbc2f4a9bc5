"""The authorisation table (issue 12): every core service × every kind of actor → allowed or refused.

One parametrised test checks every cell against the services, on SQLite and on PostgreSQL: a refused actor
gets PermissionDenied with nothing written (no audit event, no e-mail, no pending change); an allowed actor gets
what the service is for (each case says what that is, so that a service refusing everybody fails here too).
The table of docs/securite.md is generated from the same cases and checked against them
(`python -m tests.services.test_authorisation_table` prints it). A public service of `core` that takes an actor
and is missing from the cases makes `test_every_service_is_in_the_table` fail: a new service comes with its row.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

import core
from core.shared.errors import PermissionDenied
from db import models as m
from db.session import get_engine, session_scope
from tests.conftest import _forget_engine, _truncate_pg, clone_sqlite
from tests.services.authorisation import (
    cases_access,
    cases_campaigns,
    cases_figures,
    cases_national_missions,
    cases_pool_roster,
    cases_pools,
    cases_regulation,
    cases_simulation,
    cases_staffing,
    cases_volunteers,
)
from tests.services.authorisation.world import ROLE_TITLES, ROLES, Service, World, build, session_actor

CASE_MODULES = (cases_access, cases_staffing, cases_regulation, cases_volunteers, cases_figures,
                cases_national_missions, cases_pool_roster, cases_pools, cases_campaigns, cases_simulation)
DOC = Path(__file__).resolve().parents[2] / "docs" / "securite.md"
TABLE_START, TABLE_END = "<!-- table des autorisations : début -->", "<!-- table des autorisations : fin -->"

# Public functions of core that take an actor but are not services: the permission predicates pages use to
# build a row's actions, and the pieces services share (each service that uses them is in the table).
NOT_SERVICES = {
    "core.shared.permissions": "*",
    "core.pools.scope": "*",  # who acts on which pool: the predicates every pool service calls
    "core.campaigns.scope": "*",  # who acts on which campaign and dossier: the predicates its services call
    "core.campaigns.campaigns": {"campaign_actions", "campaign_summary"},  # a row's actions, a row
    "core.pools.members": {"decides_joins", "add_members"},  # a predicate; the creation's and add_member's step
    "core.access.administration": {"manages", "creatable_roles"},
    "core.staffing.matching": {"viewer_kind"},
    "core.staffing.regulation": {"require_reader", "push_candidates"},
    "core.staffing.workflow": {"require_member", "require_manager"},
    "core.figures.exports": {"about_lines"},
}


def all_cases() -> dict[str, Service]:
    cases: dict[str, Service] = {}
    for module in CASE_MODULES:
        twice = set(cases) & set(module.CASES)
        assert not twice, f"Service décrit deux fois : {twice}"
        cases.update(module.CASES)
    return cases


SERVICES = all_cases()


def core_services() -> set[str]:
    """Every public function of core that takes an `actor`, as `module.function` (module: its last part)."""
    found = set()
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if info.name == "core.__main__" or NOT_SERVICES.get(info.name) == "*":
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
                    and "actor" in inspect.signature(value).parameters
                    and name not in NOT_SERVICES.get(info.name, ())):
                found.add(f"{info.name.rsplit('.', 1)[1]}.{name}")
    return found


def test_every_service_is_in_the_table() -> None:
    assert set(SERVICES) == core_services()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """The world, built once per engine and committed; each cell rolls its own changes back."""
    if request.param == "sqlite":
        url = clone_sqlite(request.getfixturevalue("sqlite_template"), tmp_path_factory.mktemp("table") / "t.db")
    else:
        url = request.getfixturevalue("pg_database")
        _truncate_pg(url)
    with session_scope(url) as session:
        world = build(session)
    yield url, world
    if request.param == "sqlite":
        _forget_engine(url)


@contextmanager
def cell_session(url: str) -> Iterator[so.Session]:
    """A unit of work whose every change, flushed or not, is rolled back at the end (savepoints inside)."""
    with get_engine(url).connect() as connection:
        transaction = connection.begin()
        session = so.Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


def _written(session: so.Session) -> tuple[int, int]:
    return (session.scalar(sa.select(sa.func.count()).select_from(m.Event)),
            session.scalar(sa.select(sa.func.count()).select_from(m.Outbox)))


CELLS = [pytest.param(service, role, id=f"{service}-{role}") for service in SERVICES for role in ROLES]


@pytest.mark.parametrize(("service", "role"), CELLS)
def test_every_cell_of_the_authorisation_table(world_db: tuple[str, World], service: str, role: str) -> None:
    url, world = world_db
    case = SERVICES[service]
    with cell_session(url) as session:
        actor = session_actor(session, world, role)
        assert actor == world.actors[role], "le compte de cette colonne n'est pas celui que l'application bâtit"
        if role in case.allowed:
            assert case.succeeded(session, world, case.call(session, world, actor))
            return
        before = _written(session)
        with pytest.raises(PermissionDenied):
            # what a cell prepares is flushed by its helpers: only the service's own changes are pending
            case.call(session, world, actor)
        assert not (session.new or session.dirty or session.deleted)
        assert _written(session) == before


# ---------------------------------------------------------------- the table of docs/securite.md


def markdown_table() -> str:
    header = "| Service | " + " | ".join(ROLE_TITLES[role] for role in ROLES) + " | Remarque |"
    lines = [header, "|" + "---|" * (len(ROLES) + 2)]
    for name, case in sorted(SERVICES.items()):
        cells = " | ".join("oui" if role in case.allowed else "non" for role in ROLES)
        lines.append(f"| `{name}` | {cells} | {case.note} |")
    return "\n".join(lines)


def test_the_table_of_the_security_document_is_the_one_tested() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text
    documented = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert documented == markdown_table(), "python -m tests.services.test_authorisation_table --write"


def write_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    before, rest = text.split(TABLE_START, 1)
    after = rest.split(TABLE_END, 1)[1]
    DOC.write_text(f"{before}{TABLE_START}\n{markdown_table()}\n{TABLE_END}{after}", encoding="utf-8")


if __name__ == "__main__":
    write_table() if "--write" in sys.argv else print(markdown_table())
