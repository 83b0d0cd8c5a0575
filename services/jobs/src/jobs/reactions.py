"""Other services' facts answered with jobs' own commands.

- A resident who moved out, or whose data was erased, in registration: her open
  applications are withdrawn and her enrolments cancelled (`ReleaseResident`).
- A grid worker's visit found a resident who wants a job, in grid reports: a
  job-seeker lead is opened for the grid (`OpenLead`), once per visit.

The consumer group keeps its name, `reactions`, so running deployments keep their offsets.
"""

from __future__ import annotations

from doorstep_contracts import grid_reports, registration
from doorstep_contracts.grid_reports import VisitFindingRecorded
from doorstep_contracts.registration import ResidentErased, ResidentMovedOut
from doorstep_shared.messaging import Envelope
from doorstep_shared.reactions import Reactions

from jobs.commands.leads import OpenLead
from jobs.commands.residents import ReleaseResident

WANTS_JOB = "wants_job"


def moved_out(event: ResidentMovedOut, env: Envelope) -> ReleaseResident:
    return ReleaseResident(resident_id=event.resident_id, reason="resident moved out")


def erased(event: ResidentErased, env: Envelope) -> ReleaseResident:
    return ReleaseResident(resident_id=event.resident_id, reason="resident data erased")


def visit_finding(event: VisitFindingRecorded, env: Envelope) -> OpenLead | None:
    if event.finding != WANTS_JOB or not event.resident_id:
        return None
    return OpenLead(
        resident_id=event.resident_id,
        grid_code=event.grid_code or "",
        grid_worker_id=event.grid_worker_id or "",
        visit_id=event.visit_id,
        note=event.note or "",
    )


def build_reactions() -> Reactions:
    r = Reactions("reactions", [f"{registration.SERVICE}.residents", f"{grid_reports.SERVICE}.visits"])
    r.react(ResidentMovedOut)(moved_out)
    r.react(ResidentErased)(erased)
    r.react(VisitFindingRecorded)(visit_finding)
    return r
