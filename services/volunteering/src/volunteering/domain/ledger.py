"""Each volunteer's ledger: verified hours and points, append-only.

The balance is never stored apart from the entries: it is the sum of credits
minus redemptions, and every entry carries the balance it left, so a statement
explains itself line by line. A credit names its source (the activity or the
other service's event id); a source already credited is recognised and skipped,
so a redelivered or replayed event never pays twice. A redemption larger than
the balance is refused: a balance never goes negative.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from doorstep_contracts.volunteering import HoursVerified, PointsCredited, PointsRedeemed
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput

# where points are spent: a partner's points supermarket or the community time bank (时间银行)
Channel = Literal["merchant", "time_bank"]
CHANNELS: frozenset[str] = frozenset(get_args(Channel))
MAX_REDEMPTION = 1_000_000


def points_for(minutes: int, points_per_hour: int) -> int:
    """Points earned by verified minutes, pro rata, rounded down (no fractional points)."""
    return minutes * points_per_hour // 60


class Ledger(Aggregate):
    """Stream id = the volunteer's pseudonymous resident_id."""

    stream_type = "ledger"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.balance = 0
        self.verified_minutes = 0
        self.community_code = ""  # where the latest entry was booked
        self.credited_sources: set[str] = set()
        self.verified_activities: set[str] = set()

    def record_hours(
        self,
        *,
        entry_id: str,
        activity_id: str,
        team_id: str,
        community_code: str,
        minutes: int,
        verified_by: str,
        points_per_hour: int,
        now: datetime,
    ) -> None:
        """Book verified minutes and the points they earn."""
        if activity_id in self.verified_activities:
            raise Conflict("hours of this activity are already in the ledger", field="activity_id")
        self._record(HoursVerified(self.id, entry_id, activity_id, team_id, community_code, minutes, verified_by, now))
        points = points_for(minutes, points_per_hour)
        if points > 0:
            self.credit(
                entry_id=f"{entry_id}-p",
                points=points,
                source="hours",
                source_ref=activity_id,
                dedupe_key=f"hours:{activity_id}",
                community_code=community_code,
                now=now,
            )

    def credit(
        self,
        *,
        entry_id: str,
        points: int,
        source: str,
        source_ref: str,
        dedupe_key: str,
        community_code: str,
        now: datetime,
    ) -> bool:
        """Credit points once per `dedupe_key`; returns False when it was credited already."""
        if points <= 0:
            raise InvalidInput("credited points must be positive", field="points")
        if dedupe_key in self.credited_sources:
            return False
        self._record(
            PointsCredited(
                self.id,
                entry_id,
                points,
                source,
                source_ref,
                community_code,
                self.balance + points,
                now,
                source_key=dedupe_key,
            )
        )
        return True

    def redeem(
        self,
        *,
        entry_id: str,
        points: int,
        channel: str,
        partner_id: str | None,
        reference: str,
        community_code: str,
        by: str,
        now: datetime,
    ) -> None:
        if not 1 <= points <= MAX_REDEMPTION:
            raise InvalidInput(f"points must be between 1 and {MAX_REDEMPTION}", field="points")
        if channel not in CHANNELS:
            raise InvalidInput(f"channel must be one of {', '.join(sorted(CHANNELS))}", field="channel")
        if channel == "merchant" and not partner_id:
            raise InvalidInput("a merchant redemption names the partner", field="partner_id")
        if points > self.balance:
            raise Conflict(f"cannot redeem {points} points: the balance is {self.balance}", field="points")
        self._record(
            PointsRedeemed(
                self.id,
                entry_id,
                points,
                channel,
                partner_id,
                reference,
                community_code,
                self.balance - points,
                by,
                now,
            )
        )

    def apply(self, event: Event) -> None:
        if isinstance(event, HoursVerified | PointsCredited | PointsRedeemed):
            self.community_code = event.community_code or self.community_code
        match event:
            case HoursVerified(activity_id=activity_id, minutes=minutes):
                self.verified_minutes += minutes
                self.verified_activities.add(activity_id)
            case PointsCredited(points=points, source_key=key):
                self.balance += points
                self.credited_sources.add(key)
            case PointsRedeemed(points=points):
                self.balance -= points
