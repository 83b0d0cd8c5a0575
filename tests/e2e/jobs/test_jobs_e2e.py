"""The jobs service end to end: real broker, each database, one app per backend.

The tests run in order against one running app and share what they create
(`world`): postings → applications → matching → piecework → training → fairs
→ reactions → erase → totals.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from jobs.bootstrap import create_app
from jobs.settings import Settings
from sqlalchemy import func, select

from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.e2e.jobs.support import Upstream, create_topics, read_events
from tests.helpers import eventually, running_app, token_for

COMMUNITY = "330102001001"
GRID = "330102001001001"
OTHER_GRID = "330102001001002"
ELSEWHERE = "330102002001"


@dataclass
class World:
    client: httpx.AsyncClient
    upstream: Upstream
    app: Any
    prefix: str
    bootstrap: str
    keys: tuple[Path, Path]
    ids: dict[str, str] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)

    def staff(
        self,
        role: str = "community_staff",
        areas: tuple[str, ...] = (COMMUNITY,),
        sub: str = "cs-1",
    ) -> dict[str, str]:
        return token_for(self.keys, role, areas, subject=sub)

    def grid_worker(self) -> dict[str, str]:
        return token_for(self.keys, "grid_worker", [GRID], subject="gw-1")

    def resident(self, rid: str) -> dict[str, str]:
        return token_for(self.keys, "resident", [], subject=f"res-{rid}", resident_id=rid)

    def partner(self, name: str) -> dict[str, str]:
        return {"X-API-Key": self.api_keys[name]}

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    jwt_keys: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("jobs")
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/jobs.db"
    else:
        pg_name, url = await _create_pg_database()
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(kafka_bootstrap, prefix)
    settings = Settings(
        DATABASE_URL=url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DOORSTEP_TOPIC_PREFIX=prefix,
        JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
        DOORSTEP_VAR_DIR=str(tmp),
        KAFKA_TOPIC_PARTITIONS=1,
        JOBS_EXPIRY_SWEEP_SECONDS=0.3,
        RELAY_POLL_INTERVAL=0.05,
    )
    app = create_app(settings)
    try:
        async with running_app(app) as client, Upstream(kafka_bootstrap, prefix) as upstream:
            w = World(client, upstream, app, prefix, kafka_bootstrap, jwt_keys)
            for name, kind in (
                ("employer", "employer"),
                ("rival", "employer"),
                ("processor", "piecework_processor"),
                ("school", "training_school"),
            ):
                pid = str(uuid.uuid4())
                w.ids[f"partner_{name}"] = pid
                w.api_keys[name] = await upstream.partner(pid, f"{name} ltd", kind, COMMUNITY)
            for rid in ("r1", "r2", "r3", "r4", "r5"):
                w.ids[rid] = str(uuid.uuid4())
            await upstream.resident(w.ids["r1"], GRID)
            await upstream.resident(
                w.ids["r2"],
                GRID,
                consent={"employment_matching": False, "share_with_partners": False},
            )
            await upstream.resident(
                w.ids["r3"],
                GRID,
                tags=["disabled", "low_income"],
                skills=["sewing"],
                job_preferences={"types": ["public_welfare"]},
            )
            await upstream.resident(w.ids["r4"], OTHER_GRID, skills=["cleaning", "cooking"])
            await upstream.resident(w.ids["r5"], GRID, skills=["cooking"])
            index = app.state.runtime.deps.match_index
            await eventually(lambda: len(index.residents) == 5, timeout=20)
            await eventually(lambda: _key_works(client, w.api_keys["school"]), timeout=20)
            yield w
    finally:
        if pg_name:
            await _drop_pg_database(pg_name)


async def _key_works(client: httpx.AsyncClient, key: str) -> bool:
    return (await client.get("/courses", headers={"X-API-Key": key})).status_code == 200


def _problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def _job(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Supermarket cleaner",
        "description": "Morning shelf and floor cleaning",
        "employment_type": "part_time",
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "job_location": "Building 3 supermarket",
        "base_salary": {"amount_fen": 2500, "unit": "hour"},
        "work_hours": "weekday mornings",
        "schedule": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "12:00"}],
        "skills": ["cleaning"],
        "total_job_openings": 1,
        "valid_through": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "publish": True,
    }
    body.update(overrides)
    return body


async def _events_of(w: World, event_type: str, **data: str) -> int:
    core = w.runtime.definition.core
    async with w.runtime.db.session() as s:
        stmt = select(func.count()).select_from(core.events).where(core.events.c.event_type == event_type)
        for k, v in data.items():
            stmt = stmt.where(core.events.c.data[k].as_string() == v)
        return int((await s.execute(stmt)).scalar() or 0)


# postings ----------------------------------------------------------------------------------------


async def test_postings_by_partner_and_staff(world: World) -> None:
    w = world
    r = await w.client.post("/jobs", json=_job(), headers=w.partner("employer"))
    assert r.status_code == 201, r.text
    w.ids["job"] = r.json()["id"]
    r = await w.client.post(
        "/jobs",
        json=_job(
            title="Community canteen helper",
            skills=["cooking"],
            employment_type="public_welfare",
            hiring_organization="Community",
            total_job_openings=2,
            publish=False,
        ),
        headers=w.staff(),
    )
    assert r.status_code == 201, r.text
    w.ids["welfare"] = r.json()["id"]
    r = await w.client.post(f"/jobs/{w.ids['welfare']}/publish", headers=w.staff())
    assert r.status_code == 200, r.text
    r = await w.client.post(f"/jobs/{w.ids['welfare']}/publish", headers=w.staff())
    _problem(r, 409, "status")
    r = await w.client.get("/jobs", params={"area": COMMUNITY}, headers=w.staff())
    assert r.status_code == 200


async def test_posting_bad_input_and_permissions(world: World) -> None:
    w = world
    _problem(
        await w.client.post(
            "/jobs",
            json=_job(base_salary={"amount_fen": 0, "unit": "hour"}),
            headers=w.partner("employer"),
        ),
        422,
        "base_salary.amount_fen",
    )
    bad_schedule = [{"days": ["mon"], "start": "12:00", "end": "09:00"}]
    _problem(
        await w.client.post("/jobs", json=_job(schedule=bad_schedule), headers=w.partner("employer")),
        422,
        "schedule.0.end",
    )
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    _problem(
        await w.client.post("/jobs", json=_job(valid_through=past), headers=w.partner("employer")),
        422,
        "valid_through",
    )
    _problem(await w.client.post("/jobs", json=_job()), 401)
    _problem(
        await w.client.post(f"/jobs/{w.ids['job']}/close", json={}, headers=w.partner("rival")),
        403,
        "job_id",
    )
    _problem(
        await w.client.post("/jobs", json=_job(hiring_organization="x"), headers=w.grid_worker()),
        403,
    )
    elsewhere = _job(community_code=ELSEWHERE, grid_code=None, hiring_organization="x")
    _problem(await w.client.post("/jobs", json=elsewhere, headers=w.staff()), 403, "community_code")
    _problem(await w.client.post("/jobs", json=_job(), headers=w.partner("school")), 403)


async def test_open_jobs_read_your_writes_and_idempotency(world: World) -> None:
    w = world
    headers = {**w.partner("employer"), "Idempotency-Key": "post-once"}
    body = _job(
        title="Courier station sorter",
        skills=[],
        total_job_openings=2,
        schedule=[{"days": ["sat", "sun"], "start": "08:00", "end": "12:00"}],
    )
    first = await w.client.post("/jobs", json=body, headers=headers)
    again = await w.client.post("/jobs", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    w.ids["sorter"] = first.json()["id"]
    r = await w.client.get("/jobs", params={"after": first.json()["position"]}, headers=w.staff())
    assert r.headers["X-Consistency"] == "current"
    titles = {j["title"] for j in r.json()}
    assert {"Supermarket cleaner", "Community canteen helper", "Courier station sorter"} <= titles
    mine = await w.client.get("/jobs", headers=w.partner("rival"))
    assert mine.json() == []


async def test_expiry_happens_by_itself(world: World) -> None:
    w = world
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    r = await w.client.post("/jobs", json=_job(title="Flash job", valid_through=soon), headers=w.partner("employer"))
    job_id = r.json()["id"]

    async def expired() -> bool:
        r = await w.client.get(f"/jobs/{job_id}", headers=w.staff())
        return r.status_code == 200 and r.json()["status"] == "expired"

    await eventually(expired, timeout=10)
    _problem(
        await w.client.post(
            f"/jobs/{job_id}/applications",
            json={"resident_id": w.ids["r1"]},
            headers=w.resident(w.ids["r1"]),
        ),
        409,
    )


# matching ---------------------------------------------------------------------------------------------


async def test_matching_both_directions_with_reasons(world: World) -> None:
    w = world
    index = w.runtime.deps.match_index
    await eventually(lambda: w.ids["job"] in index.jobs and w.ids["welfare"] in index.jobs)
    r = await w.client.get(f"/residents/{w.ids['r1']}/matches", headers=w.grid_worker())
    assert r.status_code == 200, r.text
    best = r.json()["matches"][0]
    assert best["job_id"] == w.ids["job"]
    factors = {x["factor"]: x for x in best["reasons"]}
    assert factors["skills"]["points"] == 40 and factors["distance"]["detail"] == "job is in the same grid"
    assert factors["hours"]["points"] == 20
    r = await w.client.get(f"/jobs/{w.ids['job']}/candidates", headers=w.partner("employer"))
    ids = [c["resident_id"] for c in r.json()["candidates"]]
    assert ids[0] == w.ids["r1"] and w.ids["r2"] not in ids  # r2 did not consent
    assert ids.index(w.ids["r4"]) > 0  # same skills, other grid: ranked below
    r = await w.client.get(f"/jobs/{w.ids['welfare']}/candidates", headers=w.staff())
    by_id = {c["resident_id"]: c for c in r.json()["candidates"]}
    assert any(x["factor"] == "priority" for x in by_id[w.ids["r3"]]["reasons"])
    _problem(await w.client.get(f"/jobs/{w.ids['job']}/candidates", headers=w.partner("rival")), 403)
    _problem(await w.client.get(f"/residents/{w.ids['r2']}/matches", headers=w.grid_worker()), 403)
    assert (await w.client.get(f"/residents/{w.ids['r2']}/matches", headers=w.resident(w.ids["r2"]))).status_code == 200


# applications --------------------------------------------------------------------------------------------


async def test_application_lifecycle_and_hire_published(world: World) -> None:
    w = world
    job = w.ids["job"]
    r = await w.client.post(
        f"/jobs/{job}/applications",
        json={"resident_id": w.ids["r1"]},
        headers=w.resident(w.ids["r1"]),
    )
    assert r.status_code == 201, r.text
    app_id = w.ids["app_r1"] = r.json()["id"]
    _problem(
        await w.client.post(
            f"/jobs/{job}/applications",
            json={"resident_id": w.ids["r1"]},
            headers=w.resident(w.ids["r1"]),
        ),
        409,
        "resident_id",
    )
    _problem(
        await w.client.post(f"/jobs/{job}/applications", json={"resident_id": w.ids["r2"]}, headers=w.grid_worker()),
        403,
        "resident_id",
    )
    _problem(
        await w.client.post(
            f"/jobs/{job}/applications",
            json={"resident_id": w.ids["r3"]},
            headers=w.resident(w.ids["r1"]),
        ),
        403,
        "resident_id",
    )
    r = await w.client.post(
        f"/jobs/{job}/applications",
        json={"resident_id": w.ids["r4"]},
        headers=token_for(w.keys, "grid_worker", [OTHER_GRID], subject="gw-2"),
    )
    assert r.status_code == 201
    w.ids["app_r4"] = r.json()["id"]
    _problem(
        await w.client.post(f"/applications/{app_id}/hire", headers=w.partner("employer")),
        409,
        "status",
    )
    _problem(
        await w.client.post(f"/applications/{app_id}/offer", json={}, headers=w.partner("employer")),
        409,
    )
    _problem(
        await w.client.post(f"/applications/{app_id}/shortlist", json={}, headers=w.partner("rival")),
        403,
    )
    for step in ("shortlist", "interview", "offer"):
        r = await w.client.post(f"/applications/{app_id}/{step}", json={}, headers=w.partner("employer"))
        assert r.status_code == 200, r.text
    r = await w.client.post(f"/applications/{app_id}/hire", headers=w.partner("employer"))
    assert r.status_code == 200 and r.json()["job_status"] == "filled"
    _problem(
        await w.client.post(f"/applications/{app_id}/withdraw", json={}, headers=w.resident(w.ids["r1"])),
        409,
    )
    hired = await read_events(w.bootstrap, f"{w.prefix}jobs.applications", "ApplicationHired")
    headers, data = hired[0]
    assert data == {
        "application_id": app_id,
        "job_id": job,
        "resident_id": w.ids["r1"],
        "partner_id": w.ids["partner_employer"],
        "community_code": COMMUNITY,
        "fair_id": None,
    }
    assert headers["ce_type"] == "doorstep.jobs.ApplicationHired" and headers["ce_subject"] == app_id
    _problem(
        await w.client.post(
            f"/jobs/{job}/applications",
            json={"resident_id": w.ids["r5"]},
            headers=w.resident(w.ids["r5"]),
        ),
        409,
        "status",
    )
    r = await w.client.get(
        f"/jobs/{job}/applications",
        params={"after": r.json()["position"]},
        headers=w.partner("employer"),
    )
    assert {a["status"] for a in r.json()} >= {"hired"}


# piecework ------------------------------------------------------------------------------------------------


async def test_piecework_exact_money_and_traceable_settlement(world: World) -> None:
    w = world
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    order = {
        "item": "artificial flower",
        "community_code": COMMUNITY,
        "quantity": 100,
        "rate_fen": 15,
        "deadline": deadline,
    }
    _problem(await w.client.post("/piecework/orders", json=order, headers=w.partner("employer")), 403)
    _problem(
        await w.client.post("/piecework/orders", json={**order, "rate_fen": 0}, headers=w.partner("processor")),
        422,
        "rate_fen",
    )
    r = await w.client.post("/piecework/orders", json=order, headers=w.partner("processor"))
    oid = w.ids["order"] = r.json()["id"]
    _problem(
        await w.client.post(
            f"/piecework/orders/{oid}/batches",
            json={"resident_id": w.ids["r1"], "quantity": 101},
            headers=w.partner("processor"),
        ),
        422,
        "quantity",
    )
    r = await w.client.post(
        f"/piecework/orders/{oid}/batches",
        json={"resident_id": w.ids["r1"], "quantity": 40},
        headers=w.partner("processor"),
    )
    batch = r.json()["batch_id"]
    r = await w.client.post(
        f"/piecework/orders/{oid}/deliveries",
        json={"batch_id": batch, "accepted": 30, "rejected": 5},
        headers=w.partner("processor"),
    )
    assert r.json()["amount_fen"] == 450
    _problem(
        await w.client.post(
            f"/piecework/orders/{oid}/deliveries",
            json={"batch_id": batch, "accepted": 6},
            headers=w.partner("processor"),
        ),
        422,
        "accepted",
    )
    r = await w.client.post(
        f"/piecework/orders/{oid}/deliveries",
        json={"batch_id": batch, "accepted": 3, "rejected": 0},
        headers=w.partner("processor"),
    )
    _problem(
        await w.client.post(
            f"/piecework/orders/{oid}/settlements",
            json={"resident_id": w.ids["r1"]},
            headers=w.partner("rival"),
        ),
        403,
    )
    r = await w.client.post(
        f"/piecework/orders/{oid}/settlements",
        json={"resident_id": w.ids["r1"]},
        headers=w.partner("processor"),
    )
    assert r.status_code == 201 and r.json()["amount_fen"] == 495 and len(r.json()["delivery_ids"]) == 2
    _problem(
        await w.client.post(
            f"/piecework/orders/{oid}/settlements",
            json={"resident_id": w.ids["r1"]},
            headers=w.partner("processor"),
        ),
        409,
        "resident_id",
    )
    paid = await read_events(w.bootstrap, f"{w.prefix}jobs.piecework", "PieceworkPayoutSettled")
    assert paid[0][1] == {
        "order_id": oid,
        "resident_id": w.ids["r1"],
        "amount_fen": 495,
        "pieces": 33,
    }
    after = {"after": r.json()["position"]}
    settlements = (await w.client.get(f"/piecework/orders/{oid}/settlements", params=after, headers=w.staff())).json()
    assert sum(d["amount_fen"] for d in settlements[0]["deliveries"]) == settlements[0]["amount_fen"] == 495
    progress = (await w.client.get(f"/piecework/orders/{oid}", headers=w.partner("processor"))).json()
    assert (
        progress["issued"],
        progress["accepted"],
        progress["rejected"],
        progress["paid_fen"],
    ) == (40, 33, 5, 495)
    per_resident = (await w.client.get(f"/piecework/orders/{oid}/residents", headers=w.staff())).json()
    assert per_resident == [
        {
            "resident_id": w.ids["r1"],
            "issued": 40,
            "accepted": 33,
            "rejected": 5,
            "earned_fen": 495,
            "paid_fen": 495,
            "owed_fen": 0,
        }
    ]


# training -------------------------------------------------------------------------------------------------------


def _course(capacity: int = 1) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    return {
        "title": "Chinese knot basics",
        "skill": "chinese_knot",
        "community_code": COMMUNITY,
        "place": "Workshop",
        "capacity": capacity,
        "subsidy_fen": 30000,
        "sessions": [
            {
                "starts_at": (start + timedelta(days=d)).isoformat(),
                "ends_at": (start + timedelta(days=d, hours=2)).isoformat(),
            }
            for d in range(2)
        ],
    }


async def test_training_waiting_list_attendance_and_completion(world: World) -> None:
    w = world
    bad = _course()
    bad["sessions"][0]["ends_at"] = bad["sessions"][0]["starts_at"]
    _problem(
        await w.client.post("/courses", json=bad, headers=w.partner("school")),
        422,
        "sessions.0.ends_at",
    )
    _problem(await w.client.post("/courses", json=_course(), headers=w.partner("employer")), 403)
    cid = (await w.client.post("/courses", json=_course(), headers=w.partner("school"))).json()["id"]
    r = await w.client.post(
        f"/courses/{cid}/enrolments",
        json={"resident_id": w.ids["r1"]},
        headers=w.resident(w.ids["r1"]),
    )
    assert r.json()["status"] == "enrolled"
    e1 = r.json()["id"]
    _problem(
        await w.client.post(
            f"/courses/{cid}/enrolments",
            json={"resident_id": w.ids["r3"], "waitlist": False},
            headers=w.grid_worker(),
        ),
        409,
        "waitlist",
    )
    r = await w.client.post(f"/courses/{cid}/enrolments", json={"resident_id": w.ids["r3"]}, headers=w.grid_worker())
    assert r.json()["status"] == "waitlisted"
    _problem(
        await w.client.post(
            f"/enrolments/{e1}/complete",
            json={"certificate_no": "C-1"},
            headers=w.partner("school"),
        ),
        409,
        "attendance",
    )
    _problem(
        await w.client.post(f"/enrolments/{e1}/attendance", json={"session_no": 3}, headers=w.partner("school")),
        422,
        "session_no",
    )
    for n in (1, 2):
        r = await w.client.post(f"/enrolments/{e1}/attendance", json={"session_no": n}, headers=w.partner("school"))
        assert r.status_code == 200, r.text
    r = await w.client.post(f"/enrolments/{e1}/complete", json={"certificate_no": "C-1"}, headers=w.partner("school"))
    assert r.json()["status"] == "completed"
    done = await read_events(w.bootstrap, f"{w.prefix}jobs.enrolments", "EnrolmentCompleted")
    assert done[0][1] == {
        "enrolment_id": e1,
        "course_id": cid,
        "resident_id": w.ids["r1"],
        "skill": "chinese_knot",
        "certificate_no": "C-1",
        "partner_id": w.ids["partner_school"],
    }
    roster = (
        await w.client.get(
            f"/courses/{cid}/roster",
            params={"after": r.json()["position"]},
            headers=w.partner("school"),
        )
    ).json()
    assert [e["status"] for e in roster] == ["completed", "waitlisted"]
    w.ids["course2"] = (await w.client.post("/courses", json=_course(), headers=w.partner("school"))).json()["id"]
    r = await w.client.post(
        f"/courses/{w.ids['course2']}/enrolments",
        json={"resident_id": w.ids["r4"]},
        headers=token_for(w.keys, "grid_worker", [OTHER_GRID], subject="gw-2"),
    )
    w.ids["enrol_r4"] = r.json()["id"]
    r = await w.client.post(
        f"/courses/{w.ids['course2']}/enrolments",
        json={"resident_id": w.ids["r3"]},
        headers=w.grid_worker(),
    )
    w.ids["enrol_r3"] = r.json()["id"]
    assert r.json()["status"] == "waitlisted"


# fairs ----------------------------------------------------------------------------------------------------------------


async def test_fairs_from_recurrence_rules_with_employers_signups_and_hires(world: World) -> None:
    w = world
    series = {
        "kind": "market_day",
        "title": "Market-day fair",
        "community_code": COMMUNITY,
        "place": "Square",
        "starts_on": "2030-01-01",
        "count": 3,
        "start": "09:00",
        "end": "12:00",
    }
    r = await w.client.post("/fairs/series", json=series, headers=w.staff())
    assert r.status_code == 201, r.text
    assert r.json()["dates"] == ["2030-01-20", "2030-02-20", "2030-03-20"]
    weekly = {**series, "kind": "special", "count": None, "until": "2030-01-16"}
    assert (await w.client.post("/fairs/series", json=weekly, headers=w.staff())).json()["dates"] == [
        "2030-01-02",
        "2030-01-09",
        "2030-01-16",
    ]
    _problem(
        await w.client.post("/fairs/series", json={**series, "rule": "FREQ=SOMETIMES"}, headers=w.staff()),
        422,
        "rule",
    )
    _problem(
        await w.client.post("/fairs/series", json={**series, "end": "08:00"}, headers=w.staff()),
        422,
        "end",
    )
    fair = r.json()["fair_ids"][0]
    r = await w.client.post(
        f"/fairs/{fair}/employers",
        json={"job_ids": [w.ids["sorter"]]},
        headers=w.partner("employer"),
    )
    assert r.status_code == 200, r.text
    _problem(await w.client.post(f"/fairs/{fair}/employers", json={}, headers=w.partner("employer")), 409)
    r = await w.client.post(
        f"/fairs/{fair}/signups", json={"resident_id": w.ids["r5"]}, headers=w.resident(w.ids["r5"])
    )
    assert r.status_code == 200
    r = await w.client.post(
        f"/jobs/{w.ids['sorter']}/applications",
        json={"resident_id": w.ids["r5"], "fair_id": fair},
        headers=w.resident(w.ids["r5"]),
    )
    app_id = w.ids["app_r5"] = r.json()["id"]
    for step in ("shortlist", "interview", "offer", "hire"):
        r = await w.client.post(f"/applications/{app_id}/{step}", json={}, headers=w.partner("employer"))
        assert r.status_code == 200, r.text

    async def counted() -> dict[str, Any] | None:
        r = await w.client.get(f"/fairs/{fair}", headers=w.staff())
        return r.json() if r.status_code == 200 and r.json()["hires"] == 1 else None

    got = await eventually(counted)
    assert got["employers"] == 1 and got["signups"] == 1
    assert got["employer_list"][0]["employer_name"] == "employer ltd"
    assert "signup_list" not in (await w.client.get(f"/fairs/{fair}", headers=w.partner("employer"))).json()


# reactions ------------------------------------------------------------------------------------------------------------


async def test_moved_out_withdraws_applications_and_cancels_enrolments_once(world: World) -> None:
    w = world
    r4 = w.ids["r4"]
    sent = await w.upstream.send(
        "registration",
        "residents",
        r4,
        "ResidentMovedOut",
        {"resident_id": r4, "reason": "moved away"},
    )

    async def withdrawn() -> bool:
        r = await w.client.get(f"/applications/{w.ids['app_r4']}", headers=w.partner("employer"))
        return r.json()["status"] == "withdrawn"

    await eventually(withdrawn)

    async def promoted() -> bool:
        r = await w.client.get(f"/enrolments/{w.ids['enrol_r3']}", headers=w.partner("school"))
        return r.json()["status"] == "enrolled"

    await eventually(promoted)
    # the same event again (a redelivery), and a later duplicate fact: nothing more happens
    await w.upstream.send(
        "registration",
        "residents",
        r4,
        "ResidentMovedOut",
        {"resident_id": r4, "reason": "x"},
        sequence=sent["sequence"],
        event_id=sent["event_id"],
    )
    await w.upstream.send("registration", "residents", r4, "ResidentMovedOut", {"resident_id": r4, "reason": "x"})
    runner = w.runtime.runners["reactions"]
    await eventually(lambda: _stream_at(runner, r4, sent["sequence"] + 1))
    assert await _events_of(w, "ApplicationWithdrawn", application_id=w.ids["app_r4"]) == 1
    assert await _events_of(w, "EnrolmentCancelled", enrolment_id=w.ids["enrol_r4"]) == 1
    _problem(
        await w.client.post(
            f"/jobs/{w.ids['welfare']}/applications",
            json={"resident_id": r4},
            headers=token_for(w.keys, "grid_worker", [OTHER_GRID], subject="gw-2"),
        ),
        409,
    )


async def _stream_at(runner: Any, resident_id: str, version: int) -> bool:
    return await runner.stream_version(f"registration:{resident_id}") >= version


async def test_wants_job_finding_opens_one_lead(world: World) -> None:
    w = world
    visit = str(uuid.uuid4())
    finding = {
        "visit_id": visit,
        "resident_id": w.ids["r3"],
        "finding": "wants_job",
        "grid_code": GRID,
        "grid_worker_id": "gw-1",
        "note": "looking for sewing work",
    }
    await w.upstream.send("grid_reports", "visits", visit, "VisitFindingRecorded", finding)
    await w.upstream.send("grid_reports", "visits", visit, "VisitFindingRecorded", finding)  # a repeat
    other = str(uuid.uuid4())
    await w.upstream.send(
        "grid_reports",
        "visits",
        other,
        "VisitFindingRecorded",
        {**finding, "visit_id": other, "finding": "elderly_subsidy_check"},
    )

    async def leads() -> list[dict[str, Any]]:
        return (await w.client.get("/leads", headers=w.grid_worker())).json()

    found = await eventually(leads)
    await eventually(lambda: _stream_at_key(w.runtime.runners["reactions"], f"grid_reports:{other}"))
    assert len(await leads()) == 1 and found[0]["resident_id"] == w.ids["r3"]
    assert await _events_of(w, "JobSeekerLeadOpened", resident_id=w.ids["r3"]) == 1
    seekers = (await w.client.get("/seekers", headers=w.grid_worker())).json()
    assert w.ids["r3"] in {s["resident_id"] for s in seekers}
    _problem(
        await w.client.post(
            f"/leads/{found[0]['lead_id']}/close",
            json={"outcome": "hired"},
            headers=token_for(w.keys, "grid_worker", [OTHER_GRID], subject="gw-2"),
        ),
        403,
    )
    r = await w.client.post(
        f"/leads/{found[0]['lead_id']}/close", json={"outcome": "enrolled"}, headers=w.grid_worker()
    )
    assert r.status_code == 200
    _problem(
        await w.client.post(
            f"/leads/{found[0]['lead_id']}/close",
            json={"outcome": "other"},
            headers=w.grid_worker(),
        ),
        409,
    )


async def _stream_at_key(runner: Any, key: str) -> bool:
    return await runner.stream_version(key) >= 1


async def test_erased_resident_disappears_from_read_models(world: World) -> None:
    w = world
    r5 = w.ids["r5"]
    await w.upstream.send("registration", "residents", r5, "ResidentErased", {"resident_id": r5})
    index = w.runtime.deps.match_index
    await eventually(lambda: r5 not in index.residents)
    _problem(await w.client.get(f"/residents/{r5}/matches", headers=w.grid_worker()), 404)
    app = (await w.client.get(f"/applications/{w.ids['app_r5']}", headers=w.partner("employer"))).json()
    assert app["resident_id"] == "erased" and app["status"] == "hired"


async def test_totals_per_area(world: World) -> None:
    w = world
    r = await w.client.get("/totals", params={"area": COMMUNITY}, headers=w.staff())
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["hires"] == 2 and t["piecework_paid_fen"] == 495 and t["training_completions"] == 1
    assert t["applications"] >= 2 and t["postings"] >= 4
    _problem(await w.client.get("/totals", params={"area": ELSEWHERE}, headers=w.staff()), 403, "area")
    _problem(await w.client.get("/totals", headers=w.resident(w.ids["r1"])), 403)
