"""Area codes: the levels of the area tree and the fixed-length segment each adds.

Codes follow the national shape (GB/T 2260 up to the county, then the street,
community and grid): a city has 4 digits, a district or county 6, a street 9,
a community 12 and a grid 15. A child's code is its parent's code plus exactly
one segment, so a code alone says which area holds it: the first 9 digits of a
grid's code are its street's. That is what lets every service decide "inside
my areas" without asking registration, and it holds only for whole codes: a
10-digit "street" 3301020019 begins with street 330102001's code but is not in
it, so scope compares whole segments and a code of any other length is in no
area's scope.

The city admin's scope is the empty code, the whole city. It covers every area
the city holds, including any recorded before codes were checked, so that such
records can still be read and corrected.

Registration owns the area tree and creates areas with `check_code`; every
service checks scope with `within`. Pure: no framework, no database.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from doorstep_shared.domain import InvalidInput


class AreaLevel(StrEnum):
    """The levels of the area tree, from the top; an area's parent is one level up."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"


LEVELS: Final = tuple(AreaLevel)  # top down: a level's parent is the one before it
CODE_LENGTHS: Final = {
    AreaLevel.CITY: 4,
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.GRID: 15,
}
LEVEL_OF_LENGTH: Final = {length: level for level, length in CODE_LENGTHS.items()}
WHOLE_LENGTHS: Final = frozenset(CODE_LENGTHS.values())
CITY_WIDE: Final = ""  # the city admin's scope: every area
# a whole code of one of the levels, for request validation (query parameters, bodies)
AREA_CODE_PATTERN: Final = "^(?:" + "|".join(f"[0-9]{{{n}}}" for n in sorted(WHOLE_LENGTHS)) + ")$"
SHAPE: Final = ", ".join(f"{level} {n}" for level, n in CODE_LENGTHS.items())


def level_of(code: str) -> AreaLevel | None:
    """The level a code's length says, or None for a code that is not a whole code of any level."""
    if not (code.isascii() and code.isdigit()):
        return None
    return LEVEL_OF_LENGTH.get(len(code))


def is_area_code(code: str) -> bool:
    return level_of(code) is not None


def parent_of(code: str) -> str | None:
    """The code of the area one level up (None for a city or a code that is not whole)."""
    level = level_of(code)
    if level is None or level == AreaLevel.CITY:
        return None
    return code[: CODE_LENGTHS[LEVELS[LEVELS.index(level) - 1]]]


def code_problem(code: str, level: str, parent_code: str | None, parent_level: str | None) -> tuple[str, str] | None:
    """What is wrong with a new area's place in the tree or its code, as (field, detail); None when both fit.

    `parent_code` and `parent_level` are the parent's as recorded (None for a city).
    The parent is checked first: a code can only be judged against a parent that fits.
    """
    if level not in CODE_LENGTHS:
        return "level", f"level must be one of {', '.join(LEVELS)}"
    this = AreaLevel(level)
    length = CODE_LENGTHS[this]
    expected = LEVELS[LEVELS.index(this) - 1] if this != AreaLevel.CITY else None
    if expected is None:
        if parent_code is not None:
            return "parent_code", "a city has no parent"
    elif parent_code is None:
        return "parent_code", f"a {level} needs a parent area, a {expected}"
    elif parent_level != expected or level_of(parent_code) != expected:
        return "parent_code", f"a {level} belongs to a {expected} with a {CODE_LENGTHS[expected]}-digit code"
    if not (code.isascii() and code.isdigit() and len(code) == length):
        return "code", f"a {level} code has {length} digits (area codes: {SHAPE})"
    if parent_code is not None and code[: len(parent_code)] != parent_code:
        return "code", f"a {level} code is its {expected}'s code {parent_code} and {length - len(parent_code)} digits"
    return None


def check_code(code: str, level: str, parent_code: str | None, parent_level: str | None) -> None:
    """Raise the 422 naming the field at fault when a new area's code breaks the segment rule."""
    problem = code_problem(code, level, parent_code, parent_level)
    if problem is not None:
        field, detail = problem
        raise InvalidInput(detail, field=field)


def within(area_code: str, scope: str) -> bool:
    """Whether `area_code` is the area `scope` or inside it, compared by whole segments.

    Both must be whole codes (the city-wide scope excepted, which covers every area).
    """
    if scope == CITY_WIDE:
        return True
    return area_code.startswith(scope) and is_area_code(scope) and is_area_code(area_code)
