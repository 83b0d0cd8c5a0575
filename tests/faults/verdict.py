"""Judging a scenario: is every acknowledged command in every read model that should see it, exactly once?

Each acknowledged command sets *expected facts*, one per read model that should
see it. What a resident's state should end up as comes from registration's own
event log (the source of truth: an uncertain move-out may have been committed),
and counters are held to what the event logs say was committed. A fact seen
once is applied, never seen is lost, seen more than once is doubled (a reaction
that ran twice appends its events twice).

`Judge.converge` polls until nothing is lost or doubled, or until the figures
stop changing for `FAULT_STALL_SECONDS` (default 45 s), or `FAULT_CONVERGE_SECONDS`
(default 90 s) pass; `report` prints one line and appends it, as JSON, to
`FAULT_REPORT` (default var/fault-report.jsonl in the repository).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tests.faults.harness import Platform
from tests.faults.workload import COMMUNITY, GRID, World

CONVERGE_SECONDS = float(os.environ.get("FAULT_CONVERGE_SECONDS", "90"))
STALL_SECONDS = float(os.environ.get("FAULT_STALL_SECONDS", "45"))
REPORT = Path(os.environ.get("FAULT_REPORT", Path(__file__).resolve().parents[2] / "var" / "fault-report.jsonl"))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Tally:
    """One read model's (or counter's) expected facts and what became of them."""

    expected: int = 0
    applied: int = 0
    lost: int = 0
    doubled: int = 0
    examples: list[str] = field(default_factory=list)

    def seen(self, times: int, what: str) -> None:
        """An expected fact, seen `times` times."""
        self.expected += 1
        if times == 0:
            self.lost += 1
            self._example(what)
        else:
            self.applied += 1
            if times > 1:
                self.doubled += times - 1
                self._example(f"{times}x {what}")

    def counter(self, observed: int, committed: int, what: str) -> None:
        """A counter, against what the event logs committed."""
        self.expected += committed
        self.applied += min(observed, committed)
        self.lost += max(0, committed - observed)
        self.doubled += max(0, observed - committed)
        if observed != committed:
            self._example(f"{what}: {observed}, committed {committed}")

    def _example(self, text: str) -> None:
        if len(self.examples) < 3:
            self.examples.append(text)


@dataclass
class Verdict:
    tallies: dict[str, Tally]
    converged_s: float | None = None
    waited_s: float = 0.0

    @property
    def expected(self) -> int:
        return sum(t.expected for t in self.tallies.values())

    @property
    def applied(self) -> int:
        return sum(t.applied for t in self.tallies.values())

    @property
    def lost(self) -> int:
        return sum(t.lost for t in self.tallies.values())

    @property
    def doubled(self) -> int:
        return sum(t.doubled for t in self.tallies.values())

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.doubled == 0

    def figures(self) -> tuple[tuple[str, int, int], ...]:
        return tuple((name, t.lost, t.doubled) for name, t in sorted(self.tallies.items()))

    def explain(self) -> str:
        lines = [f"{self.lost} of {self.expected} expected facts lost, {self.doubled} doubled:"]
        for name, t in sorted(self.tallies.items()):
            if t.lost or t.doubled:
                lines.append(f"  {name}: {t.lost} lost, {t.doubled} doubled of {t.expected} (e.g. {t.examples})")
        return "\n".join(lines)


class ReadModels:
    """Read-only queries on each service's database."""

    def __init__(self, platform: Platform) -> None:
        self.engines: dict[str, AsyncEngine] = {
            service: create_async_engine(platform.database_url(service), poolclass=NullPool)
            for service in ("registration", "jobs", "volunteering")
        }

    async def rows(self, service: str, sql: str) -> list[Any]:
        async with self.engines[service].connect() as conn:
            return list(await conn.execute(text(sql)))

    async def dispose(self) -> None:
        for engine in self.engines.values():
            await engine.dispose()

    async def relay_and_offsets(self, service: str) -> tuple[int, int, list[Any]]:
        """The relay's checkpoint, the log's last position, and the projections' stored offsets."""
        checkpoint = await self.rows(service, "SELECT max(position) AS p FROM relay_checkpoints")
        last = await self.rows(service, "SELECT max(position) AS p FROM events")
        offsets = await self.rows(
            service, 'SELECT projection, topic, partition, "offset" FROM projection_tracking ORDER BY 1, 2, 3'
        )
        return checkpoint[0].p or 0, last[0].p or 0, offsets

    async def jobs_know(self, ids: list[str]) -> bool:
        known = {r.resident_id for r in await self.rows("jobs", "SELECT resident_id FROM residents")}
        return known.issuperset(ids)


class Judge:
    def __init__(self, world: World, models: ReadModels) -> None:
        self.world = world
        self.models = models

    async def observe(self) -> Verdict:
        """Every expected fact against the read models and counters, as they are now."""
        w, ledger, m = self.world, self.world.ledger, self.models
        reg_log = await m.rows(
            "registration",
            "SELECT stream_id, event_type, data FROM events WHERE event_type IN "
            "('ResidentRegistered', 'ResidentMovedOut', 'ResidentEmploymentStatusChanged')",
        )
        jobs_log = await m.rows(
            "jobs",
            "SELECT stream_id, event_type, data FROM events WHERE event_type IN "
            "('ApplicationHired', 'ApplicationWithdrawn')",
        )
        registered = {e.stream_id for e in reg_log if e.event_type == "ResidentRegistered"}
        gone = {e.stream_id for e in reg_log if e.event_type == "ResidentMovedOut"}
        status_events = [e for e in reg_log if e.event_type == "ResidentEmploymentStatusChanged"]
        employed = Counter((e.stream_id, _json(e.data).get("job_id")) for e in status_events)
        hires_committed = Counter(_json(e.data)["job_id"] for e in jobs_log if e.event_type == "ApplicationHired")
        withdrawn = Counter(e.stream_id for e in jobs_log if e.event_type == "ApplicationWithdrawn")

        reg = {r.id: r for r in await m.rows("registration", "SELECT id, status, employment_status FROM residents")}
        jobs_rows = await m.rows("jobs", "SELECT resident_id, status, employment_status FROM residents")
        jobs_res = {r.resident_id: r for r in jobs_rows}
        app_rows = await m.rows("jobs", "SELECT application_id, status FROM applications")
        apps = {r.application_id: r.status for r in app_rows}
        filled = {r.job_id: r.filled for r in await m.rows("jobs", "SELECT job_id, filled FROM postings")}
        vol_rows = await m.rows("volunteering", "SELECT resident_id, status FROM residents")
        vol = {r.resident_id: r.status for r in vol_rows}
        hired_rows = await m.rows("volunteering", "SELECT resident_id FROM helped_residents WHERE hired_at IS NOT NULL")
        helped = {r.resident_id for r in hired_rows}

        t: dict[str, Tally] = {}

        def tally(name: str) -> Tally:
            return t.setdefault(name, Tally())

        # a registration: the resident, as registration's log says it is now, in every directory
        for rid in ledger.registered:
            tally("registration event log").seen(int(rid in registered), f"{rid}: no ResidentRegistered")
            status = "moved_out" if rid in gone else "active"
            for name, found in (
                ("registration.residents", reg[rid].status if rid in reg else None),
                ("jobs.residents", jobs_res[rid].status if rid in jobs_res else None),
                ("volunteering.residents", vol.get(rid)),
            ):
                tally(name).seen(int(found == status), f"{rid}: {found or 'absent'}, should be {status}")
        # an application: in jobs' applications
        for app_id in ledger.applications:
            tally("jobs.applications").seen(int(app_id in apps), f"{app_id}: absent")
        # a hire: jobs' application, registration's reaction (once), and what follows from it
        for rid, hire in ledger.hired.items():
            found = apps.get(hire.application_id)
            tally("jobs.applications hired").seen(int(found == "hired"), f"{hire.application_id}: {found}")
            tally("registration reaction: employment event per hire").seen(employed[(rid, hire.job_id)], f"{rid}: none")
            tally("registration.residents employed").seen(_employed(reg.get(rid)), f"{rid}: not employed")
            tally("jobs.residents employed (round trip)").seen(_employed(jobs_res.get(rid)), f"{rid}: not employed")
            tally("volunteering.helped_residents hired").seen(int(rid in helped), f"{rid}: not marked")
        # a move-out: jobs withdraws the resident's open application, once
        for app_id in self._moved_out_applications():
            tally("jobs reaction: application withdrawn per move-out").seen(withdrawn[app_id], f"{app_id}: none")
            found = apps.get(app_id)
            tally("jobs.applications withdrawn").seen(int(found == "withdrawn"), f"{app_id}: {found}")
        # counters, against what the logs committed
        for job_id in w.postings:
            tally("jobs.postings filled").counter(filled.get(job_id, 0), hires_committed[job_id], job_id)
        async with w.http("registration") as reg_api, w.http("jobs") as jobs_api:
            area = await reg_api.get(f"/areas/{GRID}", headers=w.grid_worker)
            totals = await jobs_api.get("/totals", params={"area": COMMUNITY}, headers=w.staff)
        active = len(registered - gone)
        tally("registration GET /areas residents").counter(_field(area, "residents"), active, GRID)
        tally("jobs GET /totals hires").counter(_field(totals, "hires"), sum(hires_committed.values()), COMMUNITY)
        return Verdict(t)

    def _moved_out_applications(self) -> list[str]:
        apps = self.world.move_pool_applications
        return [apps[rid] for rid in self.world.ledger.moved_out if rid in apps]

    async def read_your_writes(self, verdict: Verdict, sample: int = 3) -> None:
        """The newest acknowledged registrations, read back as a client does (`?after=`)."""
        w = self.world
        newest = list(w.ledger.registered.items())[-sample:]
        tally = verdict.tallies.setdefault("registration GET /residents/{id}?after= current", Tally())
        async with w.http("registration") as reg:
            for rid, position in newest:
                r = await reg.get(f"/residents/{rid}", params={"after": position}, headers=w.grid_worker)
                current = r.status_code == 200 and r.headers.get("X-Consistency") == "current"
                consistency = r.headers.get("X-Consistency")
                tally.seen(int(current), f"{rid}: {r.status_code}, X-Consistency {consistency}")

    async def diagnosis(self) -> str:
        """Where the events stand: each relay's checkpoint against its log, and each projection's
        stored offsets against the broker's end offsets (the next offset to be written)."""
        lines = []
        ends = await broker_end_offsets(self.world.platform.broker.bootstrap_servers)
        for service in self.models.engines:
            checkpoint, last, offsets = await self.models.relay_and_offsets(service)
            lines.append(f"  {service} relay: published up to position {checkpoint} of {last}")
            for o in offsets:
                end = ends.get((o.topic, o.partition), "?")
                lines.append(
                    f"    {service}.{o.projection} {o.topic}[{o.partition}]: stored offset {o.offset}, broker end {end}"
                )
        return "\n".join(lines)

    async def converge(self, since: float) -> Verdict:
        """Poll until clean (or only doubles remain), stalled, or the cap; `since`: the recovery moment."""
        start = last_change = time.monotonic()
        previous = None
        while True:
            verdict = await self.observe()
            now = time.monotonic()
            verdict.waited_s = round(now - since, 1)
            if verdict.clean:
                verdict.converged_s = verdict.waited_s
                break
            if verdict.lost == 0:  # doubles never go away
                break
            if verdict.figures() != previous:
                previous, last_change = verdict.figures(), now
            if now - start > CONVERGE_SECONDS or now - last_change > STALL_SECONDS:
                break
            await asyncio.sleep(1.0)
        await self.read_your_writes(verdict)
        return verdict


async def broker_end_offsets(bootstrap: str) -> dict[tuple[str, int], int]:
    """Every topic partition's end offset on the broker (empty if the broker does not answer)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        async with asyncio.timeout(20):
            await consumer.start()
            topics = [t for t in await consumer.topics() if not t.startswith("__")]
            parts = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
            ends = await consumer.end_offsets(parts) if parts else {}
            return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    except Exception:
        return {}
    finally:
        await consumer.stop()


def _employed(row: Any) -> int:
    return int(row is not None and row.employment_status == "employed")


def _field(response: httpx.Response, name: str) -> int:
    assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
    return int(response.json()[name])


def report(scenario: str, backend: str, world: World, verdict: Verdict) -> None:
    """One line for `pytest -s`, and the same as JSON appended to the report file."""
    figures = world.ledger.figures()
    converged = (
        f"converged {verdict.converged_s:.1f}s after recovery"
        if verdict.converged_s is not None
        else f"NOT converged ({verdict.waited_s:.1f}s after recovery)"
    )
    line = (
        f"[fault] {scenario} [{backend}]: acknowledged {figures['acknowledged']} commands "
        f"({figures['registrations']} registrations, {figures['hires']} hires, {figures['move_outs']} move-outs; "
        f"{figures['uncertain']} uncertain, {figures['refused']} refused) -> expected {verdict.expected} facts: "
        f"applied {verdict.applied}, lost {verdict.lost}, doubled {verdict.doubled}; {converged}"
    )
    print(line)
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": scenario,
        "backend": backend,
        **figures,
        "expected": verdict.expected,
        "applied": verdict.applied,
        "lost": verdict.lost,
        "doubled": verdict.doubled,
        "converged_s": verdict.converged_s,
        "waited_s": verdict.waited_s,
        "platform_start_s": world.platform.start_seconds,
        "killed_at_stop": world.platform.killed_at_stop,
        "by_read_model": {
            name: {"expected": t.expected, "lost": t.lost, "doubled": t.doubled}
            for name, t in sorted(verdict.tallies.items())
            if t.lost or t.doubled
        },
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("a") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
