"""The dispute aggregate: a neighbour dispute under mediation, to agreement or not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from doorstep_contracts.grid_reports import DisputeAgreed, DisputeNotAgreed, DisputeOpened, MediationSessionHeld
from doorstep_shared.domain import Aggregate, Event, InvalidInput, require_state

from grid_reports.domain.rules import PARTY_KINDS, check_place, clean_text, require_choice


class Dispute(Aggregate):
    """A neighbour dispute under mediation: sessions with the parties, then agreement or not."""

    stream_type = "disputes"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.state = "new"
        self.community_code = ""
        self.grid_code: str | None = None
        self.party_ids: set[str] = set()
        self.sessions = 0

    @property
    def area_code(self) -> str:
        return self.grid_code or self.community_code

    @classmethod
    def open(
        cls,
        dispute_id: str,
        *,
        case_id: str | None,
        community_code: str,
        grid_code: str | None,
        parties: Sequence[dict[str, Any]],
        summary: str,
        by: str,
        now: datetime,
    ) -> Dispute:
        check_place(community_code, grid_code)
        if len(parties) < 2:
            raise InvalidInput("a dispute has at least two parties", field="parties")
        ids: set[str] = set()
        clean: list[dict[str, Any]] = []
        for i, party in enumerate(parties):
            party_id = clean_text(str(party.get("party_id", "")), f"parties.{i}.party_id", max_length=64)
            kind = str(party.get("kind", ""))
            require_choice(kind, PARTY_KINDS, f"parties.{i}.kind")
            if party_id in ids:
                raise InvalidInput(f"party {party_id} named twice", field=f"parties.{i}.party_id")
            ids.add(party_id)
            clean.append({"party_id": party_id, "kind": kind})
        dispute = cls(dispute_id)
        dispute._record(
            DisputeOpened(
                dispute_id=dispute_id,
                case_id=case_id,
                community_code=community_code,
                grid_code=grid_code,
                parties=tuple(clean),
                summary=clean_text(summary, "summary", max_length=2000),
                opened_by=by,
                opened_at=now,
            )
        )
        return dispute

    def hold_session(
        self,
        *,
        mediator_id: str,
        held_at: datetime,
        attendees: Sequence[str],
        notes: str,
        now: datetime,
    ) -> None:
        require_state(self.state, {"open", "mediating"}, "hold a mediation session")
        if held_at > now:
            raise InvalidInput("record a session after it is held", field="held_at")
        unknown = [a for a in attendees if a not in self.party_ids]
        if unknown:
            raise InvalidInput(f"not a party to this dispute: {', '.join(unknown)}", field="attendees")
        if not attendees:
            raise InvalidInput("at least one party attends a session", field="attendees")
        self._record(
            MediationSessionHeld(
                self.id,
                self.sessions + 1,
                mediator_id,
                held_at,
                tuple(dict.fromkeys(attendees)),
                clean_text(notes, "notes", max_length=4000, required=False),
            )
        )

    def agree(self, *, agreement: str, by: str, now: datetime) -> None:
        require_state(self.state, {"mediating"}, "record an agreement")
        self._record(DisputeAgreed(self.id, clean_text(agreement, "agreement", max_length=4000), by, now))

    def fail(self, *, reason: str, by: str, now: datetime) -> None:
        require_state(self.state, {"mediating"}, "end mediation without agreement")
        self._record(DisputeNotAgreed(self.id, clean_text(reason, "reason", max_length=2000), by, now))

    def apply(self, event: Event) -> None:
        match event:
            case DisputeOpened():
                self.state = "open"
                self.community_code, self.grid_code = event.community_code, event.grid_code
                self.party_ids = {p["party_id"] for p in event.parties}
            case MediationSessionHeld():
                self.state, self.sessions = "mediating", event.session_no
            case DisputeAgreed():
                self.state = "agreed"
            case DisputeNotAgreed():
                self.state = "not_agreed"
