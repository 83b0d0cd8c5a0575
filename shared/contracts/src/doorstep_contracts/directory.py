"""Registration's directory as other services keep a copy of it: residents and partners.

Jobs matches residents to work, grid reports schedules visits by their tags,
volunteering checks who may sign up: each keeps the few resident fields it needs,
in its own table, fed by `registration.residents`. `ResidentCopy` is that copy,
written once: it says which of registration's facts change which field, so a
service only names the fields it keeps (and their columns), what to do after a
row changed, and how to forget an erased resident. Partner credentials are copied
the same way by every service (`partner_projection`), so each checks an API key
locally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.writes import upsert
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from doorstep_contracts.registration import (
    PartnerApiKeyRotated,
    PartnerApproved,
    PartnerRegistered,
    PartnerSuspended,
    ResidentAvailabilityUpdated,
    ResidentConsentChanged,
    ResidentEmploymentStatusChanged,
    ResidentErased,
    ResidentMovedOut,
    ResidentMovedWithinCommunity,
    ResidentProfileUpdated,
    ResidentRegistered,
    ResidentSkillsUpdated,
    ResidentTagsUpdated,
    ResidentTransferred,
    ResidentVerifiedSkillAdded,
)

RESIDENTS_TOPIC = "registration.residents"
PARTNERS_TOPIC = "registration.partners"

# the fields a copy may keep, and what each means
RESIDENT_FIELDS = frozenset(
    {
        "resident_id",
        "community_code",
        "grid_code",
        "building",
        "unit",
        "household_id",
        "hukou",
        "sex",
        "birth_year",
        "tags",
        "skills",
        "verified_skills",  # skills certified by a completed course
        "availability",
        "job_preferences",
        "employment_status",
        "consent_matching",  # consent to employment matching
        "share_with_partners",  # consent to sharing with partners
        "status",  # active, moved_out
        "registered_at",
    }
)

Row = dict[str, Any]
AfterChange = Callable[[AsyncSession, Row], Awaitable[None]]
OnErased = Callable[[AsyncSession, str], Awaitable[None]]


def registered_fields(e: ResidentRegistered, env: Envelope) -> Row:
    """Every field a copy may keep, as a newly registered resident has them."""
    return {
        "resident_id": e.resident_id,
        "community_code": e.community_code,
        "grid_code": e.grid_code,
        "building": e.building,
        "unit": e.unit,
        "household_id": e.household_id,
        "hukou": e.hukou,
        "sex": e.sex,
        "birth_year": e.birth_year,
        "tags": list(e.tags),
        "skills": list(e.skills),
        "verified_skills": [],
        "availability": list(e.availability),
        "job_preferences": dict(e.job_preferences),
        "employment_status": e.employment_status,
        "consent_matching": bool(e.consent.get("employment_matching")),
        "share_with_partners": bool(e.consent.get("share_with_partners")),
        "status": "active",
        "registered_at": env.time,
    }


class ResidentCopy:
    """A service's table of the residents it needs, kept current from registration's events.

    `fields` maps each kept field (of `RESIDENT_FIELDS`) to its column (default: the same
    name); `resident_id` identifies a row and is always kept. Mapping `verified_skills`
    to the column of `skills` adds certified skills to the resident's own list. `after_change` runs after a
    row was written (an index to update, a clock to restart); `on_erased` replaces the
    default forgetting (deleting the row) when a resident's data is erased.
    """

    def __init__(
        self,
        table: Table,
        fields: Mapping[str, str] | list[str],
        *,
        after_change: AfterChange | None = None,
        on_erased: OnErased | None = None,
    ) -> None:
        columns = dict(fields) if isinstance(fields, Mapping) else {f: f for f in fields}
        columns.setdefault("resident_id", "resident_id")
        unknown = set(columns) - RESIDENT_FIELDS
        if unknown:
            raise ValueError(f"a resident copy cannot keep {sorted(unknown)}: registration publishes no such field")
        missing = set(columns.values()) - set(table.c.keys())
        if missing:
            raise ValueError(f"{table.name} has no columns {sorted(missing)}")
        self.table = table
        self.columns = columns
        self.key_column = columns["resident_id"]
        # one column for both: certified skills are added to the resident's list of skills
        self._joined_skills = "verified_skills" in columns and columns.get("skills") == columns["verified_skills"]
        self.after_change = after_change
        self.on_erased = on_erased

    def attach(self, projection: Projection) -> None:
        """Register the copy's handlers on `projection` (which must read registration.residents)."""
        if RESIDENTS_TOPIC not in projection.topics:
            raise ValueError(f"projection {projection.name} does not read {RESIDENTS_TOPIC}")
        on = projection.on

        @on(ResidentRegistered)
        async def registered(session: AsyncSession, env: Envelope) -> None:
            await self._write(session, registered_fields(env.event(ResidentRegistered), env))

        @on(ResidentProfileUpdated)
        async def profile(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentProfileUpdated)
            given: Row = {"building": e.building, "unit": e.unit, "household_id": e.household_id, "hukou": e.hukou}
            given["job_preferences"] = e.job_preferences
            await self._change(session, e.resident_id, {k: v for k, v in given.items() if v is not None})

        @on(ResidentSkillsUpdated)
        async def skills(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentSkillsUpdated)
            await self._change(session, e.resident_id, {"skills": list(e.skills)})

        @on(ResidentVerifiedSkillAdded)
        async def verified(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentVerifiedSkillAdded)
            await self._change(session, e.resident_id, {}, add_verified=e.skill)

        @on(ResidentAvailabilityUpdated)
        async def availability(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentAvailabilityUpdated)
            await self._change(session, e.resident_id, {"availability": list(e.availability)})

        @on(ResidentTagsUpdated)
        async def tags(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentTagsUpdated)
            await self._change(session, e.resident_id, {"tags": list(e.tags)})

        @on(ResidentConsentChanged)
        async def consent(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentConsentChanged)
            values = {
                "consent_matching": bool(e.consent.get("employment_matching")),
                "share_with_partners": bool(e.consent.get("share_with_partners")),
            }
            await self._change(session, e.resident_id, values)

        @on(ResidentEmploymentStatusChanged)
        async def employment(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentEmploymentStatusChanged)
            await self._change(session, e.resident_id, {"employment_status": e.employment_status})

        @on(ResidentMovedWithinCommunity)
        async def moved(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentMovedWithinCommunity)
            await self._change(
                session, e.resident_id, {"grid_code": e.grid_code, "building": e.building, "unit": e.unit}
            )

        @on(ResidentTransferred)
        async def transferred(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentTransferred)
            values = {
                "community_code": e.community_code,
                "grid_code": e.grid_code,
                "building": e.building,
                "unit": e.unit,
            }
            await self._change(session, e.resident_id, values)

        @on(ResidentMovedOut)
        async def moved_out(session: AsyncSession, env: Envelope) -> None:
            e = env.event(ResidentMovedOut)
            await self._change(session, e.resident_id, {"status": "moved_out"})

        @on(ResidentErased)
        async def erased(session: AsyncSession, env: Envelope) -> None:
            resident_id = env.event(ResidentErased).resident_id
            if self.on_erased is not None:
                await self.on_erased(session, resident_id)
            else:
                await session.execute(delete(self.table).where(self.table.c[self.key_column] == resident_id))

    # rows -------------------------------------------------------------------------------

    def _columns_of(self, values: Row) -> Row:
        out = {column: values[field] for field, column in self.columns.items() if field in values}
        if self._joined_skills and "skills" in values:
            out[self.columns["skills"]] = values["skills"]  # a registered resident's own skills, not []
        return out

    async def _write(self, session: AsyncSession, values: Row) -> None:
        row = self._columns_of(values)
        await upsert(session, self.table, [row], [self.key_column])
        if self.after_change is not None:
            await self.after_change(session, row)

    async def _change(
        self, session: AsyncSession, resident_id: str, values: Row, add_verified: str | None = None
    ) -> None:
        """Change the kept fields of a resident the copy holds (registration's later facts
        about one it never saw change nothing)."""
        t = self.table
        found = (await session.execute(select(t).where(t.c[self.key_column] == resident_id))).mappings().first()
        if found is None:
            return
        row = dict(found)
        changes = self._columns_of(values)
        verified = self.columns.get("verified_skills")
        if add_verified is not None and verified is not None:
            have = list(row[verified] or [])
            if add_verified in have:
                return
            changes[verified] = [*have, add_verified] if self._joined_skills else sorted({*have, add_verified})
        if not changes:
            return
        row.update(changes)
        await upsert(session, t, [row], [self.key_column])
        if self.after_change is not None:
            await self.after_change(session, row)


def partner_projection(table: Table, name: str = "partners") -> Projection:
    """Partner credentials as every service keeps them (`doorstep_shared.partners.define_partner_table`):
    registration publishes the SHA-256 of each API key it issues, never the key."""
    projection = Projection(name, [PARTNERS_TOPIC], tables=[table])

    @projection.on(PartnerRegistered)
    async def registered(session: AsyncSession, env: Envelope) -> None:
        e = env.event(PartnerRegistered)
        row = {
            "partner_id": e.partner_id,
            "name": e.name,
            "kind": e.kind,
            "area_code": e.area_code,
            "status": "pending",
            "api_key_hash": None,
        }
        await upsert(session, table, [row], ["partner_id"])

    @projection.on(PartnerApproved, PartnerApiKeyRotated)
    async def keyed(session: AsyncSession, env: Envelope) -> None:
        e = env.event(PartnerApproved)  # a rotation carries the same two fields
        await session.execute(
            table.update()
            .where(table.c.partner_id == e.partner_id)
            .values(status="approved", api_key_hash=e.api_key_hash)
        )

    @projection.on(PartnerSuspended)
    async def suspended(session: AsyncSession, env: Envelope) -> None:
        e = env.event(PartnerSuspended)
        await session.execute(table.update().where(table.c.partner_id == e.partner_id).values(status="suspended"))

    return projection
