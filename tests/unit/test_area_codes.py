"""The area code rule: each level's length, a child's code as its parent's plus one segment,
and scope compared by whole segments (in Python and in SQL)."""

from __future__ import annotations

import pytest
from doorstep_shared.area_filters import in_any_scope, in_scope
from doorstep_shared.areas import (
    CODE_LENGTHS,
    LEVELS,
    AreaLevel,
    check_code,
    code_problem,
    is_area_code,
    level_of,
    parent_of,
    within,
)
from doorstep_shared.auth import Principal, Role
from doorstep_shared.domain import InvalidInput
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert, select

TREE = {  # a level's code, and its parent's
    "city": ("3301", None),
    "district": ("330102", "3301"),
    "street": ("330102001", "330102"),
    "community": ("330102001001", "330102001"),
    "grid": ("330102001001001", "330102001001"),
}


def parent_level(level: str) -> str | None:
    i = LEVELS.index(AreaLevel(level))
    return LEVELS[i - 1] if i else None


def test_the_levels_and_their_lengths() -> None:
    assert [(str(level), n) for level, n in CODE_LENGTHS.items()] == [
        ("city", 4),
        ("district", 6),
        ("street", 9),
        ("community", 12),
        ("grid", 15),
    ]
    for level, (code, parent) in TREE.items():
        assert level_of(code) == level and parent_of(code) == parent


@pytest.mark.parametrize("level", list(TREE))
def test_each_level_takes_its_length_only(level: str) -> None:
    code, parent = TREE[level]
    assert code_problem(code, level, parent, parent_level(level)) is None
    check_code(code, level, parent, parent_level(level))
    for n in range(1, 17):
        if n == len(code):
            continue
        candidate = (code + "0000000000000000")[:n] if n > len(code) else code[:n]
        problem = code_problem(candidate, level, parent, parent_level(level))
        assert problem is not None and problem[0] == "code", (level, candidate)
        with pytest.raises(InvalidInput) as exc:
            check_code(candidate, level, parent, parent_level(level))
        assert exc.value.field == "code"


@pytest.mark.parametrize("bad", ["33O1", "３３０１", "33 1", "+301", "-301", ""])
def test_a_code_is_ascii_digits(bad: str) -> None:
    problem = code_problem(bad, "city", None, None)
    assert problem is not None and problem[0] == "code"
    assert not is_area_code(bad)


@pytest.mark.parametrize(
    ("code", "level", "parent", "parent_lvl", "field"),
    [
        ("330102002", "street", "330102", "district", None),  # the district's next street
        ("330105001", "street", "330102", "district", "code"),  # another district's segment
        ("3301020019", "street", "330102", "district", "code"),  # one digit too many
        ("330102001", "street", "3301", "city", "parent_code"),  # a street under a city
        ("330102001001", "community", "330102", "district", "parent_code"),
        ("330102001001", "community", "3301020019", "street", "parent_code"),  # a parent of the wrong length
        ("330102001", "street", None, None, "parent_code"),  # a street needs a district
        ("3301", "city", "33", "city", "parent_code"),  # a city has none
        ("330102001001", "hamlet", "330102001", "street", "level"),
    ],
)
def test_a_child_is_its_parents_code_and_one_segment(
    code: str, level: str, parent: str | None, parent_lvl: str | None, field: str | None
) -> None:
    problem = code_problem(code, level, parent, parent_lvl)
    assert (problem[0] if problem else None) == field, problem


@pytest.mark.parametrize(
    ("area", "scope", "inside"),
    [
        ("330102001001001", "330102001", True),
        ("330102001001001", "330102001001001", True),
        ("330102001", "330102001", True),
        ("330102001", "330102", True),
        ("330102001", "3301", True),
        ("330102002001001", "330102001", False),  # a sibling street
        ("330102", "330102001", False),  # above the scope
        ("3301020019", "330102001", False),  # a 10-digit "street"
        ("3301020019001001", "330102001", False),  # a grid under it
        ("3301020019001", "3301020019", False),  # nor is the 10-digit code a scope
        ("33010200", "330102", False),
        ("330102001001001", "3301020", False),  # a scope must be a whole code
        ("330102001001001", "", True),  # the city-wide scope
        ("3301020019001001", "", True),  # ...which covers what was recorded before the rule
    ],
)
def test_scope_compares_whole_segments(area: str, scope: str, inside: bool) -> None:
    assert within(area, scope) is inside
    assert Principal(subject="s", role=Role.STREET_ADMIN, areas=(scope,)).can_act_in(area) is inside


def test_scope_in_sql_is_the_same_rule() -> None:
    table = Table("rows", MetaData(), Column("code", String(32), primary_key=True))
    codes = ["330102001001001", "330102002001001", "3301020019", "3301020019001001", "330102001", "330102"]
    scopes = ["330102001", "330102", "3301020019", "3301020", ""]
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"code": c} for c in codes])
        for scope in scopes:
            got = set(conn.execute(select(table.c.code).where(in_scope(table.c.code, scope))).scalars())
            assert got == {c for c in codes if within(c, scope)}, scope
        assert set(conn.execute(select(table.c.code).where(in_any_scope(table.c.code, []))).scalars()) == set()
        both = in_any_scope(table.c.code, ["330102001", "330102002"])
        assert set(conn.execute(select(table.c.code).where(both)).scalars()) == {
            "330102001001001",
            "330102002001001",
            "330102001",
        }
