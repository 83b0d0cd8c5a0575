"""Piecework orders (手工外发): materials out in batches, pieces back, pay per accepted piece.

Money is exact: a delivery is worth `accepted × rate_fen` and a settlement pays
the sum of the resident's deliveries not yet settled, so every fen paid traces
back to the deliveries recorded before it. A batch can never be delivered
beyond what was issued, and the batches never exceed the order's quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from doorstep_contracts.jobs import (
    MaterialBatchIssued,
    PieceworkDelivered,
    PieceworkOrderClosed,
    PieceworkOrderPlaced,
    PieceworkPayoutSettled,
)
from doorstep_shared.domain import Aggregate, Conflict, Event, InvalidInput, NotFound, require_state

OrderStatus = Literal["open", "closed"]


@dataclass
class Batch:
    resident_id: str
    quantity: int
    delivered: int = 0

    @property
    def outstanding(self) -> int:
        return self.quantity - self.delivered


@dataclass
class Unsettled:
    amount_fen: int = 0
    pieces: int = 0
    deliveries: list[str] = field(default_factory=list)


class PieceworkOrder(Aggregate):
    stream_type = "piecework"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.partner_id = ""
        self.community_code = ""
        self.quantity = 0
        self.rate_fen = 0
        self.deadline: datetime | None = None
        self.batches: dict[str, Batch] = {}
        self.unsettled: dict[str, Unsettled] = {}
        self.paid_fen = 0

    @property
    def issued(self) -> int:
        return sum(b.quantity for b in self.batches.values())

    @classmethod
    def place(
        cls,
        order_id: str,
        *,
        partner_id: str,
        processor_name: str,
        community_code: str,
        item: str,
        quantity: int,
        rate_fen: int,
        deadline: datetime,
        now: datetime,
    ) -> PieceworkOrder:
        if not item.strip():
            raise InvalidInput("name the item to make", field="item")
        if quantity <= 0:
            raise InvalidInput("quantity must be more than zero", field="quantity")
        if rate_fen <= 0:
            raise InvalidInput("the rate per piece must be more than zero fen", field="rate_fen")
        if deadline <= now:
            raise InvalidInput("the deadline must be in the future", field="deadline")
        order = cls(order_id)
        order._record(
            PieceworkOrderPlaced(
                order_id,
                partner_id,
                processor_name,
                community_code,
                item.strip(),
                quantity,
                rate_fen,
                deadline.isoformat(),
            )
        )
        return order

    def issue_batch(self, batch_id: str, resident_id: str, quantity: int, now: datetime) -> None:
        require_state(self.status, {"open"}, "issue materials")
        if self.deadline is not None and now >= self.deadline:
            raise Conflict("the order's deadline has passed", field="deadline")
        if quantity <= 0:
            raise InvalidInput("a batch needs at least one piece", field="quantity")
        remaining = self.quantity - self.issued
        if quantity > remaining:
            raise InvalidInput(f"only {remaining} pieces of the order are left to issue", field="quantity")
        self._record(MaterialBatchIssued(self.id, batch_id, resident_id, quantity, now.isoformat()))

    def deliver(self, delivery_id: str, batch_id: str, accepted: int, rejected: int, now: datetime) -> int:
        """Record a checked delivery; returns the fen it earns."""
        batch = self.batches.get(batch_id)
        if batch is None:
            raise NotFound(f"batch {batch_id} is not part of this order", field="batch_id")
        if accepted < 0:
            raise InvalidInput("accepted cannot be negative", field="accepted")
        if rejected < 0:
            raise InvalidInput("rejected cannot be negative", field="rejected")
        if accepted + rejected == 0:
            raise InvalidInput("a delivery has at least one piece", field="accepted")
        if accepted + rejected > batch.outstanding:
            raise InvalidInput(f"the batch has only {batch.outstanding} pieces not yet delivered", field="accepted")
        amount = accepted * self.rate_fen
        self._record(
            PieceworkDelivered(
                self.id,
                delivery_id,
                batch_id,
                batch.resident_id,
                accepted,
                rejected,
                amount,
                now.isoformat(),
            )
        )
        return amount

    def settle(self, resident_id: str) -> tuple[int, list[str]]:
        """Pay all the resident's unsettled accepted pieces; returns (fen, deliveries paid)."""
        due = self.unsettled.get(resident_id)
        if due is None or due.amount_fen == 0:
            raise Conflict("nothing is owed to this resident on this order", field="resident_id")
        amount, paid = due.amount_fen, list(due.deliveries)
        self._record(PieceworkPayoutSettled(self.id, resident_id, due.amount_fen, due.pieces))
        return amount, paid

    def close(self, reason: str) -> None:
        require_state(self.status, {"open"}, "close the order")
        self._record(PieceworkOrderClosed(self.id, reason))

    def apply(self, event: Event) -> None:
        match event:
            case PieceworkOrderPlaced():
                self.status = "open"
                self.partner_id = event.partner_id
                self.community_code = event.community_code
                self.quantity = event.quantity
                self.rate_fen = event.rate_fen
                self.deadline = datetime.fromisoformat(event.deadline)
            case MaterialBatchIssued():
                self.batches[event.batch_id] = Batch(event.resident_id, event.quantity)
            case PieceworkDelivered():
                self.batches[event.batch_id].delivered += event.accepted + event.rejected
                due = self.unsettled.setdefault(event.resident_id, Unsettled())
                due.amount_fen += event.amount_fen
                due.pieces += event.accepted
                due.deliveries.append(event.delivery_id)
            case PieceworkPayoutSettled():
                self.unsettled.pop(event.resident_id, None)
                self.paid_fen += event.amount_fen
            case PieceworkOrderClosed():
                self.status = "closed"
