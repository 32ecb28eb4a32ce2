"""The acknowledgement's own statements, run on the driver's connection: SQLAlchemy compiles each once per dialect,
then it is executed without SQLAlchemy's execution layer, which costs more CPU than SQLite takes to run it.

Everything else goes through SQLAlchemy as usual. A request pins one connection for all its statements
(`Database.request`): its look-ups run on it as they come (on SQLite each SELECT on its own, in autocommit; on
PostgreSQL in the transaction that the acknowledgement's write then commits), so a push costs one connection
checkout and one write transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class Hot:
    """One statement compiled for one dialect: its SQL text and, for positional drivers, the order of its names."""

    sql: str
    order: tuple[str, ...] | None  # SQLite's qmark style; None: named (psycopg's pyformat)
    fixed: Mapping[str, Any]  # values the statement itself gives (`.values(state="{}")`)

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> Hot:
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        return cls(compiled.string, order, fixed)

    def args(self, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.fixed:
            params = {**self.fixed, **params}
        return tuple(params[name] for name in self.order) if self.order is not None else params

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Run on the driver's connection behind `conn`, in whatever transaction it is in; the rows, if any."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self.args(params))
            return cursor.fetchall() if cursor.description is not None else []
        finally:
            cursor.close()


class Statements:
    """The hot statements of one database, compiled on first use; `watch` sees each as it runs (tests)."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self.watch: Callable[[str, object], None] | None = None
        self._compiled: dict[object, Hot] = {}

    def run(self, key: object, statement: ClauseElement, conn: Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Run the statement known by `key` (compiled once) on the driver's connection behind `conn`."""
        hot = self._compiled.get(key)
        if hot is None:
            hot = self._compiled[key] = Hot.compile(statement, self.dialect)
        if self.watch is not None:
            self.watch(hot.sql, hot.args(params))
        return hot.rows(conn, params)
