"""Volunteering's read models, each fed from Kafka by one projection.

- `own` ("volunteering"): this service's teams, activities and ledgers → rosters,
  activity lists, statements and totals (the projection `?after=` waits for).
- `directory`: registration's residents and staff, and jobs' giving-back marks.

Reactions that change this service's aggregates are in `volunteering.reactions`.
"""

from volunteering.projections import activities, ledger, teams
from volunteering.projections.directory import directory
from volunteering.projections.own import own

__all__ = ["activities", "directory", "ledger", "own", "teams"]
