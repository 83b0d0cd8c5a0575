"""Command handlers, one module per sub-domain: load aggregates, check who is asking,
let the aggregates decide.

Each runs inside one unit of work (one transaction); handlers that touch two
aggregates (a hire fills an opening, an enrolment takes a seat) change both or
neither. Importing a sub-domain's module registers its handlers in `handlers`.
"""

from jobs.handlers import applications, departures, fairs, leads, piecework, postings, training  # noqa: F401
from jobs.handlers.registry import handlers

__all__ = ["handlers"]
