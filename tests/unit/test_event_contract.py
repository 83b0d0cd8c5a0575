"""The contract between services: every consumer binds to events its producer publishes, on the
topic it subscribes to; producers publish exactly their contract; the documents are generated."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from doorstep_contracts import PRODUCERS, all_topics, topic_of, topics_of
from doorstep_contracts.docs import consumers_of, document, service_definitions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def definitions() -> list[Any]:
    return service_definitions()


def test_every_consumer_binds_to_published_events_on_topics_it_reads(definitions: list[Any]) -> None:
    problems = []
    for definition in definitions:
        for projection in definition.projections:
            where = f"{definition.name}.{projection.name}"
            untyped = set(projection.handlers) - set(projection.consumes)
            if untyped:
                problems.append(f"{where} binds by name, not by contract class: {sorted(untyped)}")
            for name, cls in projection.consumes.items():
                topic = topic_of(cls)  # raises if no service publishes it
                if topic not in projection.topics:
                    problems.append(f"{where} handles {name} of {topic} but does not read that topic")
                producer = PRODUCERS[topic.split(".", 1)[0]]
                if producer.registry.get(name) is not cls:
                    problems.append(f"{where}: {name} is not the class {topic}'s producer records")
            for topic in projection.topics:
                if topic not in all_topics():
                    problems.append(f"{where} reads {topic}, which no service publishes")
    assert problems == []


def test_each_service_publishes_its_contract(definitions: list[Any]) -> None:
    for definition in definitions:
        contract = topics_of(definition.name)
        published = {
            f"{definition.name}.{aggregate}": list(events) for aggregate, events in definition.published.items()
        }
        assert published == contract
        recorded = {cls for events in contract.values() for cls in events}
        for cls in recorded:
            assert definition.registry.get(cls.type_name()) is cls


def test_event_fields_are_plain_data() -> None:
    """Consumers in any language read these: every field is JSON-able by the core's rules."""
    for topic, events in all_topics().items():
        for cls in events:
            assert dataclasses.is_dataclass(cls), (topic, cls)
            assert cls.schema_version >= 1


def test_the_events_document_is_generated_from_the_contract(definitions: list[Any]) -> None:
    path = ROOT / "docs" / "events.md"
    current = path.read_text(encoding="utf-8")
    assert current == document(current, consumers_of(definitions)), "docs/events.md is stale: run `make docs`"


def test_asyncapi_documents_headers_and_typed_consumed_channels(tmp_path: Path) -> None:
    import importlib

    for service in PRODUCERS:
        module = importlib.import_module(f"{service}.bootstrap")
        settings = module.Settings(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/{service}.db", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1"
        )
        spec = module.create_app(settings).state.runtime.asyncapi()
        messages = spec["components"]["messages"]
        assert messages and all("ce_type" in m["headers"]["properties"] for m in messages.values())
        schemas = spec["components"]["schemas"]
        for name, message in messages.items():
            if name.endswith(":SubscribeMessage"):
                payload = schemas[message["payload"]["$ref"].rsplit("/", 1)[1]]
                assert "properties" in payload or "oneOf" in payload or "anyOf" in payload or "$ref" in payload, name
