"""Field shapes several commands share: area codes, times of day, ids, counts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

MAX_COUNT = 10_000_000  # pieces, fen: far above any real order, far below what a BIGINT holds


def area(description: str | None = None) -> Any:
    """A community (or finer) area code: digits only."""
    return Field(min_length=4, max_length=32, pattern=r"^\d+$", description=description)


def hhmm() -> Any:
    return Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


def reason() -> Any:
    return Field("", max_length=500)


def note() -> Any:
    return Field("", max_length=1000)


def resident() -> Any:
    return Field(min_length=1, max_length=36)


Skill = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
