"""The case aggregate: a report on the city-management loop, from collection to evaluation.

Rules live in the methods; state changes only in `apply`, so replaying a
stream rebuilds the object. Every method takes `now`: nothing here reads a clock.
The service's other aggregates, a visit and a mediated dispute, have their own
modules and are named here too, so `domain.model` holds every aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from doorstep_contracts.grid_reports import (
    CaseAccepted,
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseFeedbackGiven,
    CaseMerged,
    CasePublicSummarySet,
    CaseRejected,
    CaseReopened,
    CaseReported,
    CaseResolved,
    CaseStarted,
    IncentiveEarned,
)
from doorstep_shared.domain import Aggregate, Conflict, Event, Forbidden, InvalidInput, require_state

from grid_reports.domain.dispute import Dispute
from grid_reports.domain.rules import (
    CATEGORIES,
    PRIORITIES,
    SOURCES,
    STEP_OF_STATE,
    Policy,
    check_place,
    check_public_text,
    clean_text,
    escalation_target,
    kind_of,
    require_choice,
)
from grid_reports.domain.visit import Visit

__all__ = ["SATISFIED_FROM", "Case", "Dispute", "Visit", "escalation_of"]

SATISFIED_FROM = 3  # satisfaction 1–5: 3 and above closes the case, below reopens it


def escalation_of(
    *,
    case_id: str,
    category: str,
    step: str,
    level: str,
    grid_code: str | None,
    community_code: str,
    due_at: datetime,
    now: datetime,
    policy: Policy,
) -> CaseEscalated | None:
    """The escalation a case past `due_at` earns, or None when none is due.

    The next level gets the same step's time limit again, so a case nobody at
    that level handles keeps climbing until it reaches the district.
    """
    if due_at > now:
        return None
    target = escalation_target(level, grid_code, community_code)
    if target is None:
        return None
    to_level, area_code = target
    return CaseEscalated(
        case_id=case_id,
        from_level=level,
        to_level=to_level,
        area_code=area_code,
        step=step,
        overdue_since=due_at,
        escalated_at=now,
        due_at=policy.due(category, step, now),
    )


class Case(Aggregate):
    """A report on its way from collection to evaluation (the national city-management loop)."""

    stream_type = "cases"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.state = "new"
        self.category = ""
        self.source = ""
        self.reporter_id: str | None = None
        self.community_code = ""
        self.grid_code: str | None = None
        self.assignee_id: str | None = None
        self.due_at: datetime | None = None
        self.feedback_due_at: datetime | None = None
        self.level = "grid"
        self.satisfaction: int | None = None

    @property
    def kind(self) -> str:
        return kind_of(self.state)

    @property
    def area_code(self) -> str:
        """The most specific area the case belongs to (its grid, else its community)."""
        return self.grid_code or self.community_code

    @classmethod
    def report(
        cls,
        case_id: str,
        *,
        category: str,
        source: str,
        reporter_id: str | None,
        community_code: str,
        grid_code: str | None,
        description: str,
        now: datetime,
        policy: Policy,
        building: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        address: str | None = None,
        photos: Sequence[str] = (),
        priority: str = "normal",
        channel: str = "api",
        visit_id: str | None = None,
    ) -> Case:
        require_choice(category, CATEGORIES, "category")
        require_choice(source, SOURCES, "source")
        require_choice(priority, PRIORITIES, "priority")
        check_place(community_code, grid_code)
        if (latitude is None) != (longitude is None):
            raise InvalidInput("give both latitude and longitude, or neither", field="latitude")
        if latitude is not None and not -90 <= latitude <= 90:
            raise InvalidInput("latitude must be between -90 and 90", field="latitude")
        if longitude is not None and not -180 <= longitude <= 180:
            raise InvalidInput("longitude must be between -180 and 180", field="longitude")
        case = cls(case_id)
        case._record(
            CaseReported(
                case_id=case_id,
                category=category,
                source=source,
                reporter_id=reporter_id,
                community_code=community_code,
                grid_code=grid_code,
                building=clean_text(building, "building", max_length=40, required=False) if building else None,
                latitude=latitude,
                longitude=longitude,
                address=clean_text(address, "address", max_length=200, required=False) if address else None,
                description=clean_text(description, "description", max_length=2000),
                photos=policy.check_photos(photos),
                priority=priority,
                channel=channel,
                visit_id=visit_id,
                reported_at=now,
                due_at=policy.due(category, "accept", now),
            )
        )
        return case

    # dispatch --------------------------------------------------------------------

    def accept(self, *, by: str, now: datetime, policy: Policy) -> None:
        require_state(self.state, {"reported"}, "accept")
        self._record(CaseAccepted(self.id, by, now, policy.due(self.category, "assign", now)))

    def reject(self, *, by: str, reason: str, now: datetime) -> None:
        require_state(self.state, {"reported"}, "reject")
        self._record(CaseRejected(self.id, by, clean_text(reason, "reason", max_length=500), now))

    def merge_into(self, primary: Case, *, by: str, now: datetime) -> None:
        """A duplicate joins an open case about the same problem and ends here."""
        require_state(self.state, {"reported", "accepted"}, "merge")
        if primary.id == self.id:
            raise InvalidInput("a case cannot be merged into itself", field="into_case_id")
        if primary.kind != "open":
            raise Conflict(
                f"case {primary.id} is {primary.state}; merge into an open case",
                field="into_case_id",
            )
        if primary.community_code != self.community_code:
            raise InvalidInput("duplicates must be in the same community", field="into_case_id")
        self._record(CaseMerged(self.id, primary.id, by, now))

    def assign(self, *, assignee_id: str, by: str, now: datetime, policy: Policy) -> None:
        """Dispatch to a grid worker; a re-assignment keeps the running clock."""
        require_state(self.state, {"accepted", "assigned", "reopened"}, "assign")
        assignee_id = clean_text(assignee_id, "assignee_id", max_length=64)
        if self.state == "assigned" and assignee_id == self.assignee_id:
            raise Conflict(f"case is already assigned to {assignee_id}", field="assignee_id")
        if self.state == "accepted" or self.due_at is None:
            due = policy.due(self.category, "handle", now)
        else:
            due = self.due_at
        self._record(CaseAssigned(self.id, assignee_id, by, now, due))

    # handling --------------------------------------------------------------------

    def _require_assignee(self, actor: str) -> None:
        if actor != self.assignee_id:
            raise Forbidden("only the assigned grid worker handles this case", field="assignee_id")

    def start(self, *, by: str, now: datetime) -> None:
        require_state(self.state, {"assigned", "reopened"}, "start")
        if self.assignee_id is None:
            raise Conflict("assign the case before starting it", field="status")
        self._require_assignee(by)
        self._record(CaseStarted(self.id, by, now))

    def resolve(self, *, by: str, resolution: str, photos: Sequence[str], now: datetime, policy: Policy) -> None:
        require_state(self.state, {"in_progress"}, "resolve")
        self._require_assignee(by)
        self._record(
            CaseResolved(
                self.id,
                by,
                clean_text(resolution, "resolution", max_length=2000),
                policy.check_photos(photos),
                now,
                now + policy.feedback_window,
            )
        )

    # feedback, verification, evaluation --------------------------------------------

    def give_feedback(
        self, *, reporter_id: str, satisfaction: int, comment: str, now: datetime, policy: Policy
    ) -> None:
        """The reporter judges the fix: satisfied closes the case, unsatisfied reopens it."""
        require_state(self.state, {"resolved"}, "give feedback")
        if self.reporter_id is None or reporter_id != self.reporter_id:
            raise Forbidden("only the reporter gives feedback on a case", field="reporter_id")
        if not 1 <= satisfaction <= 5:
            raise InvalidInput("satisfaction is 1 to 5", field="satisfaction")
        comment = clean_text(comment, "comment", max_length=1000, required=False)
        self._record(CaseFeedbackGiven(self.id, reporter_id, satisfaction, comment, now))
        if satisfaction >= SATISFIED_FROM:
            self._close(by=reporter_id, now=now, satisfaction=satisfaction, policy=policy)
        else:
            reason = comment or f"reporter not satisfied ({satisfaction}/5)"
            self._record(CaseReopened(self.id, reason, now, policy.due(self.category, "rework", now)))

    def close(self, *, by: str, now: datetime, policy: Policy) -> None:
        """Staff verify and close a resolved case once the reporter's feedback window has passed."""
        require_state(self.state, {"resolved"}, "close")
        if self.reporter_id is not None and self.feedback_due_at is not None and now < self.feedback_due_at:
            raise Conflict(
                f"waiting for the reporter's feedback until {self.feedback_due_at.isoformat()}",
                field="status",
            )
        self._close(by=by, now=now, satisfaction=None, policy=policy)

    def _close(self, *, by: str, now: datetime, satisfaction: int | None, policy: Policy) -> None:
        self._record(CaseClosed(self.id, by, now, satisfaction))
        points = policy.points_for(self.source)
        if points and self.reporter_id:
            self._record(IncentiveEarned(self.id, self.reporter_id, self.source, points, self.community_code))

    def set_public_summary(self, *, text: str, by: str, now: datetime) -> None:
        """What the public listing says of the case; the reporter's own words never go there."""
        text = clean_text(text, "text", max_length=500)
        check_public_text(text, "text")
        self._record(CasePublicSummarySet(self.id, text, by, now))

    # deadlines ---------------------------------------------------------------------

    def escalate(self, *, now: datetime, policy: Policy) -> None:
        """Move the case one level up the area tree when its current step is overdue."""
        step = STEP_OF_STATE.get(self.state)
        if step is None or self.due_at is None:
            raise Conflict(f"a {self.state} case has no deadline", field="status")
        event = escalation_of(
            case_id=self.id,
            category=self.category,
            step=step,
            level=self.level,
            grid_code=self.grid_code,
            community_code=self.community_code,
            due_at=self.due_at,
            now=now,
            policy=policy,
        )
        if event is None:
            raise Conflict("the case is within its deadline or already at the district", field="due_at")
        self._record(event)

    def apply(self, event: Event) -> None:
        match event:
            case CaseReported():
                self.state = "reported"
                self.category, self.source = event.category, event.source
                self.reporter_id = event.reporter_id
                self.community_code, self.grid_code = event.community_code, event.grid_code
                self.level = "grid" if event.grid_code else "community"
                self.due_at = event.due_at
            case CaseAccepted():
                self.state, self.due_at = "accepted", event.due_at
            case CaseRejected():
                self.state, self.due_at = "rejected", None
            case CaseMerged():
                self.state, self.due_at = "merged", None
            case CaseAssigned():
                self.state, self.assignee_id, self.due_at = (
                    "assigned",
                    event.assignee_id,
                    event.due_at,
                )
            case CaseStarted():
                self.state = "in_progress"
            case CaseResolved():
                self.state, self.due_at = "resolved", None
                self.feedback_due_at = event.feedback_due_at
            case CaseFeedbackGiven():
                self.satisfaction = event.satisfaction
            case CaseReopened():
                self.state, self.due_at = "reopened", event.due_at
            case CaseClosed():
                self.state = "closed"
            case CaseEscalated():
                self.level, self.due_at = event.to_level, event.due_at
            case IncentiveEarned() | CasePublicSummarySet():
                pass
