"""Jobs' own read model: one projection (one consumer group, `read_model`) over all of
jobs' topics, its handlers registered by each sub-domain's module."""

from __future__ import annotations

from doorstep_contracts.jobs import SERVICE, TOPICS
from doorstep_shared.projections import Projection

from jobs.models import (
    applications_t,
    batches_t,
    courses_t,
    deliveries_t,
    enrolments_t,
    fair_employers_t,
    fair_signups_t,
    fairs_t,
    leads_t,
    orders_t,
    postings_t,
    settlements_t,
)
from jobs.projections import applications, fairs, leads, piecework, postings, training
from jobs.projections.index_feed import IndexFeed

OWN_TOPICS = [f"{SERVICE}.{aggregate}" for aggregate in TOPICS]


def read_model_projection(feed: IndexFeed) -> Projection:
    p = Projection(
        "read_model",
        OWN_TOPICS,
        tables=[
            postings_t,
            applications_t,
            fairs_t,
            fair_employers_t,
            fair_signups_t,
            orders_t,
            batches_t,
            deliveries_t,
            settlements_t,
            courses_t,
            enrolments_t,
            leads_t,
        ],
    )
    postings.register(p, feed)
    applications.register(p)
    fairs.register(p)
    piecework.register(p)
    training.register(p)
    leads.register(p)
    p.after_rebuild(feed.reload)
    return p
