"""Job-seeker leads: a grid worker's visit found a resident who wants a job.

The lead's id is derived from the visit, so a redelivered finding cannot open
a second lead.
"""

from __future__ import annotations

import uuid
from typing import Literal, get_args

from doorstep_contracts.jobs import JobSeekerLeadClosed, JobSeekerLeadOpened
from doorstep_shared.domain import Aggregate, Event, InvalidInput, require_state

LEAD_NAMESPACE = uuid.UUID("6f1d7a52-3c1e-4c55-9a51-6a0d2f0b7c11")
LeadOutcome = Literal["hired", "enrolled", "not_interested", "unreachable", "other"]
LeadStatus = Literal["open", "closed"]
OUTCOMES: tuple[str, ...] = get_args(LeadOutcome)


def lead_id_for(visit_id: str) -> str:
    return str(uuid.uuid5(LEAD_NAMESPACE, f"visit:{visit_id}"))


class JobSeekerLead(Aggregate):
    stream_type = "leads"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.grid_code = ""
        self.resident_id = ""

    @classmethod
    def open(cls, *, resident_id: str, grid_code: str, grid_worker_id: str, visit_id: str, note: str) -> JobSeekerLead:
        lead = cls(lead_id_for(visit_id))
        lead._record(JobSeekerLeadOpened(lead.id, resident_id, grid_code, grid_worker_id, visit_id, note))
        return lead

    def close(self, outcome: str, note: str) -> None:
        require_state(self.status, {"open"}, "close the lead")
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
        self._record(JobSeekerLeadClosed(self.id, outcome, note))

    def apply(self, event: Event) -> None:
        match event:
            case JobSeekerLeadOpened():
                self.status = "open"
                self.grid_code = event.grid_code
                self.resident_id = event.resident_id
            case JobSeekerLeadClosed():
                self.status = "closed"
