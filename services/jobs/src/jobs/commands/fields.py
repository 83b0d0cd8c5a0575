"""Field types several commands share: area codes, times of day, ids, counts, free text."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.inputs import AreaCode as AreaCode  # a whole code of one of the levels
from doorstep_shared.inputs import Text
from pydantic import Field, StringConstraints

MAX_COUNT = 10_000_000  # pieces, fen: far above any real order, far below what a BIGINT holds

TimeOfDay = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]  # HH:MM
ResidentRef = Annotated[str, Field(min_length=1, max_length=36)]
Reason = Annotated[Text, Field(max_length=500)]
Note = Annotated[Text, Field(max_length=1000)]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
