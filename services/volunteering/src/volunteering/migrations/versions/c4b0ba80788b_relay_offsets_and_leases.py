"""relay offsets and leases

Revision ID: c4b0ba80788b
Revises: b9f0f24724af
Create Date: 2026-12-02 08:10:00.000000
"""

from collections.abc import Sequence

from doorstep_shared.migrations import create_relay_offsets_and_leases, drop_relay_offsets_and_leases

revision: str = "c4b0ba80788b"
down_revision: str | None = "b9f0f24724af"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_offsets_and_leases()


def downgrade() -> None:
    drop_relay_offsets_and_leases()
