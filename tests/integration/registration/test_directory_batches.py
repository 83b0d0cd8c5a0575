"""The directory projection gives the same read model whether a resident's events
arrive one per batch or all in one batch (where rows are loaded and written once)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from doorstep_shared.db import Database
from doorstep_shared.domain import new_id
from doorstep_shared.eventstore import StoredEvent
from doorstep_shared.messaging import encode_data, event_headers
from doorstep_shared.migrations import upgrade
from doorstep_shared.projections import ProjectionRunner
from registration.bootstrap import build_definition
from registration.models import core
from registration.projections import directory
from registration.settings import Settings
from sqlalchemy import text

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclasses.dataclass
class Record:
    """What aiokafka hands a consumer, as far as a projection reads it."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def registered(rid: str, tags: list[str], skills: list[str]) -> dict[str, Any]:
    return {
        "resident_id": rid,
        "community_code": "330102001001",
        "grid_code": "330102001001001",
        "building": "3",
        "unit": "1-101",
        "household_id": None,
        "hukou": "local",
        "sex": "female",
        "birth_year": 1980,
        "employment_status": "unemployed",
        "tags": tags,
        "skills": skills,
        "availability": [],
        "job_preferences": {},
        "consent": {"job_matching": True},
        "pii": {"name_enc": "v1:n", "id_number_enc": "v1:i", "mobile_enc": "v1:m"},
    }


def history() -> list[tuple[str, str, dict[str, Any]]]:
    a, b, c = new_id(), new_id(), new_id()
    return [
        (a, "ResidentRegistered", registered(a, ["stay_at_home_parent"], ["sewing"])),
        (b, "ResidentRegistered", registered(b, [], ["cooking"])),
        (a, "ResidentSkillsUpdated", {"resident_id": a, "skills": ["sewing", "weaving"]}),
        (a, "ResidentVerifiedSkillAdded", {"resident_id": a, "skill": "chinese_knot", "certificate_no": "C-1"}),
        (a, "ResidentSkillsUpdated", {"resident_id": a, "skills": ["weaving"]}),
        (b, "ResidentTagsUpdated", {"resident_id": b, "tags": ["retired", "low_income"]}),
        (c, "ResidentRegistered", registered(c, ["disabled"], ["carving"])),
        (b, "ResidentEmploymentStatusChanged", {"resident_id": b, "employment_status": "employed"}),
        (c, "ResidentErased", {"resident_id": c}),
        (new_id(), "ResidentSkillsUpdated", {"resident_id": "unknown", "skills": ["x"]}),  # no such row: ignored
    ]


def records(events: list[tuple[str, str, dict[str, Any]]]) -> list[Record]:
    versions: dict[str, int] = {}
    out = []
    for offset, (stream, event_type, data) in enumerate(events):
        versions[stream] = versions.get(stream, 0) + 1
        stored = StoredEvent(
            position=offset + 1,
            event_id=new_id(),
            stream_id=stream,
            stream_type="resident",
            version=versions[stream],
            event_type=event_type,
            schema_version=1,
            data=data,
            meta={},
            recorded_at=T0 + timedelta(minutes=offset),
        )
        headers = [(k, v.encode()) for k, v in event_headers("registration", stored).items()]
        out.append(Record("registration.residents", 0, offset, stream.encode(), encode_data(data), headers))
    return out


async def read_model(db: Database) -> dict[str, Any]:
    async with db.session() as s:
        residents = (
            await s.execute(
                text(
                    "SELECT id, status, version, employment_status, tags, skills, verified_skills, name_enc "
                    "FROM residents ORDER BY id"
                )
            )
        ).all()
        tags = (await s.execute(text("SELECT resident_id, tag FROM resident_tags ORDER BY 1, 2"))).all()
        skills = (await s.execute(text("SELECT resident_id, skill FROM resident_skills ORDER BY 1, 2"))).all()
    return {
        "residents": [tuple(r) for r in residents],
        "tags": [tuple(r) for r in tags],
        "skills": [tuple(r) for r in skills],
    }


async def test_one_batch_equals_one_event_per_batch(database_url: str) -> None:
    settings = Settings(DATABASE_URL=database_url, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    db = Database(database_url)
    await upgrade(db, build_definition(settings).migrations_path)
    runner = ProjectionRunner(
        db=db,
        tables=core,
        projection=directory,
        broker_factory=lambda: None,
        service="registration",  # type: ignore[arg-type,return-value]
    )
    batch = records(history())
    try:
        for record in batch:
            assert await runner.apply_records([record]) == 1
        one_by_one = await read_model(db)

        await runner.reset()
        assert (await read_model(db))["residents"] == []
        assert await runner.apply_records(batch) == len(batch)
        together = await read_model(db)
        assert await runner.apply_records(batch) == 0  # redelivered: nothing applied twice
    finally:
        await db.dispose()

    assert together == one_by_one
    a, b, c = (rec.key.decode() for rec in batch[:2] + batch[6:7])
    by_id = {r[0]: r for r in together["residents"]}
    assert set(by_id) == {a, b, c}
    assert {s for rid, s in together["skills"] if rid == a} == {"weaving", "chinese_knot"}
    assert {t for rid, t in together["tags"] if rid == b} == {"retired", "low_income"}
    assert by_id[b][3] == "employed" and by_id[a][2] == 4
    assert by_id[c][1] == "erased" and by_id[c][7] is None
    assert not [row for row in together["tags"] + together["skills"] if row[0] == c]
