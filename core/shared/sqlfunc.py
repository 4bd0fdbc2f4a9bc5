"""Small SQL constructs that each engine spells its own way, so that queries read the same."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class days_between(FunctionElement):  # noqa: N801 - reads like a SQL function
    """Whole days from `start` to `end` (dates)."""

    type = sa.Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"CAST(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


class least(FunctionElement):  # noqa: N801
    type = sa.Integer()  # used on integers and dates only; Integer keeps // an integer division
    inherit_cache = True
    name = "least"


class greatest(FunctionElement):  # noqa: N801
    type = sa.Integer()
    inherit_cache = True
    name = "greatest"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(least, "postgresql")
def _least_postgresql(element: least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "postgresql")
def _greatest_postgresql(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


def as_int(condition: ColumnElement[Any]) -> ColumnElement[int]:
    """1 when the condition holds, else 0."""
    return sa.case((condition, 1), else_=0)


class paris_date(FunctionElement):  # noqa: N801
    """The Europe/Paris calendar date of a stored (naive UTC) timestamp.

    PostgreSQL converts with its time-zone database; SQLite has none, so it applies the EU summer-time
    rule that Paris follows (UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
    Sunday of October, UTC+1 otherwise)."""

    type = sa.Date()
    inherit_cache = True
    name = "paris_date"


@compiles(paris_date, "sqlite")
def _paris_date_sqlite(element: paris_date, compiler: Any, **kw: Any) -> str:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text: the month is read with
    # substr, and the last Sundays of March and October are computed only for rows of those months.
    (moment,) = list(element.clauses)
    at = compiler.process(moment, **kw)
    month = f"substr({at}, 6, 2)"
    last_sunday = "datetime(date(substr({at}, 1, 4) || '-{month}-25', 'weekday 0'), '+1 hour')"
    summer = (f"{month} BETWEEN '04' AND '09'"
              f" OR ({month} = '03' AND {at} >= {last_sunday.format(at=at, month='03')})"
              f" OR ({month} = '10' AND {at} < {last_sunday.format(at=at, month='10')})")
    return f"date({at}, CASE WHEN {summer} THEN '+2 hours' ELSE '+1 hour' END)"


@compiles(paris_date, "postgresql")
def _paris_date_postgresql(element: paris_date, compiler: Any, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return f"CAST(timezone('Europe/Paris', timezone('UTC', {compiler.process(moment, **kw)})) AS DATE)"


class hours_between(FunctionElement):  # noqa: N801
    """Hours (fractional) from timestamp `start` to timestamp `end`."""

    type = sa.Float()
    inherit_cache = True
    name = "hours_between"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_postgresql(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)})) / 3600.0)"
