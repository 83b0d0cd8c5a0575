"""Matching residents and jobs: a score out of 100 and the reasons behind it.

Points: skills covered (40), hours that fit the resident's availability (20),
distance — same grid 20 > community 15 > street 8 > district 3 > elsewhere 0,
preferred job type (8), pay at or above the resident's minimum (7), and 15 for
a hard-to-employ resident on a public-welfare post. The index keeps both sides
in memory, with inverted lists by skill and area, so a query ranks a pre-filtered
pool cheaply (skills and distance) and fully scores only the best of it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from doorstep_shared.areas import CODE_LENGTHS, AreaLevel
from doorstep_shared.domain import as_utc

from jobs.domain.schedule import Window, covered_fraction, lenient_windows

HARD_TO_EMPLOY = frozenset({"disabled", "low_income", "unemployed", "elderly", "veteran"})
MAX_POINTS = 110
STREET, DISTRICT = CODE_LENGTHS[AreaLevel.STREET], CODE_LENGTHS[AreaLevel.DISTRICT]  # a code's first segments
DISTANCE_POINTS = {"grid": 20, "community": 15, "street": 8, "district": 3, "elsewhere": 0}


@dataclass(frozen=True)
class ResidentFacts:
    resident_id: str
    community_code: str
    grid_code: str
    skills: frozenset[str]
    tags: frozenset[str]
    availability: tuple[Window, ...]
    preferred_types: frozenset[str]
    min_pay_fen: int | None
    pay_unit: str | None
    employment_status: str
    consent_matching: bool
    share_with_partners: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ResidentFacts:
        prefs = row.get("job_preferences") or {}
        return cls(
            resident_id=row["resident_id"],
            community_code=row["community_code"],
            grid_code=row["grid_code"],
            skills=frozenset(row.get("skills") or ()) | frozenset(row.get("verified_skills") or ()),
            tags=frozenset(row.get("tags") or ()),
            availability=tuple(lenient_windows(row.get("availability"))),
            preferred_types=frozenset(prefs.get("types") or ()),
            min_pay_fen=prefs.get("min_pay_fen"),
            pay_unit=prefs.get("pay_unit"),
            employment_status=row.get("employment_status") or "",
            consent_matching=bool(row.get("consent_matching")),
            share_with_partners=bool(row.get("share_with_partners")),
        )


@dataclass(frozen=True)
class JobFacts:
    job_id: str
    title: str
    community_code: str
    grid_code: str | None
    employment_type: str
    skills: frozenset[str]
    schedule: tuple[Window, ...]
    pay_fen: int
    pay_unit: str
    partner_id: str | None
    valid_through: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> JobFacts:
        return cls(
            job_id=row["job_id"],
            title=row["title"],
            community_code=row["community_code"],
            grid_code=row.get("grid_code"),
            employment_type=row["employment_type"],
            skills=frozenset(row.get("skills") or ()),
            schedule=tuple(lenient_windows(row.get("schedule"))),
            pay_fen=row["pay_fen"],
            pay_unit=row["pay_unit"],
            partner_id=row.get("partner_id"),
            valid_through=as_utc(row["valid_through"]),
        )


@dataclass(frozen=True)
class Match:
    resident_id: str
    job_id: str
    score: float
    reasons: list[dict[str, Any]] = field(default_factory=list)


def distance(resident: ResidentFacts, job: JobFacts) -> str:
    if job.grid_code and job.grid_code == resident.grid_code:
        return "grid"
    if job.community_code == resident.community_code:
        return "community"
    if job.community_code[:STREET] == resident.community_code[:STREET]:
        return "street"
    if job.community_code[:DISTRICT] == resident.community_code[:DISTRICT]:
        return "district"
    return "elsewhere"


def _skill_points(resident: ResidentFacts, job: JobFacts) -> float:
    if not job.skills:
        return 20.0
    return 40.0 * len(job.skills & resident.skills) / len(job.skills)


def _reason(factor: str, points: float, detail: str) -> dict[str, Any]:
    return {"factor": factor, "points": round(points, 1), "detail": detail}


def score(resident: ResidentFacts, job: JobFacts) -> Match:
    """The full score of one resident for one job, with a reason per factor."""
    reasons = []
    if job.skills:
        covered = sorted(job.skills & resident.skills)
        missing = sorted(job.skills - resident.skills)
        detail = f"covers {len(covered)} of {len(job.skills)} skills"
        if covered:
            detail += f": {', '.join(covered)}"
        if missing:
            detail += f"; missing {', '.join(missing)}"
        reasons.append(_reason("skills", _skill_points(resident, job), detail))
    else:
        reasons.append(_reason("skills", 20.0, "no particular skill required"))

    if not job.schedule:
        reasons.append(_reason("hours", 10.0, "the job has no fixed hours"))
    elif not resident.availability:
        reasons.append(_reason("hours", 0.0, "the resident's availability is not known"))
    else:
        fit = covered_fraction(list(job.schedule), list(resident.availability))
        reasons.append(_reason("hours", 20.0 * fit, f"{round(fit * 100)}% of the job's hours fit the availability"))

    where = distance(resident, job)
    reasons.append(
        _reason(
            "distance",
            DISTANCE_POINTS[where],
            f"job is in the same {where}" if where != "elsewhere" else "job is outside the resident's district",
        )
    )

    if not resident.preferred_types:
        reasons.append(_reason("type", 4.0, "no preferred job type stated"))
    elif job.employment_type in resident.preferred_types:
        reasons.append(_reason("type", 8.0, f"{job.employment_type} is a preferred type"))
    else:
        reasons.append(_reason("type", 0.0, f"{job.employment_type} is not among the preferred types"))

    if resident.min_pay_fen is None:
        reasons.append(_reason("pay", 7.0, "no minimum pay stated"))
    elif resident.pay_unit and resident.pay_unit != job.pay_unit:
        reasons.append(
            _reason(
                "pay",
                3.0,
                f"paid per {job.pay_unit}, the resident states pay per {resident.pay_unit}",
            )
        )
    elif job.pay_fen >= resident.min_pay_fen:
        reasons.append(_reason("pay", 7.0, f"pays {job.pay_fen} fen per {job.pay_unit}, at or above the minimum"))
    else:
        reasons.append(_reason("pay", 0.0, f"pays {job.pay_fen} fen per {job.pay_unit}, below the minimum"))

    if job.employment_type == "public_welfare":
        hard = sorted(resident.tags & HARD_TO_EMPLOY)
        if hard:
            reasons.append(_reason("priority", 15.0, f"hard to employ ({', '.join(hard)}): public-welfare priority"))

    total = sum(r["points"] for r in reasons)
    return Match(resident.resident_id, job.job_id, round(100.0 * total / MAX_POINTS, 1), reasons)


def _quick(resident: ResidentFacts, job: JobFacts) -> float:
    """Upper part of the score that is cheap to compute: skills and distance."""
    return _skill_points(resident, job) + DISTANCE_POINTS[distance(resident, job)]


class MatchIndex:
    """Residents and open jobs in memory, with inverted lists by skill and area."""

    def __init__(self, shortlist_factor: int = 5) -> None:
        self.residents: dict[str, ResidentFacts] = {}
        self.jobs: dict[str, JobFacts] = {}
        self._by_skill: dict[str, set[str]] = {}
        self._by_area: dict[str, set[str]] = {}
        self.shortlist_factor = shortlist_factor

    # maintenance -------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything (before refilling from a rebuilt read model)."""
        self.residents.clear()
        self.jobs.clear()
        self._by_skill.clear()
        self._by_area.clear()

    def put_resident(self, facts: ResidentFacts) -> None:
        self.drop_resident(facts.resident_id)
        self.residents[facts.resident_id] = facts
        for s in facts.skills:
            self._by_skill.setdefault(s, set()).add(facts.resident_id)
        for code in _area_keys(facts):
            self._by_area.setdefault(code, set()).add(facts.resident_id)

    def drop_resident(self, resident_id: str) -> None:
        old = self.residents.pop(resident_id, None)
        if old is None:
            return
        for s in old.skills:
            self._by_skill.get(s, set()).discard(resident_id)
        for code in _area_keys(old):
            self._by_area.get(code, set()).discard(resident_id)

    def put_job(self, facts: JobFacts) -> None:
        self.jobs[facts.job_id] = facts

    def drop_job(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)

    # queries ------------------------------------------------------------------------------

    def matches_for(self, resident: ResidentFacts, now: datetime, limit: int) -> list[Match]:
        """Best open jobs for a resident."""
        open_jobs = [j for j in self.jobs.values() if j.valid_through > now]
        shortlist = heapq.nlargest(limit * self.shortlist_factor, open_jobs, key=lambda j: _quick(resident, j))
        return _ranked((score(resident, j) for j in shortlist), limit)

    def candidates_for(self, job: JobFacts, limit: int, *, partner_view: bool) -> list[Match]:
        """Best consenting residents for a job (sharing consent too when a partner asks).

        Residents fall into buckets by how many of the job's skills they hold and
        how near they live; a bucket's quick score is exact for all its members,
        so buckets are drained best first (set intersections, no per-resident
        scoring) until the shortlist is full, and only the shortlist is scored."""
        need = len(job.skills)
        hits: Counter[str] = Counter()
        for s in job.skills:
            hits.update(self._by_skill.get(s, ()))
        levels: dict[int, set[str]] = {}
        for rid, h in hits.items():
            levels.setdefault(h, set()).add(rid)
        tiers = [
            ("grid", self._by_area.get(f"g:{job.grid_code}", set()) if job.grid_code else set()),
            ("community", self._by_area.get(f"c:{job.community_code}", set())),
            ("street", self._by_area.get(f"s:{job.community_code[:STREET]}", set())),
            ("district", self._by_area.get(f"d:{job.community_code[:DISTRICT]}", set())),
        ]
        buckets: list[tuple[float, int, str, set[str] | None]] = []
        for h in [*levels, 0]:
            skill = 40.0 * h / need if need else 20.0
            for tier, area in tiers:
                buckets.append((skill + DISTANCE_POINTS[tier], h, tier, area))
            if h:
                buckets.append((skill, h, "elsewhere", None))
        buckets.sort(key=lambda b: -b[0])
        wanted = limit * self.shortlist_factor
        seen: set[str] = set()
        shortlist: list[ResidentFacts] = []
        for _, h, _tier, members in buckets:
            if len(shortlist) >= wanted:
                break
            group: set[str]
            if h:
                group = levels[h] if members is None else levels[h] & members
            else:
                group = members - hits.keys() if members is not None else set()
            for rid in group:
                if rid in seen:
                    continue
                seen.add(rid)
                r = self.residents[rid]
                if r.consent_matching and (r.share_with_partners or not partner_view):
                    shortlist.append(r)
                    if len(shortlist) >= wanted:
                        break
        return _ranked((score(r, job) for r in shortlist), limit)


def _area_keys(r: ResidentFacts) -> tuple[str, ...]:
    return (
        f"g:{r.grid_code}",
        f"c:{r.community_code}",
        f"s:{r.community_code[:STREET]}",
        f"d:{r.community_code[:DISTRICT]}",
    )


def _ranked(matches: Iterable[Match], limit: int) -> list[Match]:
    return sorted(matches, key=lambda m: (-m.score, m.resident_id, m.job_id))[:limit]
