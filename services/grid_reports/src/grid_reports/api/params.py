"""Query parameters the grid-reports queries share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

AreaCode = Annotated[str, Query(pattern=r"^\d{4,15}$", description="an area code (prefix of the tree)")]
Limit = Annotated[int, Query(ge=1, le=200)]
