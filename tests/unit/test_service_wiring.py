"""Each service's command handlers and its reacting projections append through one event store."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest
from doorstep_shared.eventstore import EventStore, Upcasters
from doorstep_shared.runtime import Runtime, ServiceDefinition


@pytest.mark.parametrize("service", ["registration", "jobs", "volunteering"])
def test_reactions_share_the_runtime_event_store(service: str, tmp_path: Path) -> None:
    module = importlib.import_module(f"{service}.bootstrap")
    settings = module.Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/{service}.db", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1"
    )
    definition = module.build_definition(settings)
    runtime = Runtime(definition, settings)
    assert definition.store is not None
    assert runtime.store is definition.store
    assert runtime.store.snapshot_every == definition.snapshot_every


def _definition(tmp_path: Path) -> ServiceDefinition:
    module = importlib.import_module("volunteering.bootstrap")
    url = f"sqlite+aiosqlite:///{tmp_path}/volunteering.db"
    definition: ServiceDefinition = module.build_definition(
        module.Settings(DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    )
    return definition


def test_a_store_that_snapshots_otherwise_is_refused(tmp_path: Path) -> None:
    definition = _definition(tmp_path)
    other = EventStore(definition.core, definition.registry, snapshot_every=definition.snapshot_every + 1)
    with pytest.raises(ValueError, match="snapshots every"):
        dataclasses.replace(definition, store=other)


def test_a_store_without_the_definitions_upcasters_is_refused(tmp_path: Path) -> None:
    definition = _definition(tmp_path)
    upcasters = Upcasters()
    upcasters.register("SomethingHappened", 1)(lambda data: data)
    with pytest.raises(ValueError, match="upcasters"):
        dataclasses.replace(definition, upcasters=upcasters)
    matching = EventStore(definition.core, definition.registry, upcasters, snapshot_every=definition.snapshot_every)
    assert dataclasses.replace(definition, upcasters=upcasters, store=matching).store is matching
