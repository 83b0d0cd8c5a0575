"""Command handlers, one module per sub-domain: load aggregates, check who is asking,
let the aggregates decide.

Each runs inside one unit of work (one transaction); handlers that touch two
aggregates (a hire fills an opening, an enrolment takes a seat) change both or
neither. Importing this package registers every handler in `handlers`.
"""

from jobs.handlers import applications, departures, fairs, leads, piecework, postings, training
from jobs.handlers.registry import handlers

__all__ = [
    "applications",
    "departures",
    "fairs",
    "handlers",
    "leads",
    "piecework",
    "postings",
    "training",
]
