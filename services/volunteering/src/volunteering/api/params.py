"""Path and query parameters the routes share."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.inputs import AreaCodeQuery
from fastapi import Path, Query
from pydantic import AwareDatetime

Id = Annotated[str, Path(min_length=1, max_length=64)]
AreaCode = AreaCodeQuery  # a whole code of one of the levels
Since = Annotated[AwareDatetime | None, Query(alias="from")]
Until = Annotated[AwareDatetime | None, Query(alias="to")]
