"""Alembic's environment: the bot's metadata, and the caller's connection or an engine from `make_engine`."""

from __future__ import annotations

from alembic import context

from bot.store.engine import make_engine
from bot.store.schema import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line (e.g. `alembic revision --autogenerate`): DATABASE_URL or sqlalchemy.url
    import os

    engine = make_engine(config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"])
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
