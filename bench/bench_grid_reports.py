"""Grid-reports benchmark: the case command mix, and the escalation sweep over 100,000 open cases.

The mix drives the real app in-process (ASGI, relay and projections running on
SQLite): each worker walks cases through report → accept → assign → start →
resolve → feedback. The sweep is timed on its own database seeded with
100,000 overdue open cases (events plus the deadline read model), the target
being ≤ 2 s for all of them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from doorstep_shared.auth import Principal, Role, TokenIssuer
from doorstep_shared.db import Database
from doorstep_shared.domain import new_id
from doorstep_shared.migrations import upgrade
from grid_reports.bootstrap import build_definition, create_app, policy_from
from grid_reports.domain.model import Case
from grid_reports.escalation import sweep
from grid_reports.models import CaseDeadline, core
from grid_reports.settings import Settings
from sqlalchemy import func, insert, select

COMMUNITY = "330102001001"
GRID = "330102001001001"
SWEEP_CASES = 100_000
WORKERS = 8


def _headers(private_key: Path, role: Role, subject: str, **extra: str) -> dict[str, str]:
    issuer = TokenIssuer(
        private_key.read_bytes(),
        issuer="doorstep-registration",
        audience="doorstep",
        ttl=timedelta(hours=2),
    )
    principal = Principal(subject=subject, role=role, areas=(GRID,), **extra)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issuer.issue(principal)}"}


def _settings(workdir: Path, name: str, kafka_bootstrap: str, jwt_keys: tuple[Path, Path]) -> Settings:
    return Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{workdir}/{name}.db",
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DOORSTEP_TOPIC_PREFIX=f"bench{new_id()[:8]}.",
        JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
        DOORSTEP_VAR_DIR=str(workdir),
        KAFKA_TOPIC_PARTITIONS=1,
        GRID_REPORTS_ESCALATION_INTERVAL_SECONDS=3600,
    )


async def _case_mix(
    kafka_bootstrap: str, workdir: Path, jwt_keys: tuple[Path, Path], duration: float
) -> dict[str, Any]:
    app = create_app(_settings(workdir, "grid_reports_mix", kafka_bootstrap, jwt_keys))
    latencies: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def timed(path: str, headers: dict[str, str], body: Any = None) -> dict[str, Any]:
                start = time.perf_counter()
                response = await client.post(path, json=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code >= 300:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text}")
                result: dict[str, Any] = response.json()
                return result

            async def worker(n: int, deadline: float) -> None:
                gw = _headers(jwt_keys[0], Role.GRID_WORKER, f"gw-{n}")
                reporter = _headers(jwt_keys[0], Role.RESIDENT, f"u-{n}", resident_id=f"res-{n}")
                while time.perf_counter() < deadline:
                    created = await timed(
                        "/cases",
                        reporter,
                        {
                            "category": "environment",
                            "source": "courier_sentinel",
                            "community_code": COMMUNITY,
                            "grid_code": GRID,
                            "description": "rubbish by the bike shed",
                            "photos": ["https://img.example.cn/a.jpg"],
                        },
                    )
                    case = f"/cases/{created['id']}"
                    await timed(f"{case}/accept", gw)
                    await timed(f"{case}/assign", gw, {"assignee_id": f"gw-{n}"})
                    await timed(f"{case}/start", gw)
                    await timed(f"{case}/resolve", gw, {"resolution": "cleared"})
                    await timed(f"{case}/feedback", reporter, {"satisfaction": 5})

            started = time.perf_counter()
            await asyncio.gather(*(worker(n, started + duration) for n in range(WORKERS)))
            elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "case_mix_commands": len(latencies),
        "case_mix_commands_per_s": round(len(latencies) / elapsed, 1),
        "case_mix_p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "case_mix_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


async def _seed_overdue(db: Database, count: int, reported_at: datetime) -> None:
    """Seed `count` reported cases, as the command path and the projection would leave them."""
    policy = policy_from(Settings())
    deadlines = CaseDeadline.__table__  # type: ignore[attr-defined]
    for start in range(0, count, 10_000):
        events, rows = [], []
        for _ in range(start, min(count, start + 10_000)):
            case = Case.report(
                new_id(),
                category="environment",
                source="resident",
                reporter_id="res-1",
                community_code=COMMUNITY,
                grid_code=GRID,
                description="overflowing bins",
                now=reported_at,
                policy=policy,
            )
            [event] = case.collect()
            events.append(
                {
                    "event_id": new_id(),
                    "stream_id": case.id,
                    "stream_type": "cases",
                    "version": 1,
                    "event_type": "CaseReported",
                    "schema_version": 1,
                    "data": event.to_data(),
                    "meta": {},
                    "recorded_at": reported_at,
                }
            )
            rows.append(
                {
                    "case_id": case.id,
                    "version": 1,
                    "category": "environment",
                    "step": "accept",
                    "level": "grid",
                    "community_code": COMMUNITY,
                    "grid_code": GRID,
                    "due_at": case.due_at,
                }
            )
        async with db.transaction() as session:
            await session.execute(insert(core.events), events)
            await session.execute(insert(deadlines), rows)


async def _escalation_sweep(workdir: Path, kafka_bootstrap: str, jwt_keys: tuple[Path, Path]) -> dict[str, Any]:
    settings = _settings(workdir, "grid_reports_sweep", kafka_bootstrap, jwt_keys)
    definition = build_definition(settings)
    db = Database(settings.resolved_database_url)
    try:
        await upgrade(db, definition.migrations_path)
        reported_at = datetime.now(UTC) - timedelta(days=1)
        seed_start = time.perf_counter()
        await _seed_overdue(db, SWEEP_CASES, reported_at)
        seeded = time.perf_counter() - seed_start
        started = time.perf_counter()
        escalated = await sweep(
            db,
            core,
            policy_from(settings),
            datetime.now(UTC),
            batch_size=settings.escalation_batch_size,
        )
        elapsed = time.perf_counter() - started
        async with db.session() as s:
            count = (await s.execute(select(func.count()).where(core.events.c.event_type == "CaseEscalated"))).scalar()
        if escalated != SWEEP_CASES or count != SWEEP_CASES:
            raise RuntimeError(f"sweep escalated {escalated} cases ({count} events), expected {SWEEP_CASES}")
    finally:
        await db.dispose()
    return {
        "escalation_sweep_open_cases": SWEEP_CASES,
        "escalation_sweep_s": round(elapsed, 3),
        "escalation_sweep_cases_per_s": round(SWEEP_CASES / elapsed),
        "escalation_sweep_target_s": 2.0,
        "escalation_seed_s": round(seeded, 2),
    }


async def run(
    results: dict[str, Any],
    *,
    kafka_bootstrap: str,
    workdir: Path,
    jwt_keys: tuple[Path, Path],
    duration: float,
) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    figures = await _case_mix(kafka_bootstrap, workdir, jwt_keys, duration)
    figures.update(await _escalation_sweep(workdir, kafka_bootstrap, jwt_keys))
    results["grid_reports"] = figures


if __name__ == "__main__":  # a standalone run against the embedded broker
    import json
    import sys
    import tempfile

    from doorstep_shared.auth import generate_keypair
    from doorstep_shared.embedded import EmbeddedKafka

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp, EmbeddedKafka() as broker:
            out: dict[str, Any] = {}
            keys = generate_keypair(Path(tmp) / "keys")
            seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
            await run(
                out,
                kafka_bootstrap=broker.bootstrap_servers,
                workdir=Path(tmp),
                jwt_keys=keys,
                duration=seconds,
            )
            print(json.dumps(out, indent=2))

    asyncio.run(main())
