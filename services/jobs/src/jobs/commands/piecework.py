"""Piecework orders: placing them, issuing material batches, deliveries, payouts, closing."""

from __future__ import annotations

from doorstep_shared.commands import Command, CommandAccepted, Target
from pydantic import AwareDatetime, Field

from jobs.commands.fields import MAX_COUNT, AreaCode, Reason, ResidentRef


class PlaceOrder(Command):
    item: str = Field(min_length=1, max_length=200)
    community_code: AreaCode
    quantity: int = Field(gt=0, le=MAX_COUNT)
    rate_fen: int = Field(gt=0, le=MAX_COUNT, description="pay per accepted piece, in fen")
    deadline: AwareDatetime


class IssueBatch(Command):
    order_id: Target
    resident_id: ResidentRef
    quantity: int = Field(gt=0, le=MAX_COUNT)


class RecordDelivery(Command):
    order_id: Target
    batch_id: str = Field(min_length=1, max_length=36)
    accepted: int = Field(ge=0, le=MAX_COUNT)
    rejected: int = Field(0, ge=0, le=MAX_COUNT)


class SettlePayout(Command):
    order_id: Target
    resident_id: ResidentRef


class CloseOrder(Command):
    order_id: Target
    reason: Reason = ""


class BatchIssued(CommandAccepted):
    batch_id: str


class DeliveryRecorded(CommandAccepted):
    delivery_id: str
    amount_fen: int


class PayoutSettled(CommandAccepted):
    amount_fen: int
    delivery_ids: list[str] = Field(description="the deliveries this payout pays")
