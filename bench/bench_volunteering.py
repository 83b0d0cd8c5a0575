"""Volunteering benchmark: the sign-up / check-in / check-out / verify mix in commands/s
with p99 latency, and a sign-up storm (1,000 residents for 50 places at once: exactly
50 scheduled, the rest waiting in the order their sign-ups committed).

The directory read model (residents, the team leader) is seeded in bulk, as after a
replay; the service then runs on SQLite (or the empty PostgreSQL database named by
VOLUNTEERING_BENCH_DATABASE_URL) with its relay and projections and is driven
through its HTTP API in-process. Each request carries its own simulated time (a
context variable read by the service's clock), so a journey can sign up before the
shift, check in at the start and check out two hours later without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from doorstep_shared.auth import Principal, Role, TokenIssuer
from doorstep_shared.db import Database
from doorstep_shared.migrations import upgrade
from sqlalchemy import insert
from volunteering.bootstrap import build_definition, create_app
from volunteering.models import residents_t, staff_t
from volunteering.settings import Settings

from tests.helpers import running_app

COMMUNITY = "330102001"
LEADER = "tl-bench"
RESIDENTS = 3_000
STORM_RESIDENTS, STORM_CAPACITY = 1_000, 50
WORKERS, SHIFT = 16, 10  # concurrent leaders in the mix, volunteers per shift
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SIM_NOW: contextvars.ContextVar[datetime] = contextvars.ContextVar("sim_now", default=T0)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


class Tokens:
    def __init__(self, private_key: Path) -> None:
        key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
        self.issuer = TokenIssuer(
            key,  # type: ignore[arg-type]  # PyJWT signs with a loaded key too
            issuer="doorstep-registration",
            audience="doorstep",
            ttl=timedelta(hours=2),
        )

    def header(self, role: Role, subject: str, **extra: str) -> dict[str, str]:
        principal = Principal(subject=subject, role=role, areas=(COMMUNITY,), **extra)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {self.issuer.issue(principal)}"}


async def _seed(url: str, settings: Settings) -> None:
    db = Database(url)
    await upgrade(db, build_definition(settings).migrations_path)
    async with db.transaction() as s:
        await s.execute(insert(staff_t), [{"staff_id": LEADER, "role": "team_leader", "areas": [COMMUNITY]}])
        await s.execute(
            insert(residents_t),
            [
                {
                    "resident_id": f"r{i:05d}",
                    "status": "active",
                    "community_code": COMMUNITY,
                    "grid_code": f"{COMMUNITY}{1 + i % 9:03d}",
                    "skills": [],
                }
                for i in range(RESIDENTS)
            ],
        )
    await db.dispose()


async def _post(
    client: httpx.AsyncClient, at: datetime, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
) -> httpx.Response:
    SIM_NOW.set(at)
    response = await client.post(path, json=body or {}, headers=headers)
    if response.status_code >= 300:
        raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    return response


def _shift(start: datetime, capacity: int) -> dict[str, Any]:
    return {
        "title": "Visit elderly neighbours",
        "place": "Community centre",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": capacity,
    }


async def _mix(client: httpx.AsyncClient, team_id: str, tokens: Tokens, duration: float) -> dict[str, Any]:
    """Closed loop: each worker runs shifts of SHIFT volunteers end to end.

    A round schedules a shift, signs its volunteers up, checks them in at the start,
    out two hours later, and verifies their hours (which books points in the ledger).
    """
    leader = tokens.header(Role.TEAM_LEADER, LEADER)
    residents = [tokens.header(Role.RESIDENT, f"r{i:05d}", resident_id=f"r{i:05d}") for i in range(RESIDENTS)]
    kinds = ("schedule", "sign_up", "check_in", "check_out", "verify")
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    deadline = time.perf_counter() + duration
    shifts = 0

    async def timed(
        kind: str, at: datetime, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        began = time.perf_counter()
        response = await _post(client, at, path, headers, body)
        latencies[kind].append(time.perf_counter() - began)
        return response

    async def worker(w: int) -> None:
        nonlocal shifts
        round_ = 0
        while time.perf_counter() < deadline:
            start = T0 + timedelta(days=1 + round_, hours=w % 12)
            r = await timed("schedule", T0, f"/teams/{team_id}/activities", leader, _shift(start, SHIFT))
            base = f"/activities/{r.json()['id']}/signups"
            first = (w * SHIFT + round_ * WORKERS * SHIFT) % (RESIDENTS - SHIFT)
            crew = [f"r{first + i:05d}" for i in range(SHIFT)]
            for rid in crew:
                await timed("sign_up", start - timedelta(hours=1), base, residents[int(rid[1:])])
            for rid in crew:
                await timed("check_in", start - timedelta(minutes=5), f"{base}/{rid}/check-in", leader)
            for rid in crew:
                await timed("check_out", start + timedelta(minutes=115), f"{base}/{rid}/check-out", leader)
            for rid in crew:
                await timed("verify", start + timedelta(hours=3), f"{base}/{rid}/verify", leader)
            shifts += 1
            round_ += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(WORKERS)))
    elapsed = time.perf_counter() - began
    every = [x for values in latencies.values() for x in values]
    out: dict[str, Any] = {
        "mix_workers": WORKERS,
        "mix_seconds": round(elapsed, 2),
        "mix_commands": len(every),
        "mix_shifts": shifts,
        "mix_commands_per_s": round(len(every) / elapsed, 1),
        "mix_p50_ms": _pct(every, 0.50),
        "mix_p99_ms": _pct(every, 0.99),
    }
    for kind, values in latencies.items():
        out[f"mix_{kind}_p99_ms"] = _pct(values, 0.99)
    return out


async def _storm(client: httpx.AsyncClient, team_id: str, tokens: Tokens) -> dict[str, Any]:
    leader = tokens.header(Role.TEAM_LEADER, LEADER)
    start = T0 + timedelta(days=30)
    created = await _post(client, T0, f"/teams/{team_id}/activities", leader, _shift(start, STORM_CAPACITY))
    activity = created.json()["id"]
    headers = [tokens.header(Role.RESIDENT, f"r{i:05d}", resident_id=f"r{i:05d}") for i in range(STORM_RESIDENTS)]
    latencies: list[float] = []

    async def sign_up(h: dict[str, str]) -> dict[str, Any]:
        began = time.perf_counter()
        r = await _post(client, T0, f"/activities/{activity}/signups", h)
        latencies.append(time.perf_counter() - began)
        return dict(r.json())

    began = time.perf_counter()
    answers = await asyncio.gather(*(sign_up(h) for h in headers))
    elapsed = time.perf_counter() - began
    scheduled = [a for a in answers if a["status"] == "scheduled"]
    waiting = sorted((a for a in answers if a["status"] == "waiting"), key=lambda a: a["version"])
    last = max(a["position"] for a in answers)
    projected_from = time.perf_counter()
    view = await client.get(f"/activities/{activity}", params={"after": last}, headers=leader)
    body = view.json()
    in_order = [w["resident_id"] for w in body["waiting_list"]] == [a["resident_id"] for a in waiting]
    return {
        "storm_residents": STORM_RESIDENTS,
        "storm_capacity": STORM_CAPACITY,
        "storm_seconds": round(elapsed, 2),
        "storm_sign_ups_per_s": round(STORM_RESIDENTS / elapsed, 1),
        "storm_p50_ms": _pct(latencies, 0.50),
        "storm_p99_ms": _pct(latencies, 0.99),
        "storm_scheduled": len(scheduled),
        "storm_waiting": len(waiting),
        "storm_exactly_capacity": len(scheduled) == STORM_CAPACITY and body["scheduled_count"] == STORM_CAPACITY,
        "storm_waiting_list_in_order": in_order and len(body["waiting_list"]) == len(waiting),
        "storm_read_model_wait_ms": round((time.perf_counter() - projected_from) * 1000, 1),
        "storm_read_consistency": view.headers.get("X-Consistency"),
    }


async def run(
    results: dict[str, Any],
    *,
    kafka_bootstrap: str,
    workdir: Path,
    jwt_keys: tuple[Path, Path],
    duration: float,
) -> None:
    # VOLUNTEERING_BENCH_DATABASE_URL points the run at an empty PostgreSQL database instead
    url = os.environ.get("VOLUNTEERING_BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{workdir}/volunteering.db"
    settings = Settings(
        DATABASE_URL=url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DOORSTEP_TOPIC_PREFIX=f"bench{int(time.time())}.",
        JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
        DOORSTEP_VAR_DIR=str(workdir),
        KAFKA_TOPIC_PARTITIONS=1,
        LOG_LEVEL="WARNING",
        READ_WAIT_TIMEOUT=30.0,
    )
    await _seed(settings.resolved_database_url, settings)
    app = create_app(settings)
    app.state.runtime.clock = SIM_NOW.get
    tokens = Tokens(jwt_keys[0])
    async with running_app(app) as client:
        team = await _post(
            client,
            T0,
            "/teams",
            tokens.header(Role.COMMUNITY_STAFF, "cs-bench"),
            {"name": "Bench helpers", "community_code": COMMUNITY, "focus": "elderly_care", "leader_id": LEADER},
        )
        team_id = str(team.json()["id"])
        out = {"backend": app.state.runtime.db.engine.dialect.name, "points_per_hour": settings.points_per_hour}
        out |= await _mix(client, team_id, tokens, duration)
        out |= await _storm(client, team_id, tokens)
    results["volunteering"] = out


if __name__ == "__main__":  # a quick local run: python -m bench.bench_volunteering
    import json
    import sys
    import tempfile

    from doorstep_shared.auth import generate_keypair
    from doorstep_shared.embedded import EmbeddedKafka

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp, EmbeddedKafka() as kafka:
            results: dict[str, Any] = {}
            keys = generate_keypair(Path(tmp) / "keys")
            seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
            await run(
                results, kafka_bootstrap=kafka.bootstrap_servers, workdir=Path(tmp), jwt_keys=keys, duration=seconds
            )
            print(json.dumps(results, indent=2))

    asyncio.run(main())
