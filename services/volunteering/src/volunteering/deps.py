"""What volunteering's handlers and queries are given, built once when the service starts.

Handlers read these through `ctx.deps`, queries through the `Deps` dependency;
nothing reaches into the runtime for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

from doorstep_shared.db import Database
from doorstep_shared.runtime import service_deps
from fastapi import Depends

from volunteering.settings import Settings

if TYPE_CHECKING:
    from doorstep_shared.runtime import Runtime


@dataclasses.dataclass(frozen=True)
class VolunteeringDeps:
    db: Database  # the read models, for queries
    now: Callable[[], datetime]  # the service clock (UTC), for queries; handlers read `ctx.now`
    points_per_hour: int  # points credited per verified hour


def build_deps(runtime: Runtime) -> VolunteeringDeps:
    settings = cast(Settings, runtime.settings)
    return VolunteeringDeps(
        db=runtime.db,
        now=runtime.now,
        points_per_hour=settings.points_per_hour,
    )


Deps = Annotated[VolunteeringDeps, Depends(service_deps)]
