"""The visit aggregate: a grid worker's visit to a resident or household, with what they found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from doorstep_contracts.grid_reports import VisitFindingRecorded, VisitRecorded
from doorstep_shared.domain import Aggregate, Event, InvalidInput

from grid_reports.domain.rules import FINDINGS, VISIT_KINDS, check_place, clean_text, require_choice


class Visit(Aggregate):
    """A grid worker's visit (敲门行动) to a resident or household, with what they found."""

    stream_type = "visits"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.resident_id: str | None = None
        self.grid_code = ""
        self.findings: tuple[str, ...] = ()

    @classmethod
    def record(
        cls,
        visit_id: str,
        *,
        resident_id: str | None,
        household_id: str | None,
        community_code: str,
        grid_code: str,
        grid_worker_id: str,
        kind: str,
        visited_at: datetime,
        findings: Sequence[tuple[str, str]],
        note: str,
        now: datetime,
    ) -> Visit:
        """Record the visit, and one `VisitFindingRecorded` per finding for others to act on."""
        if resident_id is None and household_id is None:
            raise InvalidInput("name the resident or the household visited", field="resident_id")
        check_place(community_code, grid_code)
        require_choice(kind, VISIT_KINDS, "kind")
        if visited_at > now:
            raise InvalidInput("a visit cannot be recorded before it happens", field="visited_at")
        seen: set[str] = set()
        for i, (finding, _note) in enumerate(findings):
            require_choice(finding, FINDINGS, f"findings.{i}.finding")
            if finding in seen and finding != "other":
                raise InvalidInput(f"finding {finding} given twice", field=f"findings.{i}.finding")
            seen.add(finding)
        visit = cls(visit_id)
        visit._record(
            VisitRecorded(
                visit_id=visit_id,
                resident_id=resident_id,
                household_id=household_id,
                community_code=community_code,
                grid_code=grid_code,
                grid_worker_id=grid_worker_id,
                kind=kind,
                visited_at=visited_at,
                findings=tuple(f for f, _ in findings),
                note=clean_text(note, "note", max_length=2000, required=False),
            )
        )
        for i, (finding, finding_note) in enumerate(findings):
            visit._record(
                VisitFindingRecorded(
                    visit_id=visit_id,
                    resident_id=resident_id,
                    finding=finding,
                    grid_code=grid_code,
                    grid_worker_id=grid_worker_id,
                    note=clean_text(finding_note, f"findings.{i}.note", max_length=1000, required=False),
                )
            )
        return visit

    def apply(self, event: Event) -> None:
        match event:
            case VisitRecorded():
                self.resident_id, self.grid_code, self.findings = (
                    event.resident_id,
                    event.grid_code,
                    event.findings,
                )
            case VisitFindingRecorded():
                pass
