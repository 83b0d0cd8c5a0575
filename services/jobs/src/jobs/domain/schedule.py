"""Weekday time windows: a job's schedule and a resident's availability.

A window is `{days: [mon..sun], start: "HH:MM", end: "HH:MM"}`; overnight
windows are not supported (split them at midnight), so `end` must be after
`start`. Minutes since midnight keep overlap arithmetic exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from doorstep_shared.domain import InvalidInput

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = get_args(Weekday)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Window:
    days: frozenset[str]
    start: int
    end: int
    place: str = "any"

    @property
    def minutes_per_week(self) -> int:
        return (self.end - self.start) * len(self.days)


def minutes(text: str, field: str) -> int:
    m = _HHMM.match(text or "")
    if not m:
        raise InvalidInput(f"{text!r} is not a time of day HH:MM", field=field)
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_windows(raw: Iterable[Mapping[str, Any]], field: str = "schedule") -> list[Window]:
    """Validate windows; a window that ends before (or when) it starts names its `end`."""
    out = []
    for i, w in enumerate(raw):
        days = [str(d).lower() for d in w.get("days", [])]
        if not days:
            raise InvalidInput("a time window needs at least one weekday", field=f"{field}.{i}.days")
        for d in days:
            if d not in DAYS:
                raise InvalidInput(f"{d!r} is not a weekday (mon..sun)", field=f"{field}.{i}.days")
        start = minutes(str(w.get("start", "")), f"{field}.{i}.start")
        end = minutes(str(w.get("end", "")), f"{field}.{i}.end")
        if end <= start:
            raise InvalidInput("the window ends before it starts", field=f"{field}.{i}.end")
        out.append(Window(frozenset(days), start, end, str(w.get("place", "any"))))
    return out


def lenient_windows(raw: Iterable[Mapping[str, Any]] | None) -> list[Window]:
    """Windows from another service's events: skip malformed ones instead of failing."""
    out = []
    for w in raw or []:
        try:
            out.extend(parse_windows([w]))
        except InvalidInput:
            continue
    return out


def covered_fraction(needed: list[Window], available: list[Window]) -> float:
    """Share of the needed weekly minutes that fall inside the available windows."""
    total = sum(w.minutes_per_week for w in needed)
    if total == 0:
        return 1.0
    covered = 0
    for need in needed:
        for day in need.days:
            spans = sorted((a.start, a.end) for a in available if day in a.days)
            cursor = need.start
            for s, e in spans:
                lo, hi = max(s, cursor), min(e, need.end)
                if hi > lo:
                    covered += hi - lo
                    cursor = hi
    return covered / total


def to_data(windows: list[Window]) -> list[dict[str, Any]]:
    return [
        {
            "days": [d for d in DAYS if d in w.days],
            "start": f"{w.start // 60:02d}:{w.start % 60:02d}",
            "end": f"{w.end // 60:02d}:{w.end % 60:02d}",
            **({"place": w.place} if w.place != "any" else {}),
        }
        for w in windows
    ]
