"""What the service does itself when registration says a resident is gone."""

from __future__ import annotations

from doorstep_shared.commands import Command
from pydantic import Field


class ReleaseResident(Command):
    """A resident moved out or was erased: withdraw her open applications and cancel
    her enrolments (their seats go to the waiting lists)."""

    resident_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(max_length=200)
