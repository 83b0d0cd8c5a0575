"""A resident's circumstances and what they offer: tags, skills, availability, job preferences.

Each check takes what a command carries, refuses what no resident record may
hold (naming the field) and returns it normalised: sorted and deduplicated,
skills lower-cased, a window's days in week order. The same facts then always
compare, index and project alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from doorstep_shared.domain import InvalidInput

from registration.domain.enums import JobType, PayUnit, Place, Tag, Weekday

TAGS = frozenset(Tag)
JOB_TYPES = frozenset(JobType)
PAY_UNITS = frozenset(PayUnit)
DAYS = tuple(Weekday)
PLACES = frozenset(Place)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_tags(tags: Iterable[str]) -> list[str]:
    unknown = sorted(set(tags) - TAGS)
    if unknown:
        raise InvalidInput(f"unknown tags: {', '.join(unknown)}", field="tags")
    return sorted(set(tags))


def check_skills(skills: Iterable[str]) -> list[str]:
    cleaned = sorted({s.strip().lower() for s in skills if s.strip()})
    if any(len(s) > 50 for s in cleaned):
        raise InvalidInput("a skill is at most 50 characters", field="skills")
    return cleaned


def check_availability(windows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, w in enumerate(windows):
        days = w.get("days") or []
        if not days or any(d not in DAYS for d in days):
            raise InvalidInput(f"days must be among {', '.join(DAYS)}", field=f"availability.{i}.days")
        start, end = w.get("start", ""), w.get("end", "")
        if not _TIME.match(start):
            raise InvalidInput("start must be HH:MM", field=f"availability.{i}.start")
        if not _TIME.match(end):
            raise InvalidInput("end must be HH:MM", field=f"availability.{i}.end")
        if end <= start:
            raise InvalidInput("a window must end after it starts", field=f"availability.{i}.end")
        place = w.get("place", Place.ANY)
        if place not in PLACES:
            raise InvalidInput(f"place must be one of {', '.join(sorted(PLACES))}", field=f"availability.{i}.place")
        out.append({"days": [d for d in DAYS if d in days], "start": start, "end": end, "place": place})
    return out


def check_preferences(prefs: Mapping[str, Any]) -> dict[str, Any]:
    types = prefs.get("types", [])
    unknown = sorted(set(types) - JOB_TYPES)
    if unknown:
        raise InvalidInput(f"unknown job types: {', '.join(unknown)}", field="job_preferences.types")
    unit = prefs.get("pay_unit")
    if unit is not None and unit not in PAY_UNITS:
        raise InvalidInput(
            f"pay_unit must be one of {', '.join(sorted(PAY_UNITS))}",
            field="job_preferences.pay_unit",
        )
    min_pay = prefs.get("min_pay_fen")
    if min_pay is not None and (not isinstance(min_pay, int) or min_pay < 0):
        raise InvalidInput("min_pay_fen must be a non-negative integer", field="job_preferences.min_pay_fen")
    return {"types": sorted(set(types)), "min_pay_fen": min_pay, "pay_unit": unit}
