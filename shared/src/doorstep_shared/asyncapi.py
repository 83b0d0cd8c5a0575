"""The AsyncAPI document of a service: what it publishes and what it consumes.

Published channels carry the contract's event classes (`doorstep_contracts`), consumed
channels the classes each projection binds to, and every message the CloudEvents
headers the relay writes (`HEADERS_SCHEMA`), so the document is generated from the
same code that produces and consumes, and cannot drift from it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from doorstep_shared.domain import Event
from doorstep_shared.messaging import HEADERS_SCHEMA, topic_name

if TYPE_CHECKING:
    from doorstep_shared.runtime import Runtime


def build_asyncapi(runtime: Runtime) -> dict[str, Any]:
    """Published topics typed by the contract's events, consumed ones by what each projection binds to."""
    broker = KafkaBroker(runtime.settings.kafka_bootstrap_servers)
    prefix = runtime.settings.topic_prefix
    for aggregate, classes in runtime.definition.published.items():
        names = ", ".join(c.type_name() for c in classes)
        schema: Any = Union[tuple(classes)] if len(classes) > 1 else (classes[0] if classes else None)  # noqa: UP007
        broker.publisher(
            topic_name(runtime.name, aggregate, prefix),
            title=f"{runtime.name}.{aggregate}",
            description=f"Events of {aggregate}, keyed by aggregate id, CloudEvents headers: {names}",
            schema=schema,
        )
    for runner in runtime.runners.values():
        sub = broker.subscriber(
            *runner.topics,
            group_id=f"{runtime.name}.{runner.name}",
            title=f"{runtime.name}.{runner.name}",
            description=f"Consumes: {', '.join(sorted(runner.projection.consumes)) or 'nothing typed'}",
        )
        sub(_consumer_doc(list(runner.projection.consumes.values())))
    spec = AsyncAPI(
        broker,
        title=f"Doorstep {runtime.definition.title}",
        version="1.0.0",
        description=runtime.definition.description,
    )
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    for message in document.get("components", {}).get("messages", {}).values():
        message["headers"] = HEADERS_SCHEMA
    return document


def _consumer_doc(consumed: list[type[Event]]) -> Callable[..., Awaitable[None]]:
    """A subscriber for the AsyncAPI document only, its payload typed as the events consumed."""

    async def consume(body: Any) -> None:  # pragma: no cover - documentation only
        """Projection subscriber (documentation)."""

    payload: Any = Union[tuple(consumed)] if len(consumed) > 1 else (consumed[0] if consumed else dict[str, Any])  # noqa: UP007
    consume.__annotations__ = {"body": payload, "return": None}
    return consume
