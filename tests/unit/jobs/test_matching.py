"""Matching scores and their reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobs.domain.matching import JobFacts, MatchIndex, ResidentFacts, score

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def resident(rid: str, grid: str = "330102001001001", **kw: Any) -> ResidentFacts:
    row: dict[str, Any] = {
        "resident_id": rid,
        "community_code": grid[:12],
        "grid_code": grid,
        "skills": ["cleaning"],
        "verified_skills": [],
        "tags": [],
        "employment_status": "unemployed",
        "consent_matching": True,
        "share_with_partners": True,
        "availability": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:30", "end": "16:30"}],
        "job_preferences": {"types": ["part_time"], "min_pay_fen": 2000, "pay_unit": "hour"},
    }
    row.update(kw)
    return ResidentFacts.from_row(row)


def job(jid: str, community: str = "330102001001", **kw: Any) -> JobFacts:
    row: dict[str, Any] = {
        "job_id": jid,
        "title": jid,
        "community_code": community,
        "grid_code": None,
        "employment_type": "part_time",
        "skills": ["cleaning"],
        "pay_fen": 2500,
        "pay_unit": "hour",
        "partner_id": "p",
        "valid_through": NOW + timedelta(days=1),
        "schedule": [{"days": ["mon"], "start": "09:00", "end": "12:00"}],
    }
    row.update(kw)
    return JobFacts.from_row(row)


def test_perfect_fit_scores_high_with_a_reason_per_factor() -> None:
    m = score(resident("r"), job("j", grid_code="330102001001001"))
    assert m.score == round(100 * 95 / 110, 1)  # all but the public-welfare priority
    assert [r["factor"] for r in m.reasons] == ["skills", "hours", "distance", "type", "pay"]


def test_distance_ranks_grid_over_community_over_street_over_elsewhere() -> None:
    r = resident("r")
    grid = score(r, job("a", grid_code="330102001001001")).score
    community = score(r, job("b")).score
    street = score(r, job("c", community="330102001002")).score
    district = score(r, job("d", community="330102002001")).score
    elsewhere = score(r, job("e", community="330199001001")).score
    assert grid > community > street > district > elsewhere


def test_public_welfare_posts_favour_hard_to_employ_residents() -> None:
    j = job("w", employment_type="public_welfare")
    plain, disabled = resident("a"), resident("b", tags=["disabled"])
    assert score(disabled, j).score > score(plain, j).score
    assert any(r["factor"] == "priority" for r in score(disabled, j).reasons)


def test_pay_below_minimum_and_unstated_hours_are_explained() -> None:
    m = score(resident("r", availability=[]), job("j", pay_fen=1000))
    reasons = {r["factor"]: r for r in m.reasons}
    assert reasons["pay"]["points"] == 0 and "below" in reasons["pay"]["detail"]
    assert reasons["hours"]["points"] == 0


def test_index_ranks_both_ways_and_honours_consent() -> None:
    index = MatchIndex()
    index.put_resident(resident("near"))
    index.put_resident(resident("far", grid="330102001002001"))
    index.put_resident(resident("private", consent_matching=False))
    index.put_resident(resident("no_share", share_with_partners=False))
    j = job("j", grid_code="330102001001001")
    index.put_job(j)
    index.put_job(job("old", valid_through=NOW - timedelta(days=1)))
    index.put_job(job("cook", skills=["cooking"]))
    staff = [m.resident_id for m in index.candidates_for(j, 10, partner_view=False)]
    partner = [m.resident_id for m in index.candidates_for(j, 10, partner_view=True)]
    assert staff[0] in {"near", "no_share"} and "private" not in staff and staff[-1] == "far"
    assert "no_share" not in partner
    assert [m.job_id for m in index.matches_for(resident("near"), NOW, 10)] == ["j", "cook"]
    index.drop_resident("near")
    index.put_resident(resident("near", skills=["cooking"]))
    assert index.matches_for(index.residents["near"], NOW, 1)[0].job_id == "cook"
