"""The read model of volunteering's own teams, activities and ledgers (`?after=` waits for it).

One projection, fed from the service's three topics; its handlers live beside
it by resource (`teams`, `activities`, `ledger`).
"""

from __future__ import annotations

from datetime import datetime

from doorstep_contracts.volunteering import TOPICS
from doorstep_shared.domain import as_utc, utcnow
from doorstep_shared.messaging import Envelope
from doorstep_shared.projections import Projection

from volunteering.models import activities_t, ledger_t, members_t, participations_t, teams_t, totals_t

OWN_TOPICS = [f"volunteering.{aggregate}" for aggregate in TOPICS]

own = Projection(
    "volunteering",
    OWN_TOPICS,
    tables=[teams_t, members_t, activities_t, participations_t, ledger_t, totals_t],
)


def occurred(env: Envelope) -> datetime:
    """When the event was recorded (UTC), for facts that carry no instant of their own."""
    return as_utc(env.time or utcnow())
