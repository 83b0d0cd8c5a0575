"""Activity rules: places, the waiting list, the shift day and verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from doorstep_contracts.volunteering import VolunteerPromoted, VolunteerSignedUp
from doorstep_shared.domain import Conflict, Forbidden, InvalidInput
from hypothesis import given, settings
from hypothesis import strategies as st
from volunteering.domain.activities import Activity

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
START = NOW + timedelta(days=1)


def activity(capacity: int = 2) -> Activity:
    a = Activity.schedule(
        "a-1",
        team_id="t-1",
        community_code="330102001",
        title="Cleanup",
        place="River bank",
        starts_at=START,
        ends_at=START + timedelta(hours=3),
        capacity=capacity,
        now=NOW,
    )
    a.collect()
    return a


def statuses(a: Activity) -> dict[str, str]:
    return {rid: p.status for rid, p in a.participants.items()}


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("title", {"title": " "}),
        ("place", {"place": ""}),
        ("starts_at", {"starts_at": NOW - timedelta(minutes=1)}),
        ("ends_at", {"ends_at": START}),
        ("ends_at", {"ends_at": START + timedelta(hours=25)}),
        ("capacity", {"capacity": 0}),
    ],
)
def test_scheduling_checks_its_input(field: str, changes: dict[str, object]) -> None:
    args: dict[str, object] = {
        "team_id": "t",
        "community_code": "330102001",
        "title": "x",
        "place": "y",
        "starts_at": START,
        "ends_at": START + timedelta(hours=1),
        "capacity": 1,
        "now": NOW,
        **changes,
    }
    with pytest.raises(InvalidInput) as err:
        Activity.schedule("a", **args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_places_fill_then_the_waiting_list_is_promoted_in_order() -> None:
    a = activity(capacity=2)
    got = [a.sign_up(r, by=r, now=NOW) for r in ("r1", "r2", "r3", "r4")]
    assert got == ["scheduled", "scheduled", "waiting", "waiting"]
    assert a.waiting == ["r3", "r4"]
    with pytest.raises(Conflict):
        a.sign_up("r3", by="r3", now=NOW)
    a.collect()
    a.cancel_sign_up("r1", reason="volunteer", by="r1", now=NOW)
    events = a.collect()
    assert [type(e).__name__ for e in events] == ["SignUpCancelled", "VolunteerPromoted"]
    assert isinstance(events[1], VolunteerPromoted) and events[1].resident_id == "r3"
    assert a.waiting == ["r4"]
    # a cancelled volunteer may sign up again, at the end of the line
    assert a.sign_up("r1", by="r1", now=NOW) == "waiting"
    assert a.waiting == ["r4", "r1"]


def test_capacity_cannot_drop_below_the_scheduled_and_growing_it_promotes() -> None:
    a = activity(capacity=2)
    for r in ("r1", "r2", "r3", "r4"):
        a.sign_up(r, by=r, now=NOW)
    with pytest.raises(Conflict) as err:
        a.change_capacity(1, now=NOW)
    assert err.value.field == "capacity"
    a.collect()
    a.change_capacity(3, now=NOW)
    assert [type(e).__name__ for e in a.collect()] == [
        "ActivityCapacityChanged",
        "VolunteerPromoted",
    ]
    assert statuses(a)["r3"] == "scheduled" and a.waiting == ["r4"]


def test_nothing_changes_once_started_or_cancelled() -> None:
    a = activity()
    a.sign_up("r1", by="r1", now=NOW)
    for action in (
        lambda: a.sign_up("r2", by="r2", now=START),
        lambda: a.cancel_sign_up("r1", reason="volunteer", by="r1", now=START),
        lambda: a.change_capacity(5, now=START),
        lambda: a.cancel(reason="rain", by="l", now=START),
    ):
        with pytest.raises(Conflict):
            action()
    a.cancel(reason="rain", by="l", now=NOW)
    assert statuses(a) == {"r1": "cancelled"}
    with pytest.raises(Conflict):
        a.sign_up("r2", by="r2", now=NOW)
    with pytest.raises(Conflict):
        a.check_in("r1", by="l", now=START)


def test_shift_day_check_in_out_no_show_and_minutes() -> None:
    a = activity(capacity=3)
    for rid in ("r1", "r2", "r3"):
        a.sign_up(rid, by=rid, now=NOW)
    with pytest.raises(Conflict, match="check in first"):
        a.check_out("r1", by="l", now=START)
    with pytest.raises(Conflict, match="30 minutes"):
        a.check_in("r1", by="l", now=START - timedelta(minutes=31))
    with pytest.raises(Conflict, match="has started"):
        a.mark_no_show("r2", by="l", now=START - timedelta(minutes=1))
    a.check_in("r1", by="l", now=START - timedelta(minutes=5))
    with pytest.raises(Conflict):
        a.check_in("r1", by="l", now=START)
    a.check_out("r1", by="l", now=START + timedelta(minutes=125))
    a.mark_no_show("r2", by="l", now=START + timedelta(hours=1))
    with pytest.raises(Conflict, match="mark a no-show instead"):
        a.check_in("r3", by="l", now=START + timedelta(hours=4))
    p = a.participants["r1"]
    assert (p.status, p.scheduled_minutes, p.completed_minutes) == ("completed", 180, 130)
    assert statuses(a)["r2"] == "no_show"


def test_only_the_leader_verifies_and_never_their_own_hours() -> None:
    a = activity()
    a.sign_up("r1", by="r1", now=NOW)
    a.check_in("r1", by="l", now=START)
    a.check_out("r1", by="l", now=START + timedelta(minutes=60))
    later = START + timedelta(hours=4)
    with pytest.raises(Forbidden):
        a.verify("r1", verifier_id="r1", verifier_is_leader=True, minutes=None, now=later)
    with pytest.raises(Forbidden):
        a.verify(
            "r1",
            verifier_id="l",
            verifier_resident_id="r1",
            verifier_is_leader=True,
            minutes=None,
            now=later,
        )
    with pytest.raises(Forbidden):
        a.verify("r1", verifier_id="staff", verifier_is_leader=False, minutes=None, now=later)
    with pytest.raises(InvalidInput) as err:
        a.verify("r1", verifier_id="l", verifier_is_leader=True, minutes=61, now=later)
    assert err.value.field == "minutes"
    assert a.verify("r1", verifier_id="l", verifier_is_leader=True, minutes=None, now=later) == 60
    with pytest.raises(Conflict, match="already verified"):
        a.verify("r1", verifier_id="l", verifier_is_leader=True, minutes=None, now=later)


def test_withdrawal_only_touches_upcoming_places() -> None:
    a = activity(capacity=1)
    a.sign_up("r1", by="r1", now=NOW)
    a.sign_up("r2", by="r2", now=NOW)
    assert a.withdraw_if_upcoming("nobody", reason="moved_out", now=NOW) is False
    assert a.withdraw_if_upcoming("r1", reason="moved_out", now=START) is False
    assert a.withdraw_if_upcoming("r1", reason="moved_out", now=NOW) is True
    assert statuses(a) == {"r1": "cancelled", "r2": "scheduled"}
    assert a.withdraw_if_upcoming("r1", reason="moved_out", now=NOW) is False


def test_replay_and_snapshot_rebuild_the_same_state() -> None:
    a = activity(capacity=1)
    a.sign_up("r1", by="r1", now=NOW)
    a.sign_up("r2", by="r2", now=NOW)
    a.check_in("r1", by="l", now=START)
    history = [*_scheduled_events(), *a.collect()]
    replayed = Activity.replay("a-1", history)
    assert statuses(replayed) == statuses(a) and replayed.waiting == a.waiting
    restored = Activity("a-1")
    restored.restore_state(a.snapshot_state())
    assert statuses(restored) == statuses(a) and restored.waiting == ["r2"]
    assert restored.participants["r1"].checked_in_at == START
    assert restored.starts_at == a.starts_at and restored.capacity == 1


def _scheduled_events() -> list[object]:
    fresh = Activity.schedule(
        "a-1",
        team_id="t-1",
        community_code="330102001",
        title="Cleanup",
        place="River bank",
        starts_at=START,
        ends_at=START + timedelta(hours=3),
        capacity=1,
        now=NOW,
    )
    return list(fresh.collect())


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 5),
    steps=st.lists(st.tuples(st.sampled_from(["up", "cancel"]), st.integers(0, 7)), max_size=40),
)
def test_places_never_exceed_capacity_and_the_line_keeps_its_order(capacity: int, steps: list[tuple[str, int]]) -> None:
    a = activity(capacity)
    signed: list[str] = []  # every sign-up to the waiting list, in order
    for action, n in steps:
        rid = f"r{n}"
        try:
            if action == "up":
                a.sign_up(rid, by=rid, now=NOW)
            else:
                a.cancel_sign_up(rid, reason="volunteer", by=rid, now=NOW)
        except Conflict:
            continue
    for e in a.pending:
        if isinstance(e, VolunteerSignedUp) and e.status == "waiting":
            signed.append(e.resident_id)
    assert a.places_taken <= capacity
    assert not a.waiting or a.places_taken == capacity  # nobody waits beside a free place
    assert set(a.waiting) <= set(signed)
    assert sorted(a.waiting, key=lambda r: _last_index(signed, r)) == a.waiting


def _last_index(items: list[str], value: str) -> int:
    return len(items) - 1 - items[::-1].index(value)
