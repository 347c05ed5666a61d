"""Alembic environment: runs migrations on the connection the caller hands over."""

from __future__ import annotations

from alembic import context

from registry.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # pragma: no cover - always called through registry.db
        raise RuntimeError("registry migrations run through registry.db.init_db")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
