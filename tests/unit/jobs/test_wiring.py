"""How the jobs service is put together: every command has its handler, the match index
follows commits only, and other services' facts become the right commands."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jobs.commands
import pytest
from doorstep_contracts.grid_reports import VisitFindingRecorded
from doorstep_contracts.registration import ResidentErased, ResidentMovedOut
from doorstep_shared.commands import Command
from doorstep_shared.db import Database
from doorstep_shared.shadow import REPLAYING
from jobs.bootstrap import build_definition
from jobs.commands.applications import ApplicationStep
from jobs.commands.leads import OpenLead
from jobs.commands.residents import ReleaseResident
from jobs.domain.matching import JobFacts, MatchIndex
from jobs.handlers import handlers
from jobs.projections.index_feed import IndexFeed
from jobs.reactions import build_reactions, erased, moved_out, visit_finding
from jobs.settings import Settings
from sqlalchemy import text
from sqlalchemy.orm import Session


def _commands() -> set[type[Command]]:
    found: set[type[Command]] = set()
    for info in pkgutil.iter_modules(jobs.commands.__path__):
        module = importlib.import_module(f"jobs.commands.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Command) and obj.__module__ == module.__name__:
                found.add(obj)
    return found


def test_every_command_has_exactly_one_registered_handler() -> None:
    commands = _commands() - {ApplicationStep}  # the steps' shared shape, never given itself
    assert commands == set(handlers)


def _job(job_id: str) -> JobFacts:
    return JobFacts.from_row(
        {
            "job_id": job_id,
            "title": job_id,
            "community_code": "330102001001",
            "employment_type": "part_time",
            "pay_fen": 2500,
            "pay_unit": "hour",
            "valid_through": datetime.now(UTC) + timedelta(days=1),
        }
    )


async def test_the_index_takes_committed_changes_only(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/feed.db")
    feed = IndexFeed(MatchIndex())
    try:
        async with db.transaction() as s:
            feed.put_job(s, _job("kept"))
            assert "kept" not in feed.index.jobs  # not before the commit
        assert "kept" in feed.index.jobs
        with pytest.raises(RuntimeError):
            async with db.transaction() as s:
                feed.put_job(s, _job("lost"))
                await s.execute(text("SELECT 1"))
                raise RuntimeError("the batch failed")
        assert "lost" not in feed.index.jobs
        async with db.transaction() as s:
            s.sync_session.info[REPLAYING] = True  # a rebuild's shadow: the index reloads after the swap
            feed.drop_job(s, "kept")
        assert "kept" in feed.index.jobs
    finally:
        await db.dispose()


def test_the_service_adds_no_listener_to_every_session(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/jobs.db", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    build_definition(settings)
    session = Session()
    for name in ("after_commit", "after_rollback"):
        listeners = list(getattr(session.dispatch, name))
        assert not [fn for fn in listeners if getattr(fn, "__module__", "").startswith("jobs")], name


def test_reactions_listen_to_departures_and_visit_findings() -> None:
    reactions = build_reactions()
    assert reactions.name == "reactions"  # the consumer group running deployments already have
    assert set(reactions.handlers) == {"ResidentMovedOut", "ResidentErased", "VisitFindingRecorded"}


ENV: Any = None  # the decisions read the event only


def test_a_resident_who_left_is_released() -> None:
    assert moved_out(ResidentMovedOut(resident_id="r1", reason="away"), ENV) == ReleaseResident(
        resident_id="r1", reason="resident moved out"
    )
    assert erased(ResidentErased(resident_id="r1"), ENV) == ReleaseResident(
        resident_id="r1", reason="resident data erased"
    )


def test_only_a_wants_job_finding_about_a_resident_opens_a_lead() -> None:
    finding = VisitFindingRecorded(
        visit_id="v1",
        resident_id="r1",
        finding="wants_job",
        grid_code="330102001001001",
        grid_worker_id="gw-1",
        note="sews",
    )
    assert visit_finding(finding, ENV) == OpenLead(
        resident_id="r1", grid_code="330102001001001", grid_worker_id="gw-1", visit_id="v1", note="sews"
    )
    assert visit_finding(dataclasses.replace(finding, finding="other"), ENV) is None
    assert visit_finding(dataclasses.replace(finding, resident_id=None), ENV) is None
