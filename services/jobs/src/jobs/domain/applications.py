"""Applications: applied → shortlisted → interviewed → offered → hired, or rejected / withdrawn.

Each step may only follow the one before it; anything else is a 409. Hiring
also fills an opening of the posting (the handler does both in one transaction).
"""

from __future__ import annotations

from typing import Literal

from doorstep_contracts.jobs import (
    ApplicationAdvanced,
    ApplicationHired,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
)
from doorstep_shared.domain import Aggregate, Event, require_state

ApplicationStatus = Literal["applied", "shortlisted", "interviewed", "offered", "hired", "rejected", "withdrawn"]
STEPS = {"shortlisted": "applied", "interviewed": "shortlisted", "offered": "interviewed"}
OPEN_STATES = frozenset({"applied", "shortlisted", "interviewed", "offered"})


class Application(Aggregate):
    stream_type = "applications"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.job_id = ""
        self.resident_id = ""
        self.partner_id: str | None = None
        self.community_code = ""
        self.job_community_code = ""
        self.fair_id: str | None = None

    @classmethod
    def submit(
        cls,
        application_id: str,
        *,
        job_id: str,
        resident_id: str,
        partner_id: str | None,
        community_code: str,
        job_community_code: str,
        fair_id: str | None,
        applied_by: str,
        on_behalf: bool,
        note: str = "",
    ) -> Application:
        app = cls(application_id)
        app._record(
            ApplicationSubmitted(
                application_id=application_id,
                job_id=job_id,
                resident_id=resident_id,
                partner_id=partner_id,
                community_code=community_code,
                job_community_code=job_community_code,
                fair_id=fair_id,
                applied_by=applied_by,
                on_behalf=on_behalf,
                note=note,
            )
        )
        return app

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def advance(self, to: str, note: str = "") -> None:
        """Move one step forward (shortlist, interview, offer)."""
        require_state(self.status, {STEPS[to]}, f"mark the application {to}")
        self._record(ApplicationAdvanced(self.id, to, note))

    def hire(self) -> None:
        require_state(self.status, {"offered"}, "hire")
        self._record(
            ApplicationHired(
                application_id=self.id,
                job_id=self.job_id,
                resident_id=self.resident_id,
                partner_id=self.partner_id,
                community_code=self.community_code,
                fair_id=self.fair_id,
            )
        )

    def reject(self, reason: str) -> None:
        require_state(self.status, OPEN_STATES, "reject")
        self._record(ApplicationRejected(self.id, reason))

    def withdraw(self, reason: str) -> None:
        require_state(self.status, OPEN_STATES, "withdraw")
        self._record(ApplicationWithdrawn(self.id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case ApplicationSubmitted():
                self.status = "applied"
                self.job_id = event.job_id
                self.resident_id = event.resident_id
                self.partner_id = event.partner_id
                self.community_code = event.community_code
                self.job_community_code = event.job_community_code
                self.fair_id = event.fair_id
            case ApplicationAdvanced():
                self.status = event.status
            case ApplicationHired():
                self.status = "hired"
            case ApplicationRejected():
                self.status = "rejected"
            case ApplicationWithdrawn():
                self.status = "withdrawn"
