"""Building blocks of every service's domain layer: events, aggregates, errors.

No framework imports here: aggregates are plain objects whose methods check the
rules and record events; the event store persists those events and nothing else.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Self, TypeVar


class DomainError(Exception):
    """A rule of the domain was broken; `field` names the input at fault, if any."""

    status = 422
    title = "Unprocessable request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The command does not fit the current state (an illegal transition, a duplicate)."""

    status = 409
    title = "Conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Event:
    """Base of all domain events: small immutable dataclasses.

    `schema_version` is bumped when a class changes shape; an upcaster registered
    with the event store lifts stored older versions to the current one.
    """

    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__

    def to_data(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        kwargs = {}
        for name, f in fields.items():
            if name in data:
                kwargs[name] = _from_jsonable(f.type, data[name])
        return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _from_jsonable(annotation: Any, value: Any) -> Any:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if value is None:
        return None
    if text.startswith("datetime") and isinstance(value, str):
        return datetime.fromisoformat(value)
    if text.startswith("date") and isinstance(value, str):
        return date.fromisoformat(value)
    if text.startswith("tuple") and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    if text.startswith("frozenset") and isinstance(value, list):
        return frozenset(value)
    return value


E = TypeVar("E", bound=Event)


class EventRegistry:
    """Maps stored type names to event classes, per service."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Event]] = {}

    def register(self, cls: type[E]) -> type[E]:
        self._classes[cls.type_name()] = cls
        return cls

    def __contains__(self, name: str) -> bool:
        return name in self._classes

    def get(self, name: str) -> type[Event]:
        return self._classes[name]

    def names(self) -> list[str]:
        return sorted(self._classes)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive value is read as UTC (SQLite keeps no offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Aggregate:
    """Event-sourced aggregate: methods check rules and `_record` events.

    State changes only in `apply`, so replaying the stream rebuilds the same
    object. `version` counts the events applied (0 = new).
    """

    stream_type: ClassVar[str] = ""
    # True when the creating events are the stream's only events (an area, say):
    # such an aggregate never changes, so a unit of work may reuse an earlier load.
    immutable: ClassVar[bool] = False

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self.pending: list[Event] = []

    def apply(self, event: Event) -> None:  # pragma: no cover - every aggregate overrides
        raise NotImplementedError

    def _record(self, event: Event) -> None:
        self.apply(event)
        self.version += 1
        self.pending.append(event)

    @classmethod
    def replay(cls, aggregate_id: str, events: list[Event]) -> Self:
        agg = cls(aggregate_id)
        for event in events:
            agg.apply(event)
            agg.version += 1
        return agg

    def collect(self) -> list[Event]:
        events, self.pending = self.pending, []
        return events

    def snapshot_state(self) -> dict[str, Any] | None:
        """Return state for a snapshot, or None if this aggregate does not snapshot."""
        return None

    def restore_state(self, state: dict[str, Any]) -> None:  # pragma: no cover - optional
        raise NotImplementedError


def require_state(current: str, allowed: set[str] | frozenset[str], action: str) -> None:
    """Raise Conflict unless `current` is one of `allowed` (an illegal transition is a 409)."""
    if current not in allowed:
        raise Conflict(f"cannot {action} while {current}", field="status")
