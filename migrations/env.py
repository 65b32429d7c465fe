"""Alembic environment: runs against the engine nyquestro.store.database hands over."""

from alembic import context

from nyquestro.store.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
