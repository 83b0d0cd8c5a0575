"""Each service's command handlers and its reacting projections append through one event store."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from doorstep_shared.runtime import Runtime


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
