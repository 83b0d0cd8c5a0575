"""Every command has its handler; other services' facts become volunteering's commands."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

from doorstep_contracts.volunteering import registry
from doorstep_shared.commands import Command, Context, HandlerRegistry
from doorstep_shared.eventstore import EventStore
from doorstep_shared.messaging import Envelope
from doorstep_shared.uow import CommandResult
from volunteering import commands
from volunteering.commands import CreditIncentive, WithdrawResident
from volunteering.handlers import handlers
from volunteering.models import core
from volunteering.reactions import build_reactions

RECORDED = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def test_every_command_has_one_registered_handler() -> None:
    declared = {
        cls
        for _, cls in inspect.getmembers(commands, inspect.isclass)
        if issubclass(cls, Command) and cls.__module__ == commands.__name__ and cls is not commands.ParticipationCommand
    }
    assert declared == set(handlers)


def _envelope(service: str, event_type: str, data: dict[str, Any], event_id: str = "ev-1") -> Envelope:
    return Envelope(
        event_id=event_id,
        event_type=event_type,
        service=service,
        subject="s-1",
        sequence=1,
        position=1,
        schema_version=1,
        time=RECORDED,
        data=data,
        correlation_id="corr-1",
        causation_id=None,
        topic=f"{service}.x",
        partition=0,
        offset=0,
    )


async def _given(*envelopes: Envelope) -> list[tuple[Command, Context[Any]]]:
    """The commands the reactions give for these events (run by a registry that records them)."""
    given: list[tuple[Command, Context[Any]]] = []
    recording: HandlerRegistry[Any] = HandlerRegistry()

    async def record(cmd: Command, ctx: Context[Any]) -> CommandResult:
        given.append((cmd, ctx))
        return CommandResult(id="-", version=0, position=0)

    async def withdraw(cmd: WithdrawResident, ctx: Context[Any]) -> CommandResult:
        return await record(cmd, ctx)

    async def credit(cmd: CreditIncentive, ctx: Context[Any]) -> CommandResult:
        return await record(cmd, ctx)

    recording.register(withdraw)
    recording.register(credit)
    reactions = build_reactions()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    reactions.bind(
        service="volunteering",
        store=EventStore(core, registry),
        handlers=recording,
        now=lambda: now,
        deps=lambda: None,
    )
    for env in envelopes:
        await reactions.apply(None, env)  # no command here touches the database
    return given


async def test_residents_who_leave_are_withdrawn_as_of_the_event() -> None:
    given = await _given(
        _envelope("registration", "ResidentMovedOut", {"resident_id": "r-1", "reason": "left the city"}),
        _envelope("registration", "ResidentErased", {"resident_id": "r-2"}),
    )
    assert [cmd for cmd, _ in given] == [
        WithdrawResident(resident_id="r-1", reason="moved_out", at=RECORDED),
        WithdrawResident(resident_id="r-2", reason="erased", at=RECORDED),
    ]
    assert all(ctx.actor is None for _, ctx in given)  # the service itself acts


async def test_incentives_credit_their_points_once_per_source_event() -> None:
    earned = {"case_id": "c-1", "reporter_id": "r-3", "reporter_kind": "courier", "community_code": "330102001"}
    given = await _given(
        _envelope("grid_reports", "IncentiveEarned", {**earned, "points": 30}, event_id="ev-9"),
        _envelope("grid_reports", "IncentiveEarned", {**earned, "points": 0}, event_id="ev-10"),
    )
    assert [cmd for cmd, _ in given] == [
        CreditIncentive(
            reporter_id="r-3",
            points=30,
            case_id="c-1",
            source_event_id="ev-9",
            community_code="330102001",
            at=RECORDED,
        )
    ]
