"""Read models of registration, fed from Kafka, and its reactions to jobs' events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from doorstep_shared.db import insert_rows, upsert
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope
from doorstep_shared.partners import partner_projection
from doorstep_shared.projections import Projection
from doorstep_shared.rowbuffer import CHUNK, RowBuffer
from doorstep_shared.uow import UnitOfWork
from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from registration import handlers
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
    ["registration.areas", "registration.residents", "registration.partners", "registration.staff"],
    tables=[AreaRow, ResidentTag, ResidentSkill, ResidentRow, PartnerRow, StaffRow],
)


@directory.on("AreaCreated")
async def area_created(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    row = {
        "code": d["code"],
        "name": d["name"],
        "level": d["level"],
        "parent_code": d["parent_code"],
    }
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
    ids = [e.subject for e in envelopes if e.event_type.startswith("Resident") and e.event_type != "ResidentRegistered"]
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


@directory.on("ResidentRegistered")
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
        "status": "active",
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


@directory.on("ResidentProfileUpdated")
async def profile_updated(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    values = {k: d[k] for k in ("building", "unit", "household_id", "hukou", "job_preferences") if d.get(k) is not None}
    values.update({k: v for k, v in (d.get("pii") or {}).items() if k in ("name_enc", "id_number_enc", "mobile_enc")})
    await _touch(session, env, **values)


@directory.on("ResidentSkillsUpdated")
async def skills_updated(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, skills=env.data["skills"])


@directory.on("ResidentVerifiedSkillAdded")
async def verified_skill(session: AsyncSession, env: Envelope) -> None:
    row = await _rows(session).get(session, env.subject)
    if row is not None:
        await _touch(session, env, verified_skills=sorted(set(row["verified_skills"]) | {env.data["skill"]}))


@directory.on("ResidentAvailabilityUpdated")
async def availability_updated(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, availability=env.data["availability"])


@directory.on("ResidentTagsUpdated")
async def tags_updated(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, tags=env.data["tags"])


@directory.on("ResidentConsentChanged")
async def consent_changed(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, consent=env.data["consent"])


@directory.on("ResidentEmploymentStatusChanged")
async def employment_changed(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, employment_status=env.data["employment_status"])


@directory.on("ResidentMovedWithinCommunity")
async def moved_within(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    await _touch(session, env, grid_code=d["grid_code"], building=d["building"], unit=d["unit"])


@directory.on("ResidentTransferred")
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


@directory.on("ResidentMovedOut")
async def moved_out(session: AsyncSession, env: Envelope) -> None:
    await _touch(session, env, status="moved_out")


@directory.on("ResidentErased")
async def erased(session: AsyncSession, env: Envelope) -> None:
    """Drop everything personal or derived; keep only the pseudonymous id and area for counts."""
    await _touch(
        session,
        env,
        status="erased",
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


@directory.on("PartnerRegistered")
async def partner_registered(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    row = {
        "id": d["partner_id"],
        "name": d["name"],
        "kind": d["kind"],
        "credit_code": d["credit_code"],
        "area_code": d["area_code"],
        "status": "pending",
        "registered_at": env.time,
    }
    await upsert(session, PartnerRow, [row], ["id"])


@directory.on("PartnerApproved", "PartnerSuspended")
async def partner_status(session: AsyncSession, env: Envelope) -> None:
    status = "approved" if env.event_type == "PartnerApproved" else "suspended"
    await session.execute(update(PartnerRow).where(col(PartnerRow.id) == env.subject).values(status=status))


@directory.on("StaffCreated")
async def staff_created(session: AsyncSession, env: Envelope) -> None:
    d = env.data
    row = {"id": d["staff_id"], "username": d["username"], "role": d["role"], "areas": d["areas"]}
    await upsert(session, StaffRow, [row], ["id"])


partners = partner_projection(partner_credentials)


def reactions(store: EventStore) -> Projection:
    """Jobs' facts that change a resident: a hire, a completed course."""
    projection = Projection("jobs-reactions", ["jobs.applications", "jobs.enrolments"])

    def uow_for(session: AsyncSession, env: Envelope) -> UnitOfWork:
        return UnitOfWork(session, store, {"correlation_id": env.correlation_id, "causation_id": env.event_id})

    @projection.on("ApplicationHired")
    async def hired(session: AsyncSession, env: Envelope) -> None:
        uow = uow_for(session, env)
        await handlers.record_hire(uow, env.data["resident_id"], env.data["job_id"])
        await uow.flush()

    @projection.on("EnrolmentCompleted")
    async def completed(session: AsyncSession, env: Envelope) -> None:
        uow = uow_for(session, env)
        await handlers.record_verified_skill(
            uow, env.data["resident_id"], env.data["skill"], env.data.get("certificate_no")
        )
        await uow.flush()

    return projection
