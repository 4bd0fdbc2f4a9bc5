"""session_scope: one transaction per action, committed on success, rolled back on any error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.shared.errors import DomainError
from db import models as m
from tests.factories import make_user


def _count_users(uow) -> int:
    with uow() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(m.User))


def test_the_unit_of_work_commits_when_the_block_succeeds(uow) -> None:
    with uow() as session:
        make_user(session)
    assert _count_users(uow) == 1


def test_the_unit_of_work_rolls_back_everything_on_an_error(uow) -> None:
    with pytest.raises(DomainError), uow() as session:
        make_user(session)
        make_user(session)
        raise DomainError("Refusé")
    assert _count_users(uow) == 0


def test_a_read_only_scope_never_writes(db_url: str) -> None:
    from db.session import session_scope

    with session_scope(db_url, read_only=True) as session:
        make_user(session)
    with session_scope(db_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(m.User)) == 0
