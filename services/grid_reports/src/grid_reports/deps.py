"""What grid reports' handlers, queries and escalation sweep are given besides a command.

Built once from the settings when the service starts, so a district's
deadlines, cadences and incentive points are read in one place; the clock is
the runtime's (`ctx.now`, `runtime.now()`), which tests and demos move.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from doorstep_shared.runtime import service_deps
from fastapi import Depends

from grid_reports.domain.rules import Policy
from grid_reports.settings import Settings

if TYPE_CHECKING:
    from doorstep_shared.runtime import Runtime


@dataclasses.dataclass(frozen=True)
class GridReportsDeps:
    policy: Policy  # deadlines, feedback window, incentives, cadences, photo limits
    due_soon: timedelta  # how far ahead a grid worker's queue looks for cases falling due


def policy_from(settings: Settings) -> Policy:
    return Policy(
        deadlines_hours=settings.deadlines_hours,
        feedback_window=timedelta(hours=settings.feedback_window_hours),
        incentive_points=settings.incentive_points,
        visit_cadence_days=settings.visit_cadence_days,
        max_photos=settings.max_photos,
        max_photo_url_length=settings.max_photo_url_length,
    )


def build_deps(runtime: Runtime) -> GridReportsDeps:
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError(f"grid reports runs on its own settings, not {type(settings).__name__}")
    return GridReportsDeps(policy=policy_from(settings), due_soon=timedelta(hours=settings.due_soon_hours))


Deps = Annotated[GridReportsDeps, Depends(service_deps)]
