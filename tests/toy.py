"""A tiny event-sourced service used to exercise the platform core in tests."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep_shared.domain import Aggregate, Conflict, Event, EventRegistry
from doorstep_shared.eventstore import define_core_tables
from sqlalchemy import Column, Integer, MetaData, String, Table

registry = EventRegistry()
metadata = MetaData()
core = define_core_tables(metadata)
counters = Table(
    "counters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("label", String(100)),
)


@registry.register
@dataclass(frozen=True)
class CounterOpened(Event):
    counter_id: str
    label: str
    schema_version = 2  # v1 called the label "name"


@registry.register
@dataclass(frozen=True)
class CounterIncremented(Event):
    counter_id: str
    by: int


class Counter(Aggregate):
    stream_type = "counters"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.value = 0
        self.label = ""

    @classmethod
    def open(cls, counter_id: str, label: str) -> Counter:
        c = cls(counter_id)
        c._record(CounterOpened(counter_id, label))
        return c

    def increment(self, by: int) -> None:
        if by <= 0:
            raise Conflict("increment must be positive", field="by")
        self._record(CounterIncremented(self.id, by))

    def apply(self, event: Event) -> None:
        match event:
            case CounterOpened(label=label):
                self.label = label
            case CounterIncremented(by=by):
                self.value += by

    def snapshot_state(self) -> dict[str, object]:
        return {"value": self.value, "label": self.label}

    def restore_state(self, state: dict[str, object]) -> None:
        self.value = int(state["value"])  # type: ignore[call-overload]
        self.label = str(state["label"])
