"""Jobs benchmark: matching latency over 100,000 residents and 5,000 open jobs, and
the command mix (post, apply, transition, deliver) in commands/s with p99 latency.

The read models are seeded in bulk (as after a replay), then the service starts
on SQLite, loads its match index, and is driven through its HTTP API in-process.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from doorstep_shared.auth import hash_api_key
from doorstep_shared.db import Database
from jobs.bootstrap import create_app
from jobs.models import PostingRow, ResidentRow, partner_credentials
from jobs.settings import Settings
from sqlalchemy import insert

from tests.helpers import running_app, token_for

RESIDENTS = 100_000
JOBS = 5_000
SKILLS = [f"skill_{i:02d}" for i in range(40)]
TYPES = ["full_time", "part_time", "piecework", "odd_job", "public_welfare", "home_based"]
TAGS = ["elderly", "disabled", "unemployed", "stay_at_home_parent", "low_income", "veteran"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DISTRICT = "330102"


def _grid(rng: random.Random) -> str:
    return f"{DISTRICT}{rng.randrange(1, 6):03d}{rng.randrange(1, 11):03d}{rng.randrange(1, 11):03d}"


def _window(rng: random.Random) -> dict[str, Any]:
    start = rng.randrange(7, 14)
    return {
        "days": rng.sample(DAYS, rng.randrange(2, 6)),
        "start": f"{start:02d}:00",
        "end": f"{start + rng.randrange(2, 8):02d}:30",
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def _seed(url: str, api_key: str, partner_id: str) -> None:
    rng = random.Random(7)
    db = Database(url)
    residents = []
    for i in range(RESIDENTS):
        grid = _grid(rng)
        residents.append(
            {
                "resident_id": f"r{i:06d}",
                "community_code": grid[:12],
                "grid_code": grid,
                "status": "active",
                "employment_status": rng.choice(["unemployed", "flexible", "employed", "retired"]),
                "tags": rng.sample(TAGS, rng.randrange(0, 3)),
                "skills": rng.sample(SKILLS, rng.randrange(1, 5)),
                "verified_skills": [],
                "availability": [_window(rng)],
                "job_preferences": {
                    "types": rng.sample(TYPES, 2),
                    "min_pay_fen": rng.randrange(1500, 3000),
                    "pay_unit": "hour",
                },
                "consent_matching": rng.random() < 0.9,
                "share_with_partners": rng.random() < 0.7,
            }
        )
    valid = datetime.now(UTC) + timedelta(days=60)
    jobs = []
    for i in range(JOBS):
        grid = _grid(rng)
        jobs.append(
            {
                "job_id": f"j{i:05d}",
                "title": f"job {i}",
                "description": "",
                "employment_type": rng.choice(TYPES),
                "hiring_organization": "bench",
                "partner_id": partner_id,
                "community_code": grid[:12],
                "grid_code": grid if rng.random() < 0.3 else None,
                "job_location": "",
                "pay_fen": rng.randrange(1800, 4000),
                "pay_unit": "hour",
                "work_hours": "",
                "schedule": [_window(rng)],
                "skills": rng.sample(SKILLS, rng.randrange(0, 4)),
                "total_job_openings": 1_000_000,
                "filled": 0,
                "status": "published",
                "valid_through": valid,
                "created_by": "bench",
                "published_at": None,
            }
        )
    async with db.transaction() as s:
        for i in range(0, RESIDENTS, 5000):
            await s.execute(insert(ResidentRow.__table__), residents[i : i + 5000])  # type: ignore[attr-defined]
        await s.execute(insert(PostingRow.__table__), jobs)  # type: ignore[attr-defined]
        await s.execute(
            insert(partner_credentials),
            [
                {
                    "partner_id": partner_id,
                    "name": "bench employer",
                    "kind": "employer",
                    "area_code": DISTRICT,
                    "status": "approved",
                    "api_key_hash": hash_api_key(api_key),
                }
            ],
        )
    await db.dispose()


async def _timed(latencies: list[float], coro: Any) -> Any:
    start = time.perf_counter()
    response = await coro
    latencies.append((time.perf_counter() - start) * 1000)
    assert response.status_code < 300, response.text
    return response


async def run(
    results: dict[str, Any],
    *,
    kafka_bootstrap: str,
    workdir: Path,
    jwt_keys: tuple[Path, Path],
    duration: float,
) -> None:
    url = f"sqlite+aiosqlite:///{workdir}/jobs-bench.db"
    settings = Settings(
        DATABASE_URL=url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DOORSTEP_TOPIC_PREFIX=f"bench{uuid.uuid4().hex[:6]}.",
        JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
        DOORSTEP_VAR_DIR=str(workdir),
        KAFKA_TOPIC_PARTITIONS=1,
        LOG_LEVEL="WARNING",
    )
    async with running_app(create_app(settings)):
        pass  # migrations only
    partner_id, api_key = str(uuid.uuid4()), "dsk_bench_key"
    t0 = time.perf_counter()
    await _seed(url, api_key, partner_id)
    seed_s = time.perf_counter() - t0
    rng = random.Random(11)
    staff = token_for(jwt_keys, "community_staff", [DISTRICT], subject="bench-staff")
    partner = {"X-API-Key": api_key}
    out: dict[str, Any] = {
        "residents": RESIDENTS,
        "open_jobs": JOBS,
        "seed_read_models_s": round(seed_s, 2),
    }
    t0 = time.perf_counter()
    app = create_app(settings)
    async with running_app(app) as client:
        out["startup_with_index_load_s"] = round(time.perf_counter() - t0, 2)
        budget = max(5.0, duration / 3)
        for name, path in (
            ("matches_for_resident", lambda: f"/residents/r{rng.randrange(RESIDENTS):06d}/matches"),
            ("candidates_for_job", lambda: f"/jobs/j{rng.randrange(JOBS):05d}/candidates"),
        ):
            lat: list[float] = []
            end = time.perf_counter() + budget
            while time.perf_counter() < end or len(lat) < 200:
                start = time.perf_counter()
                r = await client.get(path(), headers=staff)
                lat.append((time.perf_counter() - start) * 1000)
                if r.status_code == 403:  # a resident who did not consent: still a measured lookup
                    continue
                assert r.status_code == 200, r.text
            out[f"{name}_requests"] = len(lat)
            out[f"{name}_p50_ms"] = _pct(lat, 0.50)
            out[f"{name}_p99_ms"] = _pct(lat, 0.99)
        out.update(await _command_mix(client, rng, partner, staff, jwt_keys, budget))
    results["jobs"] = out


async def _command_mix(
    client: Any,
    rng: random.Random,
    partner: dict[str, str],
    staff: dict[str, str],
    jwt_keys: tuple[Path, Path],
    budget: float,
) -> dict[str, Any]:
    """Post, apply, transition and deliver, interleaved, with 8 clients at once."""
    valid = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    deadline = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    latencies: dict[str, list[float]] = {"post": [], "apply": [], "transition": [], "deliver": []}
    pending: list[str] = []
    job_ids: list[str] = []
    used: set[tuple[str, str]] = set()
    applicants = [f"r{i:06d}" for i in range(300)]
    tokens = {rid: token_for(jwt_keys, "resident", [], subject=rid, resident_id=rid) for rid in applicants}

    async def post() -> None:
        body = {
            "title": "bench job",
            "employment_type": "part_time",
            "community_code": "330102001001",
            "base_salary": {"amount_fen": 2500, "unit": "hour"},
            "valid_through": valid,
            "publish": True,
            "schedule": [{"days": ["mon"], "start": "09:00", "end": "12:00"}],
            "skills": ["skill_01"],
        }
        r = await _timed(latencies["post"], client.post("/jobs", json=body, headers=partner))
        job_ids.append(r.json()["id"])

    async def apply() -> None:
        while True:
            job, resident = rng.choice(job_ids), rng.choice(applicants)
            if (job, resident) not in used:
                used.add((job, resident))
                break
        r = await _timed(
            latencies["apply"],
            client.post(
                f"/jobs/{job}/applications",
                json={"resident_id": resident},
                headers=tokens[resident],
            ),
        )
        pending.append(r.json()["id"])

    async def transition() -> None:
        if not pending:
            return await apply()
        app_id = pending.pop()
        await _timed(
            latencies["transition"],
            client.post(f"/applications/{app_id}/shortlist", json={}, headers=partner),
        )
        return None

    orders = await _piecework_setup(client, deadline)

    async def deliver() -> None:
        order_id, batch_id = rng.choice(orders)
        await _timed(
            latencies["deliver"],
            client.post(
                f"/piecework/orders/{order_id}/deliveries",
                json={"batch_id": batch_id, "accepted": 1, "rejected": 0},
                headers=staff,
            ),
        )

    for _ in range(20):
        await post()
    mix = [post, apply, transition, deliver]
    stop = time.perf_counter() + budget

    async def worker() -> None:
        while time.perf_counter() < stop:
            await rng.choice(mix)()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    elapsed = time.perf_counter() - start
    every = [x for v in latencies.values() for x in v]
    out: dict[str, Any] = {
        "command_mix_commands": len(every),
        "command_mix_commands_per_s": round(len(every) / elapsed, 1),
        "command_mix_p50_ms": _pct(every, 0.50),
        "command_mix_p99_ms": _pct(every, 0.99),
    }
    for name, values in latencies.items():
        if values:
            out[f"{name}_p99_ms"] = _pct(values, 0.99)
    return out


async def _piecework_setup(client: Any, deadline: str) -> list[tuple[str, str]]:
    """Orders need a processor: register one through the same bulk path the partner projection fills."""
    runtime = client._transport.app.state.runtime
    key = "dsk_bench_processor"
    partner_id = str(uuid.uuid4())
    async with runtime.db.transaction() as s:
        await s.execute(
            insert(partner_credentials),
            [
                {
                    "partner_id": partner_id,
                    "name": "bench processor",
                    "kind": "piecework_processor",
                    "area_code": DISTRICT,
                    "status": "approved",
                    "api_key_hash": hash_api_key(key),
                }
            ],
        )
    processor = {"X-API-Key": key}
    orders = []
    for i in range(16):
        r = await client.post(
            "/piecework/orders",
            json={
                "item": "flower",
                "community_code": "330102001001",
                "quantity": 1_000_000,
                "rate_fen": 15,
                "deadline": deadline,
            },
            headers=processor,
        )
        order_id = r.json()["id"]
        r = await client.post(
            f"/piecework/orders/{order_id}/batches",
            json={"resident_id": f"r{i:06d}", "quantity": 1_000_000},
            headers=processor,
        )
        orders.append((order_id, r.json()["batch_id"]))
    return orders
