"""Partner training: courses with a capacity and a waiting list, enrolments with
attendance per session, and completion with a certificate.

The course owns the seats (so two enrolments can never take the last seat);
each enrolment owns its attendance and completion. When an enrolled resident
leaves, the head of the waiting list gets the seat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from doorstep_contracts.jobs import (
    AttendanceRecorded,
    CourseCancelled,
    CoursePublished,
    CourseSeatReleased,
    CourseSeatTaken,
    CourseWaitlistJoined,
    EnrolmentCancelled,
    EnrolmentCompleted,
    EnrolmentPromoted,
    EnrolmentRequested,
)
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput, require_state

CourseStatus = Literal["published", "cancelled"]
EnrolmentStatus = Literal["enrolled", "waitlisted", "completed", "cancelled"]


def parse_sessions(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sessions numbered from 1 in time order; each must end after it starts."""
    if not raw:
        raise InvalidInput("a course has at least one session", field="sessions")
    parsed = []
    for i, s in enumerate(raw):
        starts, ends = s["starts_at"], s["ends_at"]
        if not isinstance(starts, datetime) or not isinstance(ends, datetime):
            raise InvalidInput("sessions need starts_at and ends_at", field=f"sessions.{i}")
        if ends <= starts:
            raise InvalidInput("the session ends before it starts", field=f"sessions.{i}.ends_at")
        parsed.append((starts, ends, str(s.get("topic", ""))))
    parsed.sort()
    return [
        {"session_no": n, "starts_at": a.isoformat(), "ends_at": b.isoformat(), "topic": t}
        for n, (a, b, t) in enumerate(parsed, start=1)
    ]


class Course(Aggregate):
    stream_type = "courses"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.partner_id = ""
        self.community_code = ""
        self.skill = ""
        self.capacity = 0
        self.sessions = 0
        self.required_sessions = 0
        self.seats: dict[str, str] = {}
        self.waitlist: list[tuple[str, str]] = []

    @classmethod
    def publish(
        cls,
        course_id: str,
        *,
        partner_id: str,
        school_name: str,
        community_code: str,
        title: str,
        skill: str,
        sessions: list[dict[str, Any]],
        capacity: int,
        place: str,
        subsidy_fen: int,
        required_sessions: int | None,
    ) -> Course:
        if not skill.strip():
            raise InvalidInput("name the skill the course teaches", field="skill")
        if capacity <= 0:
            raise InvalidInput("capacity must be at least one", field="capacity")
        if subsidy_fen < 0:
            raise InvalidInput("the subsidy cannot be negative", field="subsidy_fen")
        numbered = parse_sessions(sessions)
        required = len(numbered) if required_sessions is None else required_sessions
        if not 1 <= required <= len(numbered):
            raise InvalidInput(
                f"required sessions must be between 1 and {len(numbered)}",
                field="required_sessions",
            )
        course = cls(course_id)
        course._record(
            CoursePublished(
                course_id,
                partner_id,
                school_name,
                community_code,
                title,
                skill.strip(),
                numbered,
                capacity,
                place,
                subsidy_fen,
                required,
            )
        )
        return course

    @property
    def residents(self) -> set[str]:
        return set(self.seats.values()) | {r for _, r in self.waitlist}

    def take_seat(self, enrolment_id: str, resident_id: str, *, waitlist: bool) -> str:
        """Give a seat, or a place on the waiting list; returns the enrolment's status."""
        require_state(self.status, {"published"}, "enrol")
        if resident_id in self.residents:
            raise Conflict("the resident is already enrolled or waiting", field="resident_id")
        if len(self.seats) < self.capacity:
            self._record(CourseSeatTaken(self.id, enrolment_id, resident_id))
            return "enrolled"
        if not waitlist:
            raise Conflict(
                f"the course is full ({self.capacity} seats); ask for the waiting list",
                field="waitlist",
            )
        self._record(CourseWaitlistJoined(self.id, enrolment_id, resident_id))
        return "waitlisted"

    def release(self, enrolment_id: str) -> str | None:
        """Free the enrolment's seat or waiting place; returns the promoted enrolment, if any."""
        promoted = None
        if enrolment_id in self.seats and self.waitlist:
            promoted = self.waitlist[0][0]
        elif enrolment_id not in self.seats and all(e != enrolment_id for e, _ in self.waitlist):
            return None
        self._record(CourseSeatReleased(self.id, enrolment_id, promoted))
        return promoted

    def cancel(self, reason: str) -> None:
        require_state(self.status, {"published"}, "cancel the course")
        self._record(CourseCancelled(self.id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case CoursePublished():
                self.status = "published"
                self.partner_id = event.partner_id
                self.community_code = event.community_code
                self.skill = event.skill
                self.capacity = event.capacity
                self.sessions = len(event.sessions)
                self.required_sessions = event.required_sessions
            case CourseSeatTaken():
                self.seats[event.enrolment_id] = event.resident_id
            case CourseWaitlistJoined():
                self.waitlist.append((event.enrolment_id, event.resident_id))
            case CourseSeatReleased():
                self.seats.pop(event.enrolment_id, None)
                self.waitlist = [w for w in self.waitlist if w[0] != event.enrolment_id]
                if event.promoted_enrolment_id is not None:
                    head = next(w for w in self.waitlist if w[0] == event.promoted_enrolment_id)
                    self.waitlist.remove(head)
                    self.seats[head[0]] = head[1]
            case CourseCancelled():
                self.status = "cancelled"


class Enrolment(Aggregate):
    stream_type = "enrolments"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.course_id = ""
        self.resident_id = ""
        self.partner_id = ""
        self.community_code = ""
        self.attended: set[int] = set()

    @classmethod
    def request(
        cls,
        enrolment_id: str,
        *,
        course: Course,
        resident_id: str,
        status: str,
        requested_by: str,
    ) -> Enrolment:
        e = cls(enrolment_id)
        e._record(
            EnrolmentRequested(
                enrolment_id,
                course.id,
                resident_id,
                course.partner_id,
                course.community_code,
                status,
                requested_by,
            )
        )
        return e

    @property
    def is_active(self) -> bool:
        return self.status in {"enrolled", "waitlisted"}

    def promote(self) -> None:
        require_state(self.status, {"waitlisted"}, "promote from the waiting list")
        self._record(EnrolmentPromoted(self.id, self.course_id))

    def record_attendance(self, session_no: int, present: bool, sessions: int) -> None:
        require_state(self.status, {"enrolled"}, "record attendance")
        if not 1 <= session_no <= sessions:
            raise InvalidInput(f"the course has sessions 1 to {sessions}", field="session_no")
        self._record(AttendanceRecorded(self.id, session_no, present))

    def complete(self, certificate_no: str, course: Course) -> None:
        require_state(self.status, {"enrolled"}, "complete")
        if not certificate_no.strip():
            raise InvalidInput("a completion needs the certificate number", field="certificate_no")
        if len(self.attended) < course.required_sessions:
            raise Conflict(
                f"attended {len(self.attended)} of the {course.required_sessions} sessions required",
                field="attendance",
            )
        self._record(
            EnrolmentCompleted(
                self.id,
                self.course_id,
                self.resident_id,
                course.skill,
                certificate_no.strip(),
                self.partner_id,
            )
        )

    def cancel(self, reason: str) -> None:
        require_state(self.status, {"enrolled", "waitlisted"}, "cancel the enrolment")
        self._record(EnrolmentCancelled(self.id, self.course_id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case EnrolmentRequested():
                self.status = event.status
                self.course_id = event.course_id
                self.resident_id = event.resident_id
                self.partner_id = event.partner_id
                self.community_code = event.community_code
            case EnrolmentPromoted():
                self.status = "enrolled"
            case AttendanceRecorded():
                if event.present:
                    self.attended.add(event.session_no)
                else:
                    self.attended.discard(event.session_no)
            case EnrolmentCompleted():
                self.status = "completed"
            case EnrolmentCancelled():
                self.status = "cancelled"
