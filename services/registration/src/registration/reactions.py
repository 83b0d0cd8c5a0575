"""Jobs' facts that change a resident's record: a hire, a completed course.

Each becomes one of registration's own commands, run by its handler in the
transaction that marks the event applied (a redelivered hire changes nothing
twice). The consumer group keeps its name, so a running deployment resumes
where it stopped.
"""

from __future__ import annotations

from doorstep_contracts.jobs import ApplicationHired, EnrolmentCompleted
from doorstep_shared.messaging import Envelope
from doorstep_shared.reactions import Reactions

from registration.commands import RecordHire, RecordVerifiedSkill

JOBS_REACTIONS = "jobs-reactions"


def build_reactions() -> Reactions:
    reactions = Reactions(JOBS_REACTIONS, ["jobs.applications", "jobs.enrolments"])

    @reactions.react(ApplicationHired)
    def hired(event: ApplicationHired, env: Envelope) -> RecordHire:
        return RecordHire(resident_id=event.resident_id, job_id=event.job_id)

    @reactions.react(EnrolmentCompleted)
    def course_completed(event: EnrolmentCompleted, env: Envelope) -> RecordVerifiedSkill:
        return RecordVerifiedSkill(
            resident_id=event.resident_id, skill=event.skill, certificate_no=event.certificate_no
        )

    return reactions
