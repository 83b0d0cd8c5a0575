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


def test_process_roles_decide_port_relay_polling_and_worker_tasks() -> None:
    from registration.settings import Settings

    whole = Settings(REGISTRATION_PORT=8001)
    api = Settings(REGISTRATION_PORT=8001, DOORSTEP_ROLE="api")
    worker = Settings(REGISTRATION_PORT=8001, DOORSTEP_ROLE="worker")
    assert (whole.listen_port, api.listen_port, worker.listen_port) == (8001, 8001, 8101)
    assert Settings(DOORSTEP_ROLE="worker", DOORSTEP_WORKER_PORT=9101).listen_port == 9101
    assert (whole.runs_worker_tasks, api.runs_worker_tasks, worker.runs_worker_tasks) == (True, False, True)
    # no commit in a worker's own process wakes its relay: it polls more often
    assert worker.relay_interval < whole.relay_interval
    assert Settings(DOORSTEP_ROLE="worker", RELAY_POLL_INTERVAL=0.5).relay_interval == 0.5
    with pytest.raises(ValueError, match="DOORSTEP_ROLE"):
        Settings(DOORSTEP_ROLE="reader")


@pytest.mark.parametrize("role", ["all", "worker"])
def test_only_the_api_role_runs_as_several_processes(role: str) -> None:
    from registration.settings import Settings

    assert Settings(DOORSTEP_ROLE="api", DOORSTEP_API_PROCESSES=3).api_processes == 3
    assert Settings(DOORSTEP_ROLE=role).api_processes == 1
    with pytest.raises(ValueError, match="DOORSTEP_ROLE=api"):  # its relay and projections would run twice
        Settings(DOORSTEP_ROLE=role, DOORSTEP_API_PROCESSES=2)
    with pytest.raises(ValueError, match="DOORSTEP_API_PROCESSES"):
        Settings(DOORSTEP_ROLE="api", DOORSTEP_API_PROCESSES=0)


@pytest.mark.parametrize("role", ["api", "worker"])
def test_a_service_whose_queries_read_projection_memory_refuses_to_split(role: str, tmp_path: Path) -> None:
    module = importlib.import_module("jobs.bootstrap")
    settings = module.Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/jobs.db",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        DOORSTEP_ROLE=role,
    )
    with pytest.raises(ValueError, match="one process"):
        Runtime(module.build_definition(settings), settings)
    from doorstep_shared.cli import splits

    assert not splits("jobs") and splits("registration")
