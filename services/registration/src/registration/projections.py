"""Registration's read models, fed from its own topics: the directory (areas, residents,
partners, staff) that its queries read, and the partner credentials that API keys are checked against.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from doorstep_contracts.directory import partner_projection
from doorstep_contracts.registration import (
    SERVICE,
    TOPICS,
    AreaCreated,
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
    StaffCreated,
    StaffDisabled,
    StaffEnabled,
)
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection
from doorstep_shared.rowbuffer import CHUNK, RowBuffer
from doorstep_shared.writes import insert_rows, upsert
from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from registration.domain.enums import PartnerStatus, ResidentStatus, StaffStatus
from registration.models import (
    RESIDENTS,
    AreaRow,
    PartnerRow,
    ResidentRow,
    ResidentSkill,
    ResidentTag,
    StaffRow,
    partner_credentials,
)

DIRECTORY = "directory"

directory = Projection(
    DIRECTORY,
    [f"{SERVICE}.{aggregate}" for aggregate in TOPICS],
    tables=[AreaRow, ResidentTag, ResidentSkill, ResidentRow, PartnerRow, StaffRow],
    key_lookups_only=True,  # rows by id, tags and skills by their key's first column
)


@directory.on(AreaCreated)
async def area_created(session: AsyncSession, env: Envelope) -> None:
    e = env.event(AreaCreated)
    row = {"code": e.code, "name": e.name, "level": e.level, "parent_code": e.parent_code}
    await upsert(session, AreaRow, [row], ["code"])


TAGS = ResidentTag.__table__  # type: ignore[attr-defined]
SKILLS = ResidentSkill.__table__  # type: ignore[attr-defined]
ROWS = "registration.resident_rows"
# built once: a batch only binds the residents it rewrites
DELETE_TAGS = TAGS.delete().where(TAGS.c.resident_id.in_(bindparam("ids", expanding=True)))
DELETE_SKILLS = SKILLS.delete().where(SKILLS.c.resident_id.in_(bindparam("ids", expanding=True)))


def _rows(session: AsyncSession) -> RowBuffer:
    buffer: RowBuffer = session.info[ROWS]
    return buffer


@directory.before_batch
async def load_residents(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Load the residents a batch changes in one query; they are written back after it."""
    buffer = RowBuffer(RESIDENTS, "id")
    session.info[ROWS] = buffer
    new = ResidentRegistered.type_name()
    ids = [e.subject for e in envelopes if e.event_type.startswith("Resident") and e.event_type != new]
    await buffer.prefetch(session, ids)


@directory.after_batch
async def write_residents(session: AsyncSession) -> None:
    """Write the changed residents, and rederive their tag and skill rows from them."""
    buffer: RowBuffer = session.info.pop(ROWS)
    rows = await buffer.flush(session)
    stored = [r["id"] for r in rows if buffer.stored(r["id"])]  # new residents have no tag rows yet
    for i in range(0, len(stored), CHUNK):
        chunk = stored[i : i + CHUNK]
        await session.execute(DELETE_TAGS, {"ids": chunk})
        await session.execute(DELETE_SKILLS, {"ids": chunk})
    tags = [{"resident_id": r["id"], "tag": t} for r in rows for t in sorted(set(r["tags"]))]
    skills = [
        {"resident_id": r["id"], "skill": k} for r in rows for k in sorted(set(r["skills"]) | set(r["verified_skills"]))
    ]
    await insert_rows(session, TAGS, tags)
    await insert_rows(session, SKILLS, skills)


async def _touch(session: AsyncSession, env: Envelope, **values: Any) -> dict[str, Any] | None:
    return await _rows(session).change(session, env.subject, version=env.sequence, updated_at=env.time, **values)


@directory.on(ResidentRegistered)
async def resident_registered(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    pii = d.get("pii", {})
    row = {
        "id": d["resident_id"],
        "community_code": d["community_code"],
        "grid_code": d["grid_code"],
        "building": d["building"],
        "unit": d["unit"],
        "household_id": d.get("household_id"),
        "hukou": d["hukou"],
        "sex": d["sex"],
        "birth_year": d["birth_year"],
        "employment_status": d["employment_status"],
        "status": ResidentStatus.ACTIVE,
        "tags": d["tags"],
        "skills": d["skills"],
        "verified_skills": [],
        "availability": d["availability"],
        "job_preferences": d["job_preferences"],
        "consent": d["consent"],
        "name_enc": pii.get("name_enc"),
        "id_number_enc": pii.get("id_number_enc"),
        "mobile_enc": pii.get("mobile_enc"),
        "version": env.sequence,
        "registered_at": env.time,
        "updated_at": env.time,
    }
    _rows(session).put(row)


@directory.on(ResidentProfileUpdated)
async def profile_updated(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    values = {k: d[k] for k in ("building", "unit", "household_id", "hukou", "job_preferences") if d.get(k) is not None}
    values.update({k: v for k, v in (d.get("pii") or {}).items() if k in ("name_enc", "id_number_enc", "mobile_enc")})
    await _touch(session, env, **values)


@directory.on(ResidentSkillsUpdated)
async def skills_updated(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, skills=env.data["skills"])


@directory.on(ResidentVerifiedSkillAdded)
async def verified_skill(session: AsyncSession, env: Envelope) -> None:
    row = await _rows(session).get(session, env.subject)
    if row is not None:
        await _touch(session, env, verified_skills=sorted(set(row["verified_skills"]) | {env.data["skill"]}))


@directory.on(ResidentAvailabilityUpdated)
async def availability_updated(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, availability=env.data["availability"])


@directory.on(ResidentTagsUpdated)
async def tags_updated(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, tags=env.data["tags"])


@directory.on(ResidentConsentChanged)
async def consent_changed(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, consent=env.data["consent"])


@directory.on(ResidentEmploymentStatusChanged)
async def employment_changed(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, employment_status=env.data["employment_status"])


@directory.on(ResidentMovedWithinCommunity)
async def moved_within(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _touch(session, env, grid_code=d["grid_code"], building=d["building"], unit=d["unit"])


@directory.on(ResidentTransferred)
async def transferred(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _touch(
        session,
        env,
        community_code=d["community_code"],
        grid_code=d["grid_code"],
        building=d["building"],
        unit=d["unit"],
    )


@directory.on(ResidentMovedOut)
async def moved_out(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, status=ResidentStatus.MOVED_OUT)


@directory.on(ResidentErased)
async def erased(session: AsyncSession, env: Envelope) -> None:
    """Drop everything personal or derived; keep only the pseudonymous id and area for counts."""
    await _touch(
        session,
        env,
        status=ResidentStatus.ERASED,
        name_enc=None,
        id_number_enc=None,
        mobile_enc=None,
        building="",
        unit="",
        household_id=None,
        sex=None,
        birth_year=None,
        tags=[],
        skills=[],
        verified_skills=[],
        availability=[],
        job_preferences={},
        consent={},
    )


@directory.on(PartnerRegistered)
async def partner_registered(session: AsyncSession, env: Envelope) -> None:
    e = env.event(PartnerRegistered)
    row = {
        "id": e.partner_id,
        "name": e.name,
        "kind": e.kind,
        "credit_code": e.credit_code,
        "area_code": e.area_code,
        "status": PartnerStatus.PENDING,
        "registered_at": env.time,
    }
    await upsert(session, PartnerRow, [row], ["id"])


@directory.on(PartnerApproved, PartnerSuspended)
async def partner_status(session: AsyncSession, env: Envelope) -> None:
    approved = env.event_type == PartnerApproved.type_name()
    status = PartnerStatus.APPROVED if approved else PartnerStatus.SUSPENDED
    await session.execute(update(PartnerRow).where(col(PartnerRow.id) == env.subject).values(status=status))


@directory.on(StaffCreated)
async def staff_created(session: AsyncSession, env: Envelope) -> None:
    e = env.event(StaffCreated)
    row = {"id": e.staff_id, "username": e.username, "role": e.role, "areas": e.areas, "status": StaffStatus.ACTIVE}
    await upsert(session, StaffRow, [row], ["id"])


@directory.on(StaffDisabled, StaffEnabled)
async def staff_status(session: AsyncSession, env: Envelope) -> None:
    disabled = env.event_type == StaffDisabled.type_name()
    status = StaffStatus.DISABLED if disabled else StaffStatus.ACTIVE
    await session.execute(update(StaffRow).where(col(StaffRow.id) == env.subject).values(status=status))


partners = partner_projection(partner_credentials)
