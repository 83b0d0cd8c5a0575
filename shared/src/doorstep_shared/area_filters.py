"""Area scope as SQL: the rows whose area code is inside a scope, compared by whole segments.

The same rule as `doorstep_shared.areas.within`, for queries: a prefix match
alone would take a 16-digit grid code recorded under a 10-digit "street" for a
grid of the street whose 9-digit code it begins with. So a row's code must
also be a whole code (its length one of the levels'); the city-wide scope takes
every row, and a scope that is not a whole code takes none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import false, func, or_, true
from sqlalchemy.sql.elements import ColumnElement

from doorstep_shared.areas import CITY_WIDE, WHOLE_LENGTHS, is_area_code


def in_scope(column: Any, scope: str) -> ColumnElement[bool]:
    """`column` (an area code) is the area `scope` or inside it."""
    if scope == CITY_WIDE:
        return true()
    if not is_area_code(scope):
        return false()
    return column.startswith(scope, autoescape=True) & func.length(column).in_(sorted(WHOLE_LENGTHS))


def in_any_scope(column: Any, scopes: Iterable[str]) -> ColumnElement[bool]:
    """Inside one of the scopes (none: no row)."""
    clauses = [in_scope(column, s) for s in scopes]
    return or_(*clauses) if clauses else false()
