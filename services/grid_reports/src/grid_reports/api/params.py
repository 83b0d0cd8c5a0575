"""Query parameters the grid-reports queries share."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.inputs import AreaCodeQuery
from fastapi import Query

AreaCode = AreaCodeQuery  # a whole code of one of the levels
Limit = Annotated[int, Query(ge=1, le=200)]
