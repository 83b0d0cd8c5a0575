"""Bounded input: what any request may carry, checked once at the edge for every service.

A request that the database cannot hold must be a 422 naming the field, never a
500 from deep inside a driver: SQLite and PostgreSQL integers end at 2**63-1,
PostgreSQL text cannot hold NUL, and a list of 20,000 skills is not a resident's.

- `Command` is the base of every request body. Its configuration bounds every
  string (a backstop; fields set tighter limits), refuses NaN and infinities,
  and one validator walks each field's value: integers must fit a BIGINT and
  text must hold no control characters. Free text (`Text`: descriptions, notes)
  may hold line breaks and tabs; every other string is one line.
- `Position`, `Offset` and `QueryText` bound what queries and headers carry.
- `AreaCode` (a body field) and `AreaCodeQuery` (a query parameter) take whole
  area codes only (`doorstep_shared.areas`): 4, 6, 9, 12 or 15 digits.
- `ControlCharacterGuard` refuses control characters in the path and the query
  string (which no body model sees) before any route runs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from doorstep_shared.areas import AREA_CODE_PATTERN, SHAPE

MAX_POSITION: Final = 2**63 - 1  # BIGINT on PostgreSQL, INTEGER on SQLite
MIN_INTEGER: Final = -(2**63)
MAX_OFFSET: Final = 100_000  # deeper pages are filters' work, not offsets'
MAX_TEXT_LENGTH: Final = 5_000  # the longest free text any command takes
MAX_QUERY_TEXT: Final = 100  # filters are codes, ids, statuses, skills
LINE_BREAKS: Final = frozenset("\n\r\t")


class _Multiline:
    """Marker: a string field that may hold line breaks and tabs."""

    def __repr__(self) -> str:
        return "MULTILINE"


MULTILINE: Final = _Multiline()
Text = Annotated[str, MULTILINE]
Position = Annotated[int, Query(ge=0, le=MAX_POSITION, description="A log position")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
QueryText = Annotated[str | None, Query(max_length=MAX_QUERY_TEXT)]
_AREA_CODE_DOC: Final = f"A whole area code ({SHAPE} digits)"
AreaCode = Annotated[
    str,
    StringConstraints(pattern=AREA_CODE_PATTERN),
    Field(description=_AREA_CODE_DOC, examples=["330102001001"]),
]
AreaCodeQuery = Annotated[str, Query(pattern=AREA_CODE_PATTERN, description=_AREA_CODE_DOC)]


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control character (or unpaired surrogate, which no encoder takes) in `value`.

    Format characters (zero-width joiners in emoji) and wide spaces (U+3000) are text.
    """
    if value.isprintable():  # the common case, checked in C
        return None
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") and not (multiline and ch in LINE_BREAKS):
            return ch
    return None


def _describe(ch: str) -> str:
    return f"control character U+{ord(ch):04X} not allowed"


def _check(value: Any, multiline: bool) -> None:
    if isinstance(value, str):
        bad = control_character(value, multiline=multiline)
        if bad is not None:
            raise ValueError(_describe(bad))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not MIN_INTEGER <= value <= MAX_POSITION:
            raise ValueError(f"must be between {MIN_INTEGER} and {MAX_POSITION}")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check(item, multiline)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check(k, False)
            _check(v, multiline)


class Command(BaseModel):
    """Base of request bodies: bounded strings, finite numbers, no control characters.

    Nested models must derive from it too (each model validates its own fields).
    """

    model_config = ConfigDict(str_max_length=MAX_TEXT_LENGTH, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        multiline = field is not None and any(m is MULTILINE for m in field.metadata)
        _check(value, multiline)
        return value


# path and query string -----------------------------------------------------------------


class ControlCharacterGuard:
    """ASGI middleware: a control character in the path or a query parameter is a 422.

    Routes see such values only as `str` parameters, which no body model checks;
    stored or compared, NUL breaks PostgreSQL and the others break logs and CSVs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = _offending_part(scope)
            if field is not None:
                from doorstep_shared.problems import problem  # problems installs this guard

                name, ch = field
                response = problem(
                    422,
                    title="Invalid input",
                    detail=f"{name}: {_describe(ch)}",
                    instance=scope.get("path"),
                    errors=[{"field": name, "detail": _describe(ch)}],
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _offending_part(scope: Scope) -> tuple[str, str] | None:
    path: str = scope.get("path", "")
    bad = control_character(path)
    if bad is not None:
        return "path", bad
    raw: bytes = scope.get("query_string", b"")
    if not raw:
        return None
    query = raw.decode("latin-1")
    if "%" not in query and query.isprintable():
        return None
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        label = name if control_character(name) is None else "query"
        for part in (name, value):
            bad = control_character(part)
            if bad is not None:
                return label, bad
    return None
