"""The ledger never overdraws or double-credits; teams keep their members straight."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from doorstep_contracts.volunteering import PointsCredited, PointsRedeemed
from doorstep_shared.domain import Conflict, InvalidInput
from volunteering.domain.ledger import Ledger, points_for
from volunteering.domain.teams import Team

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def credit(ledger: Ledger, points: int, key: str) -> bool:
    return ledger.credit(
        entry_id=f"e-{key}",
        points=points,
        source="incentive",
        source_ref="case",
        dedupe_key=key,
        community_code="330102001",
        now=NOW,
    )


def redeem(ledger: Ledger, points: int, channel: str = "time_bank", partner: str | None = None) -> None:
    ledger.redeem(
        entry_id="r",
        points=points,
        channel=channel,
        partner_id=partner,
        reference="slip",
        community_code="330102001",
        by="r1",
        now=NOW,
    )


@pytest.mark.parametrize(("minutes", "rate", "points"), [(60, 10, 10), (84, 10, 14), (5, 10, 0), (90, 0, 0)])
def test_points_are_pro_rata_and_rounded_down(minutes: int, rate: int, points: int) -> None:
    assert points_for(minutes, rate) == points


def test_hours_credit_points_once_per_activity() -> None:
    ledger = Ledger("r1")
    kwargs = {
        "entry_id": "h1",
        "activity_id": "a1",
        "team_id": "t1",
        "community_code": "330102001",
        "minutes": 90,
        "verified_by": "l",
        "points_per_hour": 10,
        "now": NOW,
    }
    ledger.record_hours(**kwargs)  # type: ignore[arg-type]
    assert [type(e).__name__ for e in ledger.collect()] == ["HoursVerified", "PointsCredited"]
    assert (ledger.balance, ledger.verified_minutes) == (15, 90)
    with pytest.raises(Conflict):
        ledger.record_hours(**kwargs)  # type: ignore[arg-type]


def test_the_same_source_is_never_credited_twice_even_after_replay() -> None:
    ledger = Ledger("r1")
    assert credit(ledger, 30, "incentive:ev-1") is True
    assert credit(ledger, 30, "incentive:ev-1") is False
    replayed = Ledger.replay("r1", ledger.collect())
    assert credit(replayed, 30, "incentive:ev-1") is False
    assert replayed.balance == 30
    with pytest.raises(InvalidInput):
        credit(replayed, 0, "incentive:ev-2")


def test_redemptions_never_overdraw_and_each_entry_carries_its_balance() -> None:
    ledger = Ledger("r1")
    credit(ledger, 20, "k1")
    with pytest.raises(Conflict) as err:
        redeem(ledger, 21)
    assert err.value.field == "points"
    redeem(ledger, 15)
    redeem(ledger, 5, "merchant", "shop-1")
    with pytest.raises(Conflict):
        redeem(ledger, 1)
    events = ledger.collect()
    assert [e.balance for e in events if isinstance(e, PointsCredited | PointsRedeemed)] == [20, 5, 0]
    assert ledger.balance == 0


@pytest.mark.parametrize(
    ("field", "points", "channel", "partner"),
    [("points", 0, "time_bank", None), ("channel", 1, "casino", None), ("partner_id", 1, "merchant", None)],
)
def test_redemption_input_is_checked(field: str, points: int, channel: str, partner: str | None) -> None:
    ledger = Ledger("r1")
    credit(ledger, 10, "k")
    with pytest.raises(InvalidInput) as err:
        redeem(ledger, points, channel, partner)
    assert err.value.field == field


def test_team_membership_rules() -> None:
    with pytest.raises(InvalidInput) as err:
        Team.form("t", name="x", community_code="330102001", focus="karaoke", leader_id="l")
    assert err.value.field == "focus"
    with pytest.raises(InvalidInput):
        Team.form("t", name=" ", community_code="330102001", focus="cleanup", leader_id="l")
    team = Team.form("t", name="Clean", community_code="330102001", focus="cleanup", leader_id="l")
    team.join("r1", added_by="r1")
    with pytest.raises(Conflict):
        team.join("r1", added_by="l")
    team.leave("r1")
    with pytest.raises(Conflict):
        team.leave("r1")
    team.join("r2", added_by="l")
    team.remove("r2", reason="moved_out", removed_by="system")
    assert team.members == set()
    with pytest.raises(Conflict):
        team.change_leader("l")
    team.change_leader("l2")
    assert team.is_leader("l2") and not team.is_leader("l")
    assert Team.replay("t", team.collect()).leader_id == "l2"
