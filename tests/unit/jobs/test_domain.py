"""Jobs aggregates and rules, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from doorstep_contracts.jobs import ApplicationHired, JobPostingFilled, PieceworkPayoutSettled
from doorstep_shared.domain import Conflict, InvalidInput, NotFound
from hypothesis import given
from hypothesis import strategies as st
from jobs.domain.applications import Application
from jobs.domain.fairs import DEFAULT_RULES, Fair, occurrences
from jobs.domain.leads import JobSeekerLead, lead_id_for
from jobs.domain.piecework import PieceworkOrder
from jobs.domain.postings import JobPosting, PostingDraft
from jobs.domain.schedule import covered_fraction, parse_windows
from jobs.domain.training import Course, Enrolment

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)


def draft(**kw: object) -> PostingDraft:
    base: dict[str, object] = dict(
        title="Cleaner",
        description="",
        employment_type="part_time",
        hiring_organization="Shop",
        community_code="330102001001",
        grid_code=None,
        job_location="",
        pay_fen=2500,
        pay_unit="hour",
        work_hours="",
        schedule=[{"days": ["mon"], "start": "09:00", "end": "12:00"}],
        skills=["cleaning"],
        total_job_openings=1,
        valid_through=NOW + timedelta(days=10),
    )
    base.update(kw)
    return PostingDraft(**base)  # type: ignore[arg-type]


def published(**kw: object) -> JobPosting:
    job = JobPosting.draft("j1", draft(**kw), partner_id="p1", created_by="p1", now=NOW)
    job.publish(NOW)
    return job


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pay_fen": 0}, "base_salary.amount_fen"),
        ({"pay_fen": -5}, "base_salary.amount_fen"),
        ({"schedule": [{"days": ["mon"], "start": "12:00", "end": "09:00"}]}, "schedule.0.end"),
        (
            {"schedule": [{"days": ["someday"], "start": "09:00", "end": "10:00"}]},
            "schedule.0.days",
        ),
        ({"valid_through": NOW}, "valid_through"),
        ({"total_job_openings": 0}, "total_job_openings"),
        ({"employment_type": "gig"}, "employment_type"),
        ({"grid_code": "330102009001001"}, "grid_code"),
    ],
)
def test_posting_rejects_bad_input_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        JobPosting.draft("j", draft(**change), partner_id=None, created_by="s", now=NOW)
    assert err.value.field == field


def test_posting_lifecycle_fills_and_refuses_illegal_moves() -> None:
    job = published(total_job_openings=2)
    with pytest.raises(Conflict):
        job.publish(NOW)
    job.fill_opening("a1", "r1", NOW)
    assert job.status == "published"
    with pytest.raises(Conflict):
        job.fill_opening("a1", "r1", NOW)
    job.fill_opening("a2", "r2", NOW)
    assert job.status == "filled" and isinstance(job.pending[-1], JobPostingFilled)
    with pytest.raises(Conflict):
        job.close("late")
    replayed = JobPosting.replay("j1", job.collect())
    assert (replayed.status, replayed.filled, replayed.version) == ("filled", 2, 5)


def test_posting_expires_only_after_valid_through() -> None:
    job = published()
    with pytest.raises(Conflict):
        job.expire(NOW)
    later = NOW + timedelta(days=11)
    with pytest.raises(Conflict, match="validThrough"):
        job.require_open(later)
    job.expire(later)
    assert job.status == "expired"


def application() -> Application:
    return Application.submit(
        "a1",
        job_id="j1",
        resident_id="r1",
        partner_id="p1",
        community_code="c",
        job_community_code="c",
        fair_id=None,
        applied_by="r1",
        on_behalf=False,
    )


def test_application_moves_step_by_step_to_hire() -> None:
    app = application()
    with pytest.raises(Conflict):
        app.hire()
    with pytest.raises(Conflict):
        app.advance("interviewed")
    for step in ("shortlisted", "interviewed", "offered"):
        app.advance(step)
    app.hire()
    assert isinstance(app.pending[-1], ApplicationHired) and app.status == "hired"
    for action in (
        lambda: app.withdraw("x"),
        lambda: app.reject("x"),
        lambda: app.advance("offered"),
    ):
        with pytest.raises(Conflict):
            action()


def test_withdrawn_application_cannot_be_rejected() -> None:
    app = application()
    app.withdraw("moved out")
    with pytest.raises(Conflict):
        app.reject("no")


def test_schedule_overlap_is_exact() -> None:
    need = parse_windows([{"days": ["mon", "tue"], "start": "09:00", "end": "12:00"}])
    have = parse_windows(
        [
            {"days": ["mon"], "start": "08:30", "end": "10:30"},
            {"days": ["mon"], "start": "10:00", "end": "11:00"},
        ]
    )
    assert covered_fraction(need, have) == pytest.approx(120 / 360)


def test_fair_rules_generate_the_20th_and_wednesdays() -> None:
    assert occurrences(DEFAULT_RULES["market_day"], date(2030, 1, 21), None, 2) == [
        date(2030, 2, 20),
        date(2030, 3, 20),
    ]
    weds = occurrences(DEFAULT_RULES["special"], date(2030, 1, 1), date(2030, 1, 31), None)
    assert all(d.weekday() == 2 for d in weds) and len(weds) == 5
    with pytest.raises(InvalidInput) as err:
        occurrences("FREQ=WEEKLY;COUNT=3", date(2030, 1, 1), None, None)
    assert err.value.field == "rule"


def test_fair_refuses_duplicates_and_past_changes() -> None:
    fair = Fair.schedule(
        "f",
        kind="community",
        title="t",
        community_code="c",
        place="p",
        on=date(2030, 1, 20),
        start="09:00",
        end="12:00",
    )
    fair.sign_up("r1", "r1", date(2030, 1, 1))
    with pytest.raises(Conflict):
        fair.sign_up("r1", "r1", date(2030, 1, 1))
    with pytest.raises(Conflict):
        fair.join("p1", "x", [], date(2030, 1, 21))


def order(quantity: int = 100, rate: int = 15) -> PieceworkOrder:
    return PieceworkOrder.place(
        "o",
        partner_id="p",
        processor_name="x",
        community_code="c",
        item="flower",
        quantity=quantity,
        rate_fen=rate,
        deadline=NOW + timedelta(days=3),
        now=NOW,
    )


def test_piecework_never_over_issues_or_over_delivers() -> None:
    o = order()
    o.issue_batch("b1", "r1", 60, NOW)
    with pytest.raises(InvalidInput) as err:
        o.issue_batch("b2", "r2", 41, NOW)
    assert err.value.field == "quantity"
    o.deliver("d1", "b1", 50, 5, NOW)
    with pytest.raises(InvalidInput) as err:
        o.deliver("d2", "b1", 5, 1, NOW)
    assert err.value.field == "accepted"
    with pytest.raises(NotFound):
        o.deliver("d3", "nope", 1, 0, NOW)
    with pytest.raises(InvalidInput):
        PieceworkOrder.place(
            "o",
            partner_id="p",
            processor_name="x",
            community_code="c",
            item="f",
            quantity=1,
            rate_fen=0,
            deadline=NOW + timedelta(days=1),
            now=NOW,
        )


@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 5)), min_size=1, max_size=15),
    st.integers(1, 500),
)
def test_every_fen_paid_traces_to_deliveries(deliveries: list[tuple[int, int]], rate: int) -> None:
    o = order(quantity=10_000, rate=rate)
    o.issue_batch("b", "r1", 10_000, NOW)
    accepted_total = 0
    for i, (acc, rej) in enumerate(deliveries):
        if acc + rej == 0:
            continue
        o.deliver(f"d{i}", "b", acc, rej, NOW)
        accepted_total += acc
    if accepted_total == 0:
        with pytest.raises(Conflict):
            o.settle("r1")
        return
    amount, paid = o.settle("r1")
    event = o.pending[-1]
    assert isinstance(event, PieceworkPayoutSettled)
    assert amount == event.amount_fen == accepted_total * rate and event.pieces == accepted_total
    assert len(paid) == sum(1 for a, r in deliveries if a + r)
    with pytest.raises(Conflict):
        o.settle("r1")


def course(capacity: int = 1) -> Course:
    sessions = [{"starts_at": NOW + timedelta(days=d), "ends_at": NOW + timedelta(days=d, hours=2)} for d in (2, 1)]
    return Course.publish(
        "c",
        partner_id="s",
        school_name="S",
        community_code="c",
        title="t",
        skill="knot",
        sessions=sessions,
        capacity=capacity,
        place="p",
        subsidy_fen=0,
        required_sessions=None,
    )


def test_course_waiting_list_and_promotion() -> None:
    c = course()
    assert c.take_seat("e1", "r1", waitlist=True) == "enrolled"
    with pytest.raises(Conflict) as err:
        c.take_seat("e2", "r2", waitlist=False)
    assert err.value.field == "waitlist"
    assert c.take_seat("e2", "r2", waitlist=True) == "waitlisted"
    with pytest.raises(Conflict):
        c.take_seat("e3", "r2", waitlist=True)
    assert c.release("e1") == "e2" and c.seats == {"e2": "r2"} and c.waitlist == []


def test_completion_needs_attendance_and_carries_the_skill() -> None:
    c = course()
    e = Enrolment.request("e1", course=c, resident_id="r1", status="enrolled", requested_by="r1")
    e.record_attendance(1, True, c.sessions)
    with pytest.raises(Conflict) as err:
        e.complete("C-1", c)
    assert err.value.field == "attendance"
    with pytest.raises(InvalidInput):
        e.record_attendance(3, True, c.sessions)
    e.record_attendance(2, True, c.sessions)
    e.complete("C-1", c)
    assert e.pending[-1].to_data() == {
        "enrolment_id": "e1",
        "course_id": "c",
        "resident_id": "r1",
        "skill": "knot",
        "certificate_no": "C-1",
        "partner_id": "s",
    }


def test_lead_id_follows_the_visit() -> None:
    lead = JobSeekerLead.open(resident_id="r", grid_code="g", grid_worker_id="w", visit_id="v1", note="")
    assert lead.id == lead_id_for("v1") != lead_id_for("v2")
    with pytest.raises(InvalidInput):
        lead.close("vanished", "")
    lead.close("hired", "")
    with pytest.raises(Conflict):
        lead.close("hired", "")
