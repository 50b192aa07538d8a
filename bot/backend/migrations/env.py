"""Alembic environment: the connection comes from bot.db.Database.migrate
(config.attributes["connection"]); `python -m bot.backend migrate` is the way in."""
from alembic import context
from sqlalchemy import create_engine

from bot.backend.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` with sqlalchemy.url set
        engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True)
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use python -m bot.backend migrate")
run_migrations_online()
