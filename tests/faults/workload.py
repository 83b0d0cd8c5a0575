"""The commands the fault scenarios send, and the ledger of what the services acknowledged.

A `World` is set up once per platform: the area tree, an approved employer with
its API key, one posting per load client, and pools of residents known to jobs
(some with an open application, to be moved out; some to be hired). A `Load`
then runs a few concurrent clients, each sending one command after another,
through the faults: registering residents (seen by registration, jobs and
volunteering), hiring a pooled resident in jobs (registration reacts: the
resident is employed; volunteering marks the resident as helped into work) and
moving a pooled resident out in registration (jobs withdraws the resident's open
application; jobs and volunteering mark the resident as moved out).

Only answers with a 2xx status count as acknowledged. A command whose answer was
lost after it was sent (the process died, the connection dropped) is *uncertain*:
it may or may not have been committed, so no check expects it, and counters are
held to what the services' own event logs say was committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from registration.domain.validators import id_number_check_char

from tests.faults.harness import ADMIN_PASSWORD, Platform
from tests.helpers import token_for

CITY, DISTRICT, STREET, COMMUNITY, GRID = "3301", "330102", "330102001", "330102001001", "330102001001001"
AREAS = [
    (CITY, "city", None),
    (DISTRICT, "district", CITY),
    (STREET, "street", DISTRICT),
    (COMMUNITY, "community", STREET),
    (GRID, "grid", COMMUNITY),
]
CREDIT_CODE = "91350100M000100Y43"
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
SETUP_TIMEOUT = 120.0  # the first events travel through a broker whose topics do not exist yet


def id_number(i: int) -> str:
    """A valid, unique 18-character resident ID number (GB 11643 check character)."""
    first = f"33{i // 1000 % 10000:04d}{1950 + i % 50:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return first + id_number_check_char(first)


def resident_body(i: int) -> dict[str, Any]:
    return {
        "name": f"居民{i}",
        "id_number": id_number(i),
        "mobile": f"138{i:08d}",
        "grid_code": GRID,
        "building": str(1 + i % 20),
        "unit": f"{1 + i % 6}-{101 + i % 30}",
        "hukou": "local" if i % 2 else "non_local",
        "tags": ["stay_at_home_parent"],
        "skills": ["cleaning"],
        "availability": [{"days": ["mon", "wed", "fri"], "start": "08:30", "end": "16:30", "place": "any"}],
        "consent": {"employment_matching": True, "share_with_partners": True},
    }


def posting_body(openings: int) -> dict[str, Any]:
    return {
        "title": "Supermarket cleaner",
        "description": "Morning shelf and floor cleaning",
        "employment_type": "part_time",
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "job_location": "Building 3 supermarket",
        "base_salary": {"amount_fen": 2500, "unit": "hour"},
        "work_hours": "weekday mornings",
        "skills": ["cleaning"],
        "total_job_openings": openings,
        "valid_through": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "publish": True,
    }


class NotAcknowledged(Exception):
    """A command was refused or failed.

    `reached`: the service got it; `uncertain`: it may have been committed all the same.
    """

    def __init__(self, what: str, detail: str, *, reached: bool, uncertain: bool) -> None:
        super().__init__(f"{what}: {detail}")
        self.reached = reached
        self.uncertain = uncertain


@dataclass(frozen=True)
class Hire:
    resident_id: str
    application_id: str
    job_id: str


@dataclass
class Ledger:
    """What the clients were told."""

    registered: dict[str, int] = field(default_factory=dict)  # resident id -> log position of the event
    applications: set[str] = field(default_factory=set)  # acknowledged applications
    hired: dict[str, Hire] = field(default_factory=dict)  # resident id -> the acknowledged hire
    moved_out: set[str] = field(default_factory=set)
    other: int = 0  # acknowledged steps checked through what follows them (areas, posting, shortlist, …)
    uncertain: Counter[str] = field(default_factory=Counter)  # kind -> answers lost after sending
    refused: Counter[str] = field(default_factory=Counter)  # kind -> refused or not reachable
    acknowledged_at: list[float] = field(default_factory=list)  # monotonic time of each acknowledgement

    @property
    def acknowledged(self) -> int:
        return len(self.acknowledged_at)

    def acknowledged_since(self, moment: float) -> int:
        return sum(1 for t in self.acknowledged_at if t >= moment)

    def figures(self) -> dict[str, int]:
        return {
            "acknowledged": self.acknowledged,
            "registrations": len(self.registered),
            "applications": len(self.applications),
            "hires": len(self.hired),
            "move_outs": len(self.moved_out),
            "other_steps": self.other,
            "uncertain": sum(self.uncertain.values()),
            "refused": sum(self.refused.values()),
        }


class World:
    """The platform's API clients, the shared set-up, and the ledger of every command sent."""

    def __init__(self, platform: Platform, clients: int = 4, hire_pool: int = 10, move_pool: int = 10) -> None:
        self.platform = platform
        self.clients = clients
        self.ledger = Ledger()
        self.grid_worker = token_for(platform.keys, "grid_worker", [GRID], subject="gw-faults")
        self.staff = token_for(platform.keys, "community_staff", [COMMUNITY], subject="cs-faults")
        self.partner: dict[str, str] = {}
        self.postings: list[str] = []  # one per load client, and one for the set-up
        self.hire_pool: list[str] = []
        self.move_pool: list[tuple[str, str]] = []  # (resident id, open application id), taken by the load
        self.move_pool_applications: dict[str, str] = {}  # resident id -> the application a move-out withdraws
        self._sizes = (hire_pool, move_pool)
        self._numbers = itertools.count(1)

    def http(self, service: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.platform.url(service), timeout=HTTP_TIMEOUT)

    # one command ----------------------------------------------------------------------------

    async def send(self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send a command; its JSON answer if acknowledged (2xx), else `NotAcknowledged`."""
        try:
            r = await client.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never reached the service
            self.ledger.refused[kind] += 1
            raise NotAcknowledged(kind, repr(exc), reached=False, uncertain=False) from exc
        except httpx.TransportError as exc:  # sent, but the answer was lost
            self.ledger.uncertain[kind] += 1
            raise NotAcknowledged(kind, repr(exc), reached=True, uncertain=True) from exc
        if not r.is_success:
            # a 5xx may have been committed before the failure; a 4xx was refused by the rules
            uncertain = r.status_code >= 500
            (self.ledger.uncertain if uncertain else self.ledger.refused)[kind] += 1
            raise NotAcknowledged(kind, f"{r.status_code} {r.text[:300]}", reached=True, uncertain=uncertain)
        self.ledger.acknowledged_at.append(time.monotonic())
        body: dict[str, Any] = r.json()
        return body

    async def register(self, reg: httpx.AsyncClient) -> str:
        body = await self.send(
            reg, "register", "POST", "/residents", json=resident_body(next(self._numbers)), headers=self.grid_worker
        )
        rid = str(body["id"])
        self.ledger.registered[rid] = int(body["position"])
        return rid

    async def apply(self, jobs: httpx.AsyncClient, job_id: str, rid: str) -> str:
        resident = token_for(self.platform.keys, "resident", [], subject=f"res-{rid}", resident_id=rid)
        body = await self.send(
            jobs, "apply", "POST", f"/jobs/{job_id}/applications", json={"resident_id": rid}, headers=resident
        )
        self.ledger.applications.add(str(body["id"]))
        return str(body["id"])

    async def hire(
        self, jobs: httpx.AsyncClient, job_id: str, rid: str, requeue: Callable[[], None] = lambda: None
    ) -> None:
        """Apply, shortlist, interview, offer, hire: the hire is the command the checks follow.

        `requeue` is called when the application never reached jobs (the resident may try again).
        """
        try:
            app_id = await self.apply(jobs, job_id, rid)
        except NotAcknowledged as exc:
            if not exc.reached:
                requeue()
            raise
        for step in ("shortlist", "interview", "offer"):
            await self.send(jobs, step, "POST", f"/applications/{app_id}/{step}", json={}, headers=self.partner)
            self.ledger.other += 1
        await self.send(jobs, "hire", "POST", f"/applications/{app_id}/hire", headers=self.partner)
        self.ledger.hired[rid] = Hire(rid, app_id, job_id)

    async def move_out(self, reg: httpx.AsyncClient, rid: str) -> None:
        await self.send(
            reg,
            "move_out",
            "POST",
            f"/residents/{rid}/move-out",
            json={"reason": "moved to another city"},
            headers=self.grid_worker,
        )
        self.ledger.moved_out.add(rid)

    # set-up --------------------------------------------------------------------------------

    async def setup(self, jobs_know: Callable[[list[str]], Awaitable[bool]]) -> None:
        """Areas, an approved employer known to jobs, postings, and the pools of residents.

        `jobs_know(ids)`: whether jobs' resident directory holds all these residents.
        """
        async with self.http("registration") as reg, self.http("jobs") as jobs:
            r = await reg.post("/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
            assert r.status_code == 200, r.text
            admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
            for code, level, parent in AREAS:
                area = {"code": code, "name": f"area {code}", "level": level, "parent_code": parent}
                await self.send(reg, "area", "POST", "/areas", json=area, headers=admin)
                self.ledger.other += 1
            partner = {"name": "花艺加工厂", "kind": "employer", "credit_code": CREDIT_CODE, "area_code": COMMUNITY}
            pid = (await self.send(reg, "partner", "POST", "/partners", json=partner, headers=admin))["id"]
            key = (await self.send(reg, "approve", "POST", f"/partners/{pid}/approve", headers=admin))["api_key"]
            self.ledger.other += 2
            self.partner = {"X-API-Key": key}
            await until(lambda: _key_works(jobs, self.partner), "jobs to accept the employer's API key")
            for _ in range(self.clients + 1):
                body = await self.send(jobs, "posting", "POST", "/jobs", json=posting_body(500), headers=self.partner)
                self.postings.append(str(body["id"]))
                self.ledger.other += 1
            hires, moves = self._sizes
            pool = [await self.register(reg) for _ in range(hires + moves)]
            await until(lambda: jobs_know(pool), "jobs to know the pooled residents")
            self.hire_pool = pool[:hires]
            for rid in pool[hires:]:
                self.move_pool_applications[rid] = await self.apply(jobs, self.postings[-1], rid)
            self.move_pool = list(self.move_pool_applications.items())

    # load ------------------------------------------------------------------------------------

    def load(self, limit: int = 500, pace: float = 0.4) -> Load:
        """Clients pausing `pace` seconds between commands (about 10 commands/s in all, whatever
        the faults), stopped by the test or after `limit` acknowledged commands."""
        return Load(self, limit=limit, pace=pace)


async def _key_works(jobs: httpx.AsyncClient, partner: dict[str, str]) -> bool:
    return (await jobs.get("/courses", headers=partner)).status_code == 200


async def until(predicate: Callable[[], Awaitable[bool]], what: str, timeout: float = SETUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"set-up: waited {timeout:.0f}s for {what}")
        await asyncio.sleep(0.5)


class Load:
    """A few clients sending commands one after another until stopped, or `limit` acknowledged.

    The pace holds whether commands are acknowledged or not, so a fault lasting
    longer sees more commands, not a load that runs ahead and ends during it.

    Every eighth operation hires a pooled resident and every eighth moves one out
    while the pools last; the others register new residents. A client whose command
    was not acknowledged goes on with the next operation; a pooled resident whose
    first command never reached the service goes back to the pool.
    """

    def __init__(self, world: World, *, limit: int, pace: float) -> None:
        self.world = world
        self.limit = limit
        self.pace = pace
        self.started = time.monotonic()
        self._stop = asyncio.Event()
        self._plan = self._operations()
        self._tasks: list[asyncio.Task[None]] = []

    def _operations(self) -> Iterator[str]:
        for i in itertools.count():
            if i % 8 == 2 and self.world.hire_pool:
                yield "hire"
            elif i % 8 == 6 and self.world.move_pool:
                yield "move_out"
            else:
                yield "register"

    @property
    def done(self) -> bool:
        return self._stop.is_set() or self.world.ledger.acknowledged_since(self.started) >= self.limit

    async def _client(self, n: int) -> None:
        w = self.world
        job_id = w.postings[n]
        async with w.http("registration") as reg, w.http("jobs") as jobs:
            while not self.done:
                with contextlib.suppress(NotAcknowledged):
                    await self._one(next(self._plan), reg, jobs, job_id)
                await asyncio.sleep(self.pace)

    async def _one(self, op: str, reg: httpx.AsyncClient, jobs: httpx.AsyncClient, job_id: str) -> None:
        w = self.world
        if op == "register":
            await w.register(reg)
            return
        pool: list[Any] = w.hire_pool if op == "hire" else w.move_pool
        if not pool:  # another client took the last one
            return
        item = pool.pop()
        try:
            if op == "hire":
                await w.hire(jobs, job_id, item, requeue=lambda: pool.insert(0, item))
            else:
                await w.move_out(reg, item[0])
        except NotAcknowledged as exc:
            if op == "move_out" and not exc.reached:
                pool.insert(0, item)
            raise

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        self.started = time.monotonic()
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.world.clients)]
        try:
            yield self
        finally:
            self._stop.set()
            await asyncio.gather(*self._tasks)

    async def acknowledged(self, count: int, *, since: float | None = None, timeout: float = 120.0) -> None:
        """Wait until `count` commands of this load were acknowledged (since a moment)."""
        ledger = self.world.ledger
        since = self.started if since is None else since
        deadline = time.monotonic() + timeout
        while ledger.acknowledged_since(since) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"only {ledger.acknowledged_since(since)} of {count} commands acknowledged within {timeout:.0f}s "
                    f"(refused {dict(ledger.refused)}, uncertain {dict(ledger.uncertain)})"
                )
            if all(t.done() for t in self._tasks):
                for t in self._tasks:
                    t.result()  # a client's own error
                raise AssertionError(
                    f"the load stopped at its cap of {self.limit} acknowledged commands before {count} more"
                )
            await asyncio.sleep(0.1)
