"""Matching as read: ranked jobs for a resident, ranked residents for a job, and the
seekers of a grid with their best jobs. Ranks come from the in-memory match index;
each match carries its reasons, a line and the points per factor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from doorstep_shared.db import Database

from jobs.domain.matching import JobFacts, Match, MatchIndex, ResidentFacts
from jobs.views.common import Row, View, found
from jobs.views.postings import job


class MatchReason(View):
    factor: str
    points: int | float
    detail: str


class JobMatch(View):
    """A job for a resident; the job's fields are None if it closed since it was ranked."""

    score: float
    reasons: list[MatchReason]
    job_id: str
    title: str | None
    employment_type: str | None
    community_code: str | None


class Candidate(View):
    score: float
    reasons: list[MatchReason]
    resident_id: str
    grid_code: str | None
    employment_status: str | None


class ResidentMatches(View):
    resident_id: str
    matches: list[JobMatch]


class JobCandidates(View):
    job_id: str
    candidates: list[Candidate]


class Seeker(View):
    resident_id: str
    grid_code: str
    employment_status: str
    tags: list[str]
    matches: list[JobMatch]


def _job_match(m: Match, index: MatchIndex) -> Row:
    job = index.jobs.get(m.job_id)
    return {
        "score": m.score,
        "reasons": m.reasons,
        "job_id": m.job_id,
        "title": job.title if job else None,
        "employment_type": job.employment_type if job else None,
        "community_code": job.community_code if job else None,
    }


def _candidate(m: Match, index: MatchIndex) -> Row:
    r = index.residents.get(m.resident_id)
    return {
        "score": m.score,
        "reasons": m.reasons,
        "resident_id": m.resident_id,
        "grid_code": r.grid_code if r else None,
        "employment_status": r.employment_status if r else None,
    }


def matches(index: MatchIndex, resident: Mapping[str, Any], now: datetime, limit: int) -> list[Row]:
    """The best open jobs for a resident (her facts in the index, else from her row)."""
    facts = index.residents.get(resident["resident_id"]) or ResidentFacts.from_row(resident)
    return [_job_match(m, index) for m in index.matches_for(facts, now, limit)]


async def job_facts(db: Database, index: MatchIndex, job_id: str) -> JobFacts:
    """The job as matching sees it: from the index while it is open, else from its row."""
    facts = index.jobs.get(job_id)
    if facts is None:
        async with db.session() as s:
            facts = JobFacts.from_row(found(await job(s, job_id), "job", "job_id"))
    return facts


def candidates(index: MatchIndex, job: JobFacts, limit: int, *, partner_view: bool) -> list[Row]:
    """The best consenting residents for a job (a partner sees only those who share with partners)."""
    return [_candidate(m, index) for m in index.candidates_for(job, limit, partner_view=partner_view)]


def seekers(index: MatchIndex, rows: list[Row], now: datetime, matches_each: int) -> list[Row]:
    """Each seeker with her best jobs, for those who consented to matching."""
    out = []
    for row in rows:
        entry: Row = {k: row[k] for k in ("resident_id", "grid_code", "employment_status", "tags")}
        entry["matches"] = matches(index, row, now, matches_each) if row["consent_matching"] and matches_each else []
        out.append(entry)
    return out
