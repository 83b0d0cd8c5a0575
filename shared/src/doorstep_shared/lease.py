"""A lease in the service's own database: one holder at a time, taken over when it dies.

Two workers of one service may run at once (a rolling restart, a second host):
both would publish the same events, in interleaved order, if nothing chose one.
The holder renews its lease well before it expires and checks, before each
piece of work, that its lease is still in force; a holder that died (kill -9,
a lost host) stops renewing and another takes over once the lease expires.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from doorstep_shared.db import Database
from doorstep_shared.domain import utcnow


class Lease:
    def __init__(self, db: Database, table: Table, name: str, *, ttl: float = 10.0, holder: str | None = None) -> None:
        self.db = db
        self.table = table
        self.name = name
        self.ttl = timedelta(seconds=ttl)
        self.holder = holder or uuid.uuid4().hex
        self._until: datetime | None = None  # in force until then, by our own clock, with margin
        self._acquired: datetime | None = None

    @property
    def held(self) -> bool:
        """Whether this holder may act now without asking the database."""
        return self._until is not None and utcnow() < self._until

    def due(self) -> bool:
        """Renew when a third of the lease has run out (or it is not held)."""
        return self._acquired is None or self._until is None or utcnow() > self._acquired + self.ttl / 3

    async def acquire(self) -> bool:
        """Take or renew the lease; False when another holder's lease is in force.

        One statement decides, on both backends: insert the lease, or take it over
        when it is ours or has expired; a row comes back only if we hold it now.
        """
        now = utcnow()
        t = self.table
        async with self.db.transaction() as s:
            dialect = s.get_bind().dialect.name
            insert = postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)
            stmt = (
                insert.values(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                .on_conflict_do_update(
                    index_elements=[t.c.name],
                    set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
                    where=(t.c.holder == self.holder) | (t.c.expires_at < now),
                )
                .returning(t.c.holder)
            )
            won = (await s.execute(stmt)).first() is not None
        if not won:
            self._until = None
            return False
        # act only while a quarter of the lease is left: a slow clock or a paused process
        # must stop before another holder may start
        self._until = now + self.ttl * 3 / 4
        self._acquired = now
        return True

    async def release(self) -> None:
        """Give the lease up (a clean stop), so another holder need not wait for it to expire."""
        t = self.table
        if self._until is None:
            return
        self._until = None
        async with self.db.transaction() as s:
            await s.execute(t.delete().where(t.c.name == self.name, t.c.holder == self.holder))
