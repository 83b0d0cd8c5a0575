"""Bounded input: the shared command base refuses what the database cannot hold."""

from __future__ import annotations

import math
from typing import Annotated

import pytest
from doorstep_shared.inputs import MAX_POSITION, Command, Text, control_character
from pydantic import Field, StringConstraints, ValidationError


class Inner(Command):
    label: str = Field(max_length=20)


class Body(Command):
    name: str = Field(max_length=50)
    description: Text = Field("", max_length=500)
    tags: list[Annotated[str, StringConstraints(max_length=10)]] = Field(default_factory=list, max_length=3)
    inner: list[Inner] = Field(default_factory=list)
    count: int = 0
    ratio: float = 0.0
    free: str = ""  # no limit of its own: the base's backstop applies


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in exc.value.errors()]


@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\x1b[31m", "\x7f", "\x85", "\ud800"])
def test_control_characters_are_refused_in_one_line_text(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Body(name=bad)
    assert _fields(exc) == ["name"]


def test_free_text_may_hold_line_breaks_and_tabs_but_not_nul() -> None:
    assert Body(name="x", description="line one\nline two\r\n\tindented").description.startswith("line one")
    with pytest.raises(ValidationError) as exc:
        Body(name="x", description="a\nb\x00")
    assert _fields(exc) == ["description"]
    with pytest.raises(ValidationError) as exc:
        Body(name="line one\nline two")
    assert _fields(exc) == ["name"]


def test_ordinary_text_of_every_script_passes() -> None:
    for text in ["王秀英", "Zoë O'Brien", "家门口\u3000社区", "👩\u200d👧 family", "سلام"]:
        assert Body(name=text).name == text
        assert control_character(text) is None


def test_lists_nested_models_and_strings_are_bounded() -> None:
    with pytest.raises(ValidationError) as exc:
        Body(name="x", tags=["a"] * 4)
    assert _fields(exc) == ["tags"]
    with pytest.raises(ValidationError) as exc:
        Body(name="x", tags=["a" * 11])
    assert _fields(exc) == ["tags.0"]
    with pytest.raises(ValidationError) as exc:
        Body(name="x", inner=[{"label": "ok"}, {"label": "\x00"}])
    assert _fields(exc) == ["inner.1.label"]
    with pytest.raises(ValidationError) as exc:
        Body(name="x", free="y" * 5001)
    assert _fields(exc) == ["free"]


@pytest.mark.parametrize("value", [MAX_POSITION + 1, -(2**63) - 1, 10**30])
def test_integers_must_fit_a_bigint(value: int) -> None:
    with pytest.raises(ValidationError) as exc:
        Body(name="x", count=value)
    assert _fields(exc) == ["count"]
    assert Body(name="x", count=MAX_POSITION).count == MAX_POSITION


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_floats_must_be_finite(value: float) -> None:
    with pytest.raises(ValidationError) as exc:
        Body(name="x", ratio=value)
    assert _fields(exc) == ["ratio"]
