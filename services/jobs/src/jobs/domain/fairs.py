"""Job fairs: monthly market days (the 20th), weekly special fairs (Wednesdays),
one-off community fairs. Recurring fairs are generated from an RFC 5545 RRULE,
one fair per occurrence, so each can be joined, signed up for or cancelled on its own.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal, get_args

from dateutil.rrule import rrulestr
from doorstep_contracts.jobs import (
    FairCancelled,
    FairEmployerJoined,
    FairResidentSignedUp,
    FairScheduled,
)
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput, require_state

from jobs.domain.schedule import minutes

FairKind = Literal["market_day", "special", "community"]
RecurringFairKind = Literal["market_day", "special"]
FairStatus = Literal["scheduled", "cancelled"]
FAIR_KINDS: tuple[str, ...] = get_args(FairKind)
DEFAULT_RULES: dict[str, str] = {"market_day": "FREQ=MONTHLY;BYMONTHDAY=20", "special": "FREQ=WEEKLY;BYDAY=WE"}
MAX_OCCURRENCES = 104


def occurrences(rule: str, starts_on: date, until: date | None, count: int | None) -> list[date]:
    """Dates of a recurrence rule from `starts_on`, bounded by `until`/`count` (at most 104)."""
    if until is not None and until < starts_on:
        raise InvalidInput("until is before the first date", field="until")
    text = rule.strip().removeprefix("RRULE:")
    if "COUNT=" in text.upper() or "UNTIL=" in text.upper():
        raise InvalidInput("give count or until as fields, not inside the rule", field="rule")
    try:
        rr = rrulestr(text, dtstart=datetime.combine(starts_on, time()))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a recurrence rule: {exc}", field="rule") from exc
    limit = min(count or MAX_OCCURRENCES, MAX_OCCURRENCES)
    out: list[date] = []
    for dt in rr:
        if until is not None and dt.date() > until:
            break
        out.append(dt.date())
        if len(out) >= limit:
            break
    if not out:
        raise InvalidInput("the rule yields no dates in that range", field="rule")
    return out


class Fair(Aggregate):
    stream_type = "fairs"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.community_code = ""
        self.date: date | None = None
        self.employers: set[str] = set()
        self.signups: set[str] = set()

    @classmethod
    def schedule(
        cls,
        fair_id: str,
        *,
        kind: str,
        title: str,
        community_code: str,
        place: str,
        on: date,
        start: str,
        end: str,
        series_id: str | None = None,
        rule: str | None = None,
    ) -> Fair:
        if kind not in FAIR_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(FAIR_KINDS)}", field="kind")
        if minutes(end, "end") <= minutes(start, "start"):
            raise InvalidInput("the fair ends before it starts", field="end")
        fair = cls(fair_id)
        fair._record(
            FairScheduled(
                fair_id,
                kind,
                title,
                community_code,
                place,
                on.isoformat(),
                start,
                end,
                series_id,
                rule,
            )
        )
        return fair

    def _require_upcoming(self, today: date) -> None:
        require_state(self.status, {"scheduled"}, "change a fair")
        if self.date is not None and self.date < today:
            raise Conflict("the fair is over", field="fair_id")

    def join(self, partner_id: str, employer_name: str, job_ids: list[str], today: date) -> None:
        self._require_upcoming(today)
        if partner_id in self.employers:
            raise Conflict("this employer already takes part", field="partner_id")
        self._record(FairEmployerJoined(self.id, partner_id, employer_name, job_ids))

    def sign_up(self, resident_id: str, by: str, today: date) -> None:
        self._require_upcoming(today)
        if resident_id in self.signups:
            raise Conflict("the resident has already signed up", field="resident_id")
        self._record(FairResidentSignedUp(self.id, resident_id, by))

    def cancel(self, reason: str, today: date) -> None:
        self._require_upcoming(today)
        self._record(FairCancelled(self.id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case FairScheduled():
                self.status = "scheduled"
                self.community_code = event.community_code
                self.date = date.fromisoformat(event.date)
            case FairEmployerJoined():
                self.employers.add(event.partner_id)
            case FairResidentSignedUp():
                self.signups.add(event.resident_id)
            case FairCancelled():
                self.status = "cancelled"
