"""Partner credentials as every service keeps them, and the API-key check on them.

Registration is the only writer of partners; it publishes the SHA-256 of each
API key it issues (never the key), and each service keeps its own table of key
hashes (`doorstep_contracts.directory.partner_projection` fills it) so a
partner's `X-API-Key` is checked locally.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, select

from doorstep_shared.auth import ApiKeyResolver, Principal, Role
from doorstep_shared.db import Database


def define_partner_table(metadata: MetaData) -> Table:
    return Table(
        "partner_credentials",
        metadata,
        Column("partner_id", String(36), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("kind", String(40), nullable=False),
        Column("area_code", String(32), nullable=False),
        Column("status", String(20), nullable=False),
        Column("api_key_hash", String(64), nullable=True, index=True),
    )


def partner_key_resolver(db: Database, table: Table) -> ApiKeyResolver:
    async def resolve(key_hash: str) -> Principal | None:
        async with db.session() as s:
            row = (
                await s.execute(select(table).where(table.c.api_key_hash == key_hash, table.c.status == "approved"))
            ).first()
        if row is None:
            return None
        return Principal(
            subject=f"partner:{row.partner_id}",
            role=Role.PARTNER,
            areas=(row.area_code,),
            name=row.name,
            partner_id=row.partner_id,
            partner_kind=row.kind,
        )

    return resolve
