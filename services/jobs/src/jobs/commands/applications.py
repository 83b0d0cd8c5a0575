"""Applying for a job and moving the application along: shortlist, interview, offer, hire."""

from __future__ import annotations

from typing import ClassVar

from doorstep_shared.commands import Command, CommandAccepted, Target
from pydantic import Field

from jobs.commands.fields import Note, Reason, ResidentRef
from jobs.domain.applications import ApplicationStatus
from jobs.domain.postings import PostingStatus


class ApplyForJob(Command):
    job_id: Target
    resident_id: ResidentRef
    fair_id: str | None = Field(None, max_length=36, description="the fair where the resident met the employer")
    note: Note = ""


class ApplicationStep(Command):
    """One step forward; `to` is the status it moves the application to."""

    to: ClassVar[str]
    application_id: Target
    note: Note = ""


class ShortlistApplication(ApplicationStep):
    to = "shortlisted"


class RecordInterview(ApplicationStep):
    to = "interviewed"


class MakeOffer(ApplicationStep):
    to = "offered"


class HireApplicant(Command):
    application_id: Target


class RejectApplication(Command):
    application_id: Target
    reason: Reason = ""


class WithdrawApplication(Command):
    application_id: Target
    reason: Reason = ""


class ApplicationAccepted(CommandAccepted):
    status: ApplicationStatus


class HireAccepted(ApplicationAccepted):
    job_status: PostingStatus = Field(description="`filled` when this hire took the job's last opening")
