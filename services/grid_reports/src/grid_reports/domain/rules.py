"""The vocabulary and the configurable rules every aggregate of this service checks.

A `Policy` bundles the limits a district tunes (deadlines per category and
step, the reporter's feedback window, incentive points, visit cadences, photo
limits); aggregates receive it with the command so the rules stay testable
without settings or I/O.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from doorstep_shared.areas import CODE_LENGTHS, AreaLevel
from doorstep_shared.domain import InvalidInput

CATEGORIES = (
    "public_opinion",
    "neighbour_dispute",
    "noise",
    "dogs",
    "facility",
    "environment",
    "safety_hazard",
    "traffic",
    "employment_need",
    "welfare_need",
    "other",
)
SOURCES = ("resident", "grid_worker", "party_member_household", "courier_sentinel", "hotline")
EXTERNAL_SOURCES = frozenset({"resident", "party_member_household", "courier_sentinel"})
PRIORITIES = ("low", "normal", "high", "urgent")

# Every state belongs to a kind: open (work to do), fixed (the problem was
# handled) or closed (ended without a fix: rejected or merged into another case).
STATE_KINDS: dict[str, str] = {
    "reported": "open",
    "accepted": "open",
    "assigned": "open",
    "in_progress": "open",
    "reopened": "open",
    "resolved": "fixed",
    "closed": "fixed",
    "rejected": "closed",
    "merged": "closed",
}
STATES = tuple(STATE_KINDS)
KINDS = ("open", "fixed", "closed")

# The deadline step that runs while a case is in a state; states without a step
# have no escalation clock.
STEP_OF_STATE: dict[str, str] = {
    "reported": "accept",
    "accepted": "assign",
    "assigned": "handle",
    "in_progress": "handle",
    "reopened": "rework",
}
STEPS = ("accept", "assign", "handle", "rework")

# The levels a case climbs, from the bottom, and their code lengths (the area rule's):
# a grid's code is its community's plus one segment, and so on up to the district.
LEVELS = ("grid", "community", "street", "district")
LEVEL_CODE_LENGTH = {level: CODE_LENGTHS[AreaLevel(level)] for level in reversed(LEVELS)}

FINDINGS = ("wants_job", "elderly_subsidy_check", "home_safety_hazard", "other")
VISIT_KINDS = ("door_knock", "phone", "office")
PARTY_KINDS = ("resident", "household", "organisation", "other")
DISPUTE_STATES = ("open", "mediating", "agreed", "not_agreed")


def clean_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    """The text without surrounding blanks, checked for presence and length."""
    value = value.strip()
    if required and not value:
        raise InvalidInput("must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"at most {max_length} characters", field=field)
    return value


# a mainland mobile number (11 digits from 13-19) or a resident ID number (18 characters; the
# old 15-digit numbers are not looked for, a grid's code has 15 digits too), once blanks and
# dashes between digits are taken out
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?![\dX])")
_DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-]+(?=[\dX])")


def check_public_text(value: str, field: str) -> None:
    """Text meant for the public names no phone or ID number (full-width digits count too)."""
    plain = _DIGIT_GAPS.sub("", unicodedata.normalize("NFKC", value).upper())
    if _MOBILE.search(plain):
        raise InvalidInput("must not contain a phone number", field=field)
    if _ID_NUMBER.search(plain):
        raise InvalidInput("must not contain an ID number", field=field)


def check_place(community_code: str, grid_code: str | None) -> None:
    """A community code has 12 digits; a grid's code extends its community's to 15."""
    if len(community_code) != LEVEL_CODE_LENGTH["community"] or not community_code.isdigit():
        raise InvalidInput("community code must be 12 digits", field="community_code")
    if grid_code is not None and (
        len(grid_code) != LEVEL_CODE_LENGTH["grid"]
        or not grid_code.isdigit()
        or not grid_code.startswith(community_code)
    ):
        raise InvalidInput("grid code must be 15 digits beginning with the community code", field="grid_code")


def kind_of(state: str) -> str:
    return STATE_KINDS[state]


def level_of_code(code: str) -> str:
    """The level of an area code, from its length (grid codes are the longest)."""
    for level, length in LEVEL_CODE_LENGTH.items():
        if len(code) == length:
            return level
    raise InvalidInput(f"area code {code!r} is not a district, street, community or grid code", field="area_code")


def escalation_target(level: str, grid_code: str | None, community_code: str) -> tuple[str, str] | None:
    """The next level up the tree and its area code, or None at the top (district)."""
    index = LEVELS.index(level)
    if index + 1 >= len(LEVELS):
        return None
    nxt = LEVELS[index + 1]
    base = grid_code or community_code
    return nxt, base[: LEVEL_CODE_LENGTH[nxt]]


@dataclasses.dataclass(frozen=True)
class Policy:
    """Limits a district configures; defaults come from the service settings."""

    deadlines_hours: Mapping[str, Mapping[str, float]]
    feedback_window: timedelta = timedelta(hours=72)
    incentive_points: Mapping[str, int] = dataclasses.field(default_factory=dict)
    visit_cadence_days: Mapping[str, int] = dataclasses.field(default_factory=dict)
    max_photos: int = 9
    max_photo_url_length: int = 500

    def limit(self, category: str, step: str) -> timedelta:
        """Time allowed for `step` of a `category` case; the "*" entry is the fallback."""
        specific = self.deadlines_hours.get(category, {})
        hours = specific.get(step, self.deadlines_hours.get("*", {}).get(step))
        if hours is None:
            raise InvalidInput(f"no deadline configured for step {step}", field="step")
        return timedelta(hours=hours)

    def due(self, category: str, step: str, start: datetime) -> datetime:
        return start + self.limit(category, step)

    def points_for(self, source: str) -> int:
        return self.incentive_points.get(source, 0) if source in EXTERNAL_SOURCES else 0

    def cadence_for(self, tags: Iterable[str]) -> int | None:
        """Days between visits for a resident: the tightest rule whose tags they all carry.

        Rule keys are tag sets joined by "+", so "elderly+living_alone" applies
        only to elderly residents who live alone.
        """
        have = set(tags)
        days = [d for key, d in self.visit_cadence_days.items() if set(key.split("+")) <= have]
        return min(days) if days else None

    def check_photos(self, photos: Sequence[str], field: str = "photos") -> tuple[str, ...]:
        """Photos are links the client uploaded elsewhere: https only, bounded, never fetched."""
        if len(photos) > self.max_photos:
            raise InvalidInput(f"at most {self.max_photos} photos", field=field)
        for i, url in enumerate(photos):
            if len(url) > self.max_photo_url_length:
                raise InvalidInput(
                    f"photo URL longer than {self.max_photo_url_length} characters",
                    field=f"{field}.{i}",
                )
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
                raise InvalidInput(
                    "photo must be an https URL with a host and no credentials",
                    field=f"{field}.{i}",
                )
        return tuple(photos)


def require_choice(value: str, choices: Sequence[str], field: str) -> None:
    if value not in choices:
        raise InvalidInput(f"{value!r} is not one of: {', '.join(choices)}", field=field)


def choice_pattern(choices: Sequence[str]) -> str:
    """A regular expression matching exactly one of `choices` (for query parameters)."""
    return f"^({'|'.join(choices)})$"
