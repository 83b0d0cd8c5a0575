"""HTTP API of grid reports, one module per resource: cases, visits, disputes, figures.

Commands answer `{id, version, position, ...}` and honour `Idempotency-Key`;
queries accept `?after=POSITION` to read their own writes. Open311 is in
`grid_reports.open311`.
"""

from __future__ import annotations

from grid_reports.api.cases import router as cases_router
from grid_reports.api.disputes import router as disputes_router
from grid_reports.api.figures import router as figures_router
from grid_reports.api.visits import router as visits_router

__all__ = ["cases_router", "disputes_router", "figures_router", "visits_router"]
