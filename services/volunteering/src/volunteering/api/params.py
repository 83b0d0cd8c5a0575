"""Path and query parameters the routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AwareDatetime

from volunteering.commands import AREA_CODE

Id = Annotated[str, Path(min_length=1, max_length=64)]
AreaCode = Annotated[str, Query(pattern=AREA_CODE)]
Since = Annotated[AwareDatetime | None, Query(alias="from")]
Until = Annotated[AwareDatetime | None, Query(alias="to")]
