"""relay offsets and leases

Revision ID: a929980d66fa
Revises: 72f2f3d4ced8
Create Date: 2026-12-02 08:10:00.000000
"""

from collections.abc import Sequence

from doorstep_shared.migrations import create_relay_offsets_and_leases, drop_relay_offsets_and_leases

revision: str = "a929980d66fa"
down_revision: str | None = "72f2f3d4ced8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_offsets_and_leases()


def downgrade() -> None:
    drop_relay_offsets_and_leases()
