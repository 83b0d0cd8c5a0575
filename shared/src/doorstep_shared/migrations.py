"""Alembic migrations, run programmatically: each service owns `<package>/migrations`.

Schemas change only through revisions (never `create_all` in production); the
embedded mode and the tests apply the same revisions at start-up.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from doorstep_shared.db import Database


def alembic_config(script_location: Path, url: str = "") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(db: Database, script_location: Path, revision: str = "head") -> None:
    cfg = alembic_config(script_location, db.url)

    def _run(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with db.write_lock(), db.engine.begin() as conn:
        await conn.run_sync(_run)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's `migrations/env.py`."""
    from alembic import context

    config = context.config
    connection: Any = config.attributes.get("connection")
    opts: dict[str, Any] = {
        "target_metadata": target_metadata,
        "render_as_batch": True,
        "compare_type": True,
    }
    if connection is None:
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return
    context.configure(connection=connection, **opts)
    with context.begin_transaction():
        context.run_migrations()


ENV_TEMPLATE = '''"""Alembic environment of the {service} service."""

from doorstep_shared.migrations import run_env
from {package}.models import metadata

run_env(metadata)
'''

SCRIPT_TEMPLATE = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''


async def make_revision(package: str, script_location: Path, message: str) -> None:
    """Autogenerate a revision by diffing the models against the migrated schema."""
    script_location.mkdir(parents=True, exist_ok=True)
    (script_location / "versions").mkdir(exist_ok=True)
    env = script_location / "env.py"
    if not env.exists():
        env.write_text(ENV_TEMPLATE.format(service=package, package=package))
    mako = script_location / "script.py.mako"
    if not mako.exists():
        mako.write_text(SCRIPT_TEMPLATE)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/schema.db")
        await upgrade(db, script_location)
        cfg = alembic_config(script_location, db.url)

        def _run(connection: Connection) -> None:
            cfg.attributes["connection"] = connection
            command.revision(cfg, message=message, autogenerate=True)

        async with db.engine.begin() as conn:
            await conn.run_sync(_run)
        await db.dispose()


CORE_TABLES = (
    "events",
    "snapshots",
    "idempotency_keys",
    "projection_tracking",
    "projection_streams",
    "projection_generations",
    "relay_checkpoints",
)


def create_core_tables() -> None:
    """Revision body shared by every service's initial schema: the platform's tables (the
    event log, snapshots, idempotency, the relay's and the projections' bookkeeping), written
    once here so that a change to them is one helper and one revision per service, not four
    copies. Later changes to them come as helpers like `create_relay_offsets_and_leases`."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("stream_id", sa.String(length=64), nullable=False),
        sa.Column("stream_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("schema_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    )

    op.create_table(
        "snapshots",
        sa.Column("stream_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stream_id"),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    op.create_table(
        "projection_tracking",
        sa.Column("projection", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("projection", "topic", "partition"),
    )

    op.create_table(
        "projection_streams",
        sa.Column("projection", sa.String(length=100), nullable=False),
        sa.Column("stream_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("projection", "stream_id"),
    )

    op.create_table(
        "projection_generations",
        sa.Column("projection", sa.String(length=100), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("projection"),
    )

    op.create_table(
        "relay_checkpoints",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def drop_core_tables() -> None:
    from alembic import op

    for table in reversed(CORE_TABLES):
        op.drop_table(table)


def create_relay_offsets_and_leases() -> None:
    """Revision body shared by every service: what the relay published, who may publish, and
    the relay epoch a projection saw on each partition."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "relay_offsets",
        sa.Column("relay", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("relay", "topic", "partition"),
    )
    with op.batch_alter_table("projection_tracking") as batch:
        batch.add_column(sa.Column("epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def drop_relay_offsets_and_leases() -> None:
    from alembic import op

    op.drop_table("leases")
    with op.batch_alter_table("projection_tracking") as batch:
        batch.drop_column("epoch")
    op.drop_table("relay_offsets")
