"""What a projection has applied, per stream: read-your-writes without polling per reader.

A command answers with the log position of its event; a query with `?after=`
waits until the read model has applied that event's stream version. Where the
projection runs in this process, its commits wake the waiting readers at once;
where another process runs it (a worker), one task polls the database for every
waiting stream at once, every 10 ms while anyone waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from doorstep_shared.db import Database
from doorstep_shared.eventstore import CoreTables

log = logging.getLogger("doorstep.projections")


class AppliedVersions:
    def __init__(
        self, db: Database, tables: CoreTables, projection: str, *, local: Callable[[], bool], remember: int = 50_000
    ) -> None:
        self.db = db
        self.projection = projection
        self.local = local  # whether the projection is applied in this process now
        self.remember = remember
        self.remote_poll_interval = 0.01
        self._recent: OrderedDict[str, int] = OrderedDict()  # versions committed here lately
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self._poller: asyncio.Task[None] | None = None
        # built once: constructing a statement costs more than running it on SQLite
        t = tables.projection_streams
        self._one = select(t.c.version).where(
            t.c.projection == bindparam("projection"), t.c.stream_id == bindparam("stream_id")
        )
        self._many = select(t.c.stream_id, t.c.version).where(
            t.c.projection == bindparam("projection"), t.c.stream_id.in_(bindparam("stream_ids", expanding=True))
        )

    async def load(self, session: AsyncSession | AsyncConnection, keys: set[str]) -> dict[str, int]:
        """The applied versions of `keys` (absent: none applied), as `session` sees them."""
        if not keys:
            return {}
        out: dict[str, int] = {}
        key_list = list(keys)
        for i in range(0, len(key_list), 500):
            params = {"projection": self.projection, "stream_ids": key_list[i : i + 500]}
            rows = await session.execute(self._many, params)
            out.update({r.stream_id: r.version for r in rows})
        return out

    async def version(self, stream_key: str, conn: AsyncConnection | None = None) -> int:
        """The version of a stream the projection has applied (0: none); on `conn` if given."""
        if conn is None:
            async with self.db.engine.connect() as c:
                return await self.version(stream_key, c)
        params = {"projection": self.projection, "stream_id": stream_key}
        return (await conn.execute(self._one, params)).scalar() or 0

    async def reached(self, stream_key: str, version: int, conn: AsyncConnection | None = None) -> bool:
        return self._recent.get(stream_key, 0) >= version or await self.version(stream_key, conn) >= version

    def note(self, stream_key: str, version: int) -> None:
        """Record a committed stream version and wake the readers it satisfies."""
        self._recent[stream_key] = version
        self._recent.move_to_end(stream_key)
        if len(self._recent) > self.remember:
            self._recent.popitem(last=False)
        self._wake(stream_key, version)

    def forget(self) -> None:
        """The read model was cleared: what was applied lately no longer holds."""
        self._recent.clear()

    def _wake(self, stream_key: str, version: int) -> None:
        for wanted, future in self._waiters.get(stream_key, ()):
            if wanted <= version and not future.done():
                future.set_result(None)

    async def wait(self, stream_key: str, version: int, timeout: float, *, checked: bool = False) -> bool:
        """Wait until the projection has applied `version` of a stream; False on timeout.

        Where the projection is applied here, the poll runs once a second only, in
        case another replica applied the event. `checked`: the caller has just read
        the applied version from the database.
        """
        if not checked and await self.reached(stream_key, version):
            return True
        if self._recent.get(stream_key, 0) >= version:  # committed here while the caller looked
            return True
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (version, future)
        self._waiters.setdefault(stream_key, []).append(entry)
        if self._poller is None or self._poller.done():
            self._poller = loop.create_task(self._poll(), name=f"projection-{self.projection}-waiters")
        try:
            done, _ = await asyncio.wait({future}, timeout=timeout)
            return bool(done)
        finally:
            waiting = self._waiters.get(stream_key, [])
            if entry in waiting:
                waiting.remove(entry)
            if not waiting:
                self._waiters.pop(stream_key, None)

    async def refresh(self) -> None:
        """Wake the readers that the database now satisfies (a rebuilt read model was swapped in)."""
        keys = set(self._waiters)
        if not keys:
            return
        async with self.db.engine.connect() as conn:
            versions = await self.load(conn, keys)
        for key, version in versions.items():
            self.note(key, version)

    async def _poll(self) -> None:
        """Wake readers from the versions in the database, one query for all of them."""
        while self._waiters:
            await asyncio.sleep(1.0 if self.local() else self.remote_poll_interval)
            keys = set(self._waiters)
            if not keys:
                return
            try:
                async with self.db.engine.connect() as conn:  # a Core connection: no ORM session per poll
                    versions = await self.load(conn, keys)
            except Exception:  # the database is briefly unavailable: readers time out instead
                log.warning("projection %s: polling applied versions failed", self.projection, exc_info=True)
                continue
            for key, version in versions.items():
                self._wake(key, version)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
