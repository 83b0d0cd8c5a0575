"""Volunteering's answers to other services' facts, as its own commands.

- A resident who moved out or was erased (registration) leaves every roster and
  upcoming shift; the ledger keeps what they served.
- A courier's verified case (grid reports' IncentiveEarned) credits its points.

Both are harmless when redelivered or replayed: removal is a no-op for someone
no longer there, and a credit is keyed by the source event's id. Each acts as
of the moment the fact was recorded, as the event says.
"""

from __future__ import annotations

from datetime import datetime

from doorstep_contracts.grid_reports import IncentiveEarned
from doorstep_contracts.registration import ResidentErased, ResidentMovedOut
from doorstep_shared.domain import as_utc
from doorstep_shared.messaging import Envelope
from doorstep_shared.reactions import Reactions

from volunteering.commands import CreditIncentive, WithdrawResident


def _recorded(env: Envelope) -> datetime | None:
    return as_utc(env.time) if env.time else None


def build_reactions() -> Reactions:
    reactions = Reactions("reactions", ["registration.residents", "grid_reports.cases"])

    @reactions.react(ResidentMovedOut)
    def moved_out(event: ResidentMovedOut, env: Envelope) -> WithdrawResident:
        return WithdrawResident(resident_id=event.resident_id, reason="moved_out", at=_recorded(env))

    @reactions.react(ResidentErased)
    def erased(event: ResidentErased, env: Envelope) -> WithdrawResident:
        return WithdrawResident(resident_id=event.resident_id, reason="erased", at=_recorded(env))

    @reactions.react(IncentiveEarned)
    def incentive(event: IncentiveEarned, env: Envelope) -> CreditIncentive | None:
        if event.points <= 0:
            return None
        return CreditIncentive(
            reporter_id=event.reporter_id,
            points=event.points,
            case_id=event.case_id,
            source_event_id=env.event_id,
            community_code=event.community_code or "",
            at=_recorded(env),
        )

    return reactions
