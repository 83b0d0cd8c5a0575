"""Rules of cases, visits and disputes, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from doorstep_contracts.grid_reports import (
    CaseClosed,
    CaseEscalated,
    CaseReopened,
    IncentiveEarned,
    VisitFindingRecorded,
    VisitRecorded,
)
from doorstep_shared.domain import Conflict, Forbidden, InvalidInput
from grid_reports.bootstrap import policy_from
from grid_reports.domain.model import Case, Dispute, Visit
from grid_reports.domain.rules import STATE_KINDS, STATES, escalation_target, level_of_code
from grid_reports.settings import Settings

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
COMMUNITY = "330102001001"
GRID = "330102001001001"
POLICY = policy_from(Settings())


def reported(source: str = "courier_sentinel", category: str = "environment", **kw: object) -> Case:
    case = Case.report(
        "c1",
        category=category,
        source=source,
        reporter_id="r-1",
        community_code=COMMUNITY,
        grid_code=GRID,
        description="bins overflowing",
        now=T0,
        policy=POLICY,
        **kw,  # type: ignore[arg-type]
    )
    case.collect()
    return case


def resolved(case: Case) -> Case:
    case.accept(by="gw", now=T0, policy=POLICY)
    case.assign(assignee_id="gw", by="gw", now=T0, policy=POLICY)
    case.start(by="gw", now=T0)
    case.resolve(by="gw", resolution="emptied", photos=[], now=T0, policy=POLICY)
    case.collect()
    return case


def test_every_state_has_a_kind() -> None:
    assert set(STATE_KINDS.values()) == {"open", "fixed", "closed"}
    assert {STATE_KINDS[s] for s in ("rejected", "merged")} == {"closed"}
    assert len(STATES) == 9


def test_full_loop_closes_and_earns_the_courier_an_incentive() -> None:
    case = resolved(reported())
    case.give_feedback(reporter_id="r-1", satisfaction=5, comment="", now=T0, policy=POLICY)
    events = case.collect()
    assert [type(e) for e in events[1:]] == [CaseClosed, IncentiveEarned]
    incentive = events[-1]
    assert incentive.to_data() == {
        "case_id": "c1",
        "reporter_id": "r-1",
        "reporter_kind": "courier_sentinel",
        "points": 10,
        "community_code": COMMUNITY,
    }
    assert case.state == "closed" and case.kind == "fixed"


def test_grid_worker_reports_earn_no_incentive() -> None:
    case = resolved(reported(source="grid_worker"))
    case.give_feedback(reporter_id="r-1", satisfaction=4, comment="", now=T0, policy=POLICY)
    assert not any(isinstance(e, IncentiveEarned) for e in case.collect())


def test_unsatisfied_reporter_reopens_with_the_rework_deadline() -> None:
    case = resolved(reported())
    later = T0 + timedelta(hours=1)
    case.give_feedback(reporter_id="r-1", satisfaction=2, comment="still full", now=later, policy=POLICY)
    reopened = case.collect()[-1]
    assert isinstance(reopened, CaseReopened)
    assert reopened.due_at == later + timedelta(hours=48)
    assert case.state == "reopened" and case.kind == "open"
    case.start(by="gw", now=later)  # the same worker picks it up again
    assert case.state == "in_progress"


def test_only_the_reporter_gives_feedback() -> None:
    case = resolved(reported())
    with pytest.raises(Forbidden):
        case.give_feedback(reporter_id="someone-else", satisfaction=5, comment="", now=T0, policy=POLICY)


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.start(by="gw", now=T0),
        lambda c: c.resolve(by="gw", resolution="x", photos=[], now=T0, policy=POLICY),
        lambda c: c.close(by="gw", now=T0, policy=POLICY),
        lambda c: c.give_feedback(reporter_id="r-1", satisfaction=5, comment="", now=T0, policy=POLICY),
    ],
)
def test_illegal_transitions_from_reported_conflict(action) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict):
        action(reported())


def test_rejected_case_accepts_nothing_more() -> None:
    case = reported()
    case.reject(by="gw", reason="not in our area", now=T0)
    assert case.kind == "closed"
    with pytest.raises(Conflict):
        case.accept(by="gw", now=T0, policy=POLICY)


def test_merge_needs_an_open_primary_in_the_same_community() -> None:
    dup, primary = reported(), reported()
    primary.id = "c2"
    dup.merge_into(primary, by="gw", now=T0)
    assert dup.state == "merged"
    with pytest.raises(InvalidInput):
        reported().merge_into(reported(), by="gw", now=T0)  # same id: itself


def test_staff_close_waits_for_the_feedback_window() -> None:
    case = resolved(reported())
    with pytest.raises(Conflict):
        case.close(by="gw", now=T0 + timedelta(hours=1), policy=POLICY)
    case.close(by="gw", now=T0 + timedelta(hours=73), policy=POLICY)
    assert case.state == "closed"


def test_only_the_assignee_handles() -> None:
    case = reported()
    case.accept(by="gw", now=T0, policy=POLICY)
    case.assign(assignee_id="gw", by="gw", now=T0, policy=POLICY)
    with pytest.raises(Forbidden):
        case.start(by="other", now=T0)


def test_deadlines_follow_category_and_step() -> None:
    hazard = reported(category="safety_hazard")
    assert hazard.due_at == T0 + timedelta(hours=1)
    hazard.accept(by="gw", now=T0, policy=POLICY)
    assert hazard.due_at == T0 + timedelta(hours=2)
    hazard.assign(assignee_id="gw", by="gw", now=T0, policy=POLICY)
    assert hazard.due_at == T0 + timedelta(hours=24)
    hazard.assign(assignee_id="gw2", by="gw", now=T0 + timedelta(hours=5), policy=POLICY)
    assert hazard.due_at == T0 + timedelta(hours=24)  # a hand-off does not reset the clock


def test_escalation_climbs_grid_community_street_district_then_stops() -> None:
    case = reported()
    now = T0
    seen = []
    for _ in range(3):
        now = case.due_at + timedelta(minutes=1)  # type: ignore[operator]
        case.escalate(now=now, policy=POLICY)
        event = case.collect()[-1]
        assert isinstance(event, CaseEscalated)
        seen.append((event.to_level, event.area_code))
    assert seen == [("community", COMMUNITY), ("street", "330102001"), ("district", "330102")]
    with pytest.raises(Conflict):
        case.escalate(now=now + timedelta(days=9), policy=POLICY)


def test_not_yet_overdue_does_not_escalate() -> None:
    with pytest.raises(Conflict):
        reported().escalate(now=T0, policy=POLICY)


def test_area_tree_levels() -> None:
    assert level_of_code(GRID) == "grid" and level_of_code("330102") == "district"
    assert escalation_target("community", None, COMMUNITY) == ("street", "330102001")
    assert escalation_target("district", GRID, COMMUNITY) is None


@pytest.mark.parametrize(
    ("photos", "field"),
    [
        (["http://img.example/a.jpg"], "photos.0"),
        (["https://"], "photos.0"),
        (["https://u:p@img.example/a.jpg"], "photos.0"),
        (["https://img.example/" + "a" * 600], "photos.0"),
        ([f"https://img.example/{i}.jpg" for i in range(10)], "photos"),
    ],
)
def test_photo_urls_are_checked_never_fetched(photos: list[str], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        reported(photos=photos)
    assert err.value.field == field


def test_grid_must_sit_in_its_community() -> None:
    with pytest.raises(InvalidInput) as err:
        Case.report(
            "c9",
            category="noise",
            source="resident",
            reporter_id="r",
            community_code=COMMUNITY,
            grid_code="330102001002001",
            description="x",
            now=T0,
            policy=POLICY,
        )
    assert err.value.field == "grid_code"


def test_cadence_takes_the_tightest_matching_rule() -> None:
    assert POLICY.cadence_for(["elderly", "living_alone"]) == 7
    assert POLICY.cadence_for(["elderly"]) == 30
    assert POLICY.cadence_for(["living_alone"]) is None
    assert POLICY.cadence_for(["veteran", "disabled"]) == 30


def test_visit_publishes_one_finding_event_each() -> None:
    visit = Visit.record(
        "v1",
        resident_id="r-1",
        household_id=None,
        community_code=COMMUNITY,
        grid_code=GRID,
        grid_worker_id="gw",
        kind="door_knock",
        visited_at=T0,
        findings=[("wants_job", "looking for part-time"), ("elderly_subsidy_check", "")],
        note="",
        now=T0,
    )
    events = visit.collect()
    assert [type(e) for e in events] == [VisitRecorded, VisitFindingRecorded, VisitFindingRecorded]
    assert events[1].to_data() == {
        "visit_id": "v1",
        "resident_id": "r-1",
        "finding": "wants_job",
        "grid_code": GRID,
        "grid_worker_id": "gw",
        "note": "looking for part-time",
    }
    with pytest.raises(InvalidInput):
        Visit.record(
            "v2",
            resident_id="r-1",
            household_id=None,
            community_code=COMMUNITY,
            grid_code=GRID,
            grid_worker_id="gw",
            kind="door_knock",
            visited_at=T0 + timedelta(days=1),
            findings=[],
            note="",
            now=T0,
        )


def test_dispute_needs_a_session_before_an_outcome() -> None:
    dispute = Dispute.open(
        "d1",
        case_id=None,
        community_code=COMMUNITY,
        grid_code=GRID,
        parties=[{"party_id": "a", "kind": "resident"}, {"party_id": "b", "kind": "resident"}],
        summary="water leaking downstairs",
        by="gw",
        now=T0,
    )
    with pytest.raises(Conflict):
        dispute.agree(agreement="fix the pipe", by="gw", now=T0)
    with pytest.raises(InvalidInput):
        dispute.hold_session(mediator_id="gw", held_at=T0, attendees=["z"], notes="", now=T0)
    dispute.hold_session(mediator_id="gw", held_at=T0, attendees=["a", "b"], notes="", now=T0)
    dispute.agree(agreement="a pays the plumber", by="gw", now=T0)
    assert dispute.state == "agreed"
    with pytest.raises(Conflict):
        dispute.fail(reason="x", by="gw", now=T0)


def test_replay_rebuilds_the_same_case() -> None:
    case = Case.report(
        "c1",
        category="noise",
        source="resident",
        reporter_id="r",
        community_code=COMMUNITY,
        grid_code=GRID,
        description="drilling at night",
        now=T0,
        policy=POLICY,
    )
    case.accept(by="gw", now=T0, policy=POLICY)
    replayed = Case.replay("c1", case.collect())
    assert (replayed.state, replayed.due_at, replayed.version) == ("accepted", case.due_at, 2)
