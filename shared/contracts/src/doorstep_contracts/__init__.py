"""The events Doorstep's services publish: one module per producer, used by producers and consumers alike.

Each module holds its service's event classes (immutable dataclasses with a
`schema_version`), its `registry`, and `TOPICS`: for each topic
`<service>.<aggregate>`, the events published on it. A producer records these
classes; a consumer binds to them (`@projection.on(AreaCreated)`) and reads a
record as one (`env.event(AreaCreated)`), so a renamed event or field fails
type checks and the contract test, not a read model at run time.
`docs/events.md` and every service's AsyncAPI document are generated from here.
"""

from __future__ import annotations

from types import ModuleType

from doorstep_shared.domain import Event

from doorstep_contracts import grid_reports, jobs, registration, volunteering

PRODUCERS: dict[str, ModuleType] = {m.SERVICE: m for m in (registration, jobs, grid_reports, volunteering)}


def topics_of(service: str) -> dict[str, list[type[Event]]]:
    """`{topic: events}` of one producer, topics named in full (`registration.residents`)."""
    module = PRODUCERS[service]
    return {f"{service}.{aggregate}": list(events) for aggregate, events in module.TOPICS.items()}


def all_topics() -> dict[str, list[type[Event]]]:
    """Every published topic and its events."""
    return {topic: events for service in PRODUCERS for topic, events in topics_of(service).items()}


def topic_of(event: type[Event]) -> str:
    """The topic an event class is published on."""
    for topic, events in all_topics().items():
        if event in events:
            return topic
    raise LookupError(f"{event.__name__} is not published by any service")
