"""relay offsets and leases

Revision ID: 4c81e82a9692
Revises: dc038cb2b32e
Create Date: 2026-12-02 08:10:00.000000
"""

from collections.abc import Sequence

from doorstep_shared.migrations import create_relay_offsets_and_leases, drop_relay_offsets_and_leases

revision: str = "4c81e82a9692"
down_revision: str | None = "dc038cb2b32e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_offsets_and_leases()


def downgrade() -> None:
    drop_relay_offsets_and_leases()
