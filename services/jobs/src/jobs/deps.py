"""What the jobs service's handlers and queries are given, built once per running service.

The match index lives in process memory: the projections feed it (see
`projections.index_feed`) and the matching queries read it, so both are handed
the same one, made with the service definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from doorstep_shared.db import Database
from doorstep_shared.runtime import Runtime, service_deps
from fastapi import Depends

from jobs.domain.matching import MatchIndex


@dataclass(frozen=True)
class JobsDeps:
    db: Database
    match_index: MatchIndex
    now: Callable[[], datetime]  # the service clock (tests move it), for queries that rank by time


def build_deps(runtime: Runtime, *, match_index: MatchIndex) -> JobsDeps:
    return JobsDeps(db=runtime.db, match_index=match_index, now=runtime.now)


Deps = Annotated[JobsDeps, Depends(service_deps)]
