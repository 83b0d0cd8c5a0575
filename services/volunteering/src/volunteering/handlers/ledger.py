"""The points ledger: redemptions by volunteers, partners and staff; incentives credited
for grid reports' verified cases (verified hours are booked with the verification)."""

from __future__ import annotations

from doorstep_shared.commands import Context
from doorstep_shared.domain import NotFound, new_id
from doorstep_shared.uow import CommandResult

from volunteering import authz
from volunteering.commands import CreditIncentive, Redeem
from volunteering.deps import VolunteeringDeps
from volunteering.domain.ledger import Ledger
from volunteering.handlers.registry import handlers, ledger_of, lock
from volunteering.models import Resident


@handlers.register
async def redeem(cmd: Redeem, ctx: Context[VolunteeringDeps]) -> CommandResult:
    """Spend points at a partner merchant or the community time bank."""
    uow, principal = ctx.uow, ctx.user
    await lock(uow, cmd.resident_id)
    ledger = await uow.find(Ledger, cmd.resident_id)
    resident = await uow.session.get(Resident, cmd.resident_id)
    community = (resident.community_code if resident else None) or (ledger.community_code if ledger else "")
    partner_id = authz.partner_of_redemption(principal, cmd.resident_id, cmd.channel, cmd.partner_id, community)
    if ledger is None:
        raise NotFound(f"volunteer {cmd.resident_id} has no ledger", field="resident_id")
    ledger.redeem(
        entry_id=new_id(),
        points=cmd.points,
        channel=cmd.channel,
        partner_id=partner_id,
        reference=cmd.reference,
        community_code=community,
        by=principal.subject,
        now=ctx.now,
    )
    return uow.result(ledger, balance=ledger.balance)


@handlers.register
async def credit_incentive(cmd: CreditIncentive, ctx: Context[VolunteeringDeps]) -> CommandResult:
    """Credit a courier's incentive once per source event (a redelivery is recognised)."""
    authz.require_service_itself(ctx.actor)
    ledger = await ledger_of(ctx.uow, cmd.reporter_id)
    ledger.credit(
        entry_id=new_id(),
        points=cmd.points,
        source="incentive",
        source_ref=cmd.case_id,
        dedupe_key=f"incentive:{cmd.source_event_id}",
        community_code=cmd.community_code,
        now=cmd.at or ctx.now,
    )
    return ctx.uow.result(ledger, balance=ledger.balance)
