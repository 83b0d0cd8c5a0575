"""The match index follows the committed read models.

Projection handlers note what changed on their session; the feed hands those
changes to the index only once the transaction commits, and drops them if it rolls
back (a failed batch leaves the index as it was). A rebuild writes a shadow read
model whose changes the feed ignores: the index reloads from it after the swap.

The listeners are the feed's own, attached to each session that notes a change,
so nothing outside a running jobs service is touched.
"""

from __future__ import annotations

from collections.abc import Callable

from doorstep_shared.shadow import REPLAYING
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from jobs.domain.matching import JobFacts, MatchIndex, ResidentFacts
from jobs.views.postings import open_jobs
from jobs.views.residents import all_residents

Change = Callable[[MatchIndex], None]


class IndexFeed:
    def __init__(self, index: MatchIndex) -> None:
        self.index = index
        self._pending = f"jobs.index_feed.{id(self)}.pending"
        self._listening = f"jobs.index_feed.{id(self)}.listening"

    def note(self, session: AsyncSession, change: Change) -> None:
        """Apply `change` to the index once the session's transaction commits."""
        sync = session.sync_session
        if sync.info.get(REPLAYING):
            return
        if not sync.info.get(self._listening):
            event.listen(sync, "after_commit", self._committed)
            event.listen(sync, "after_rollback", self._rolled_back)
            sync.info[self._listening] = True
        sync.info.setdefault(self._pending, []).append(change)

    def put_job(self, session: AsyncSession, facts: JobFacts) -> None:
        self.note(session, lambda index: index.put_job(facts))

    def drop_job(self, session: AsyncSession, job_id: str) -> None:
        self.note(session, lambda index: index.drop_job(job_id))

    def put_resident(self, session: AsyncSession, facts: ResidentFacts) -> None:
        self.note(session, lambda index: index.put_resident(facts))

    def drop_resident(self, session: AsyncSession, resident_id: str) -> None:
        self.note(session, lambda index: index.drop_resident(resident_id))

    def _committed(self, session: Session) -> None:
        for change in session.info.pop(self._pending, []):
            change(self.index)

    def _rolled_back(self, session: Session) -> None:
        session.info.pop(self._pending, None)

    async def load(self, session: AsyncSession) -> None:
        """Fill the index from the read models (at start-up; the projections keep it current)."""
        for row in await all_residents(session):
            self.index.put_resident(ResidentFacts.from_row(row))
        for row in await open_jobs(session):
            self.index.put_job(JobFacts.from_row(row))

    async def reload(self, session: AsyncSession) -> None:
        """Refill the index from a rebuilt read model (the rebuild did not feed it)."""
        self.index.clear()
        await self.load(session)
