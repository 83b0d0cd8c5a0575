"""Job-seeker leads: opened from a grid worker's visit finding, closed with an outcome."""

from __future__ import annotations

from doorstep_shared.commands import Command, Target
from doorstep_shared.inputs import Text
from pydantic import Field

from jobs.commands.fields import Note
from jobs.domain.leads import LeadOutcome


class CloseLead(Command):
    lead_id: Target
    outcome: LeadOutcome
    note: Note = ""


class OpenLead(Command):
    """Given by the service itself when a visit found a resident who wants a job."""

    resident_id: str = Field(min_length=1, max_length=64)
    grid_code: str = Field(max_length=64)
    grid_worker_id: str = Field(max_length=200)
    visit_id: str = Field(min_length=1, max_length=64)
    note: Text = ""
