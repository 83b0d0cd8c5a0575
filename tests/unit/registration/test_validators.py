"""Identity number, mobile number and credit code rules, with the field each error names."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from registration.domain.validators import (
    CREDIT_CODE_ALPHABET,
    IdNumber,
    InvalidValue,
    age_on,
    credit_code_check_char,
    id_number_check_char,
    mask_id_number,
    mask_mobile,
    parse_credit_code,
    parse_id_number,
    parse_mobile,
)

TODAY = date(2025, 6, 1)
VALID_IDS = [
    "11010519491231002X",  # the standard's own example
    "440304198001010017",
    "320106199512310029",
    "510107200002290037",  # born on a leap day
    "110101190001010014",  # earliest accepted year
]
VALID_CREDIT_CODES = [
    "91350100M000100Y43",
    "91110000600037341L",
    "91310000MA1FL0AB34",
    "521100005000000008",
    "12100000400010000L",
]


def _fails(value: str, field: str = "id_number") -> InvalidValue:
    with pytest.raises(InvalidValue) as caught:
        parse_id_number(value, field, today=TODAY)
    return caught.value


# --- identity numbers ------------------------------------------------------------------


def test_invalid_value_carries_field_and_detail() -> None:
    error = InvalidValue("mobile", "must start with 13 to 19")
    assert isinstance(error, ValueError)
    assert (error.field, error.detail, str(error)) == (
        "mobile",
        "must start with 13 to 19",
        error.detail,
    )


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_id_numbers_parse(value: str) -> None:
    assert parse_id_number(value, today=TODAY).value == value


def test_id_number_facts_are_decoded() -> None:
    parsed = parse_id_number("11010519491231002X", today=TODAY)
    assert parsed == IdNumber(
        value="11010519491231002X",
        birth_date=date(1949, 12, 31),
        sex="female",
        region_code="110105",
    )
    assert parse_id_number("440304198001010017", today=TODAY).sex == "male"


def test_lowercase_x_and_surrounding_space_are_normalised() -> None:
    assert parse_id_number(" 11010519491231002x ", today=TODAY).value == "11010519491231002X"


def test_id_number_repr_is_masked() -> None:
    parsed = parse_id_number("11010519491231002X", today=TODAY)
    assert "19491231" not in repr(parsed)
    assert "110105********002X" in repr(parsed)


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("", "must be 18 characters, got 0"),
        ("11010519491231002", "must be 18 characters, got 17"),
        ("11010519491231002X1", "must be 18 characters, got 19"),
        ("1101051949123100AX", "the first 17 characters must be digits"),
        ("11010519491231002٣", "the last character must be a digit or X"),
        ("1101051949123100٢X", "the first 17 characters must be digits"),
        ("11010519491231002Y", "the last character must be a digit or X"),
        ("010105194912310026", "address code must not start with 0"),
        ("110105199013010010", "birth date 19901301 is not a date"),
        ("110105199002300010", "birth date 19900230 is not a date"),
        ("110105200102290010", "birth date 20010229 is not a date"),
        ("110105189912310010", "birth date 18991231 is before 1900"),
        ("110105202506020010", "birth date 20250602 is in the future"),
        ("110105194912310021", "check digit should be X"),
        ("440304198001010010", "check digit should be 7"),
    ],
)
def test_invalid_id_numbers_name_the_rule(value: str, detail: str) -> None:
    error = _fails(value)
    assert error.field == "id_number"
    assert error.detail == detail


def test_id_number_error_uses_given_field() -> None:
    assert _fails("123", field="guardian.id_number").field == "guardian.id_number"


def test_birth_date_today_is_accepted() -> None:
    first17 = "11010520250601001"
    value = first17 + id_number_check_char(first17)
    assert parse_id_number(value, today=TODAY).birth_date == TODAY


def test_check_char_helper() -> None:
    assert id_number_check_char("11010519491231002") == "X"
    assert id_number_check_char("44030419800101001") == "7"
    with pytest.raises(ValueError):
        id_number_check_char("1234")


def test_mask_id_number() -> None:
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1990, 6, 15), date(2025, 6, 14), 34),
        (date(1990, 6, 15), date(2025, 6, 15), 35),
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(2000, 2, 29), date(2020, 2, 29), 20),
        (date(2025, 6, 1), date(2025, 6, 1), 0),
    ],
)
def test_age_on(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def test_age_on_rejects_day_before_birth() -> None:
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


@st.composite
def _id_prefixes(draw: st.DrawFn) -> str:
    region = draw(st.from_regex(r"[1-9][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return f"{region}{born:%Y%m%d}{sequence}"


@given(first17=_id_prefixes(), wrong=st.sampled_from("0123456789X"))
def test_computed_check_char_always_parses_and_any_other_fails(first17: str, wrong: str) -> None:
    check = id_number_check_char(first17)
    parsed = parse_id_number(first17 + check, today=TODAY)
    assert parsed.birth_date.strftime("%Y%m%d") == first17[6:14]
    assert parsed.sex == ("male" if int(first17[16]) % 2 else "female")

    if wrong != check:
        error = _fails(first17 + wrong)
        assert error.detail == f"check digit should be {check}"


@given(born=st.dates(min_value=TODAY + timedelta(days=1), max_value=date(2999, 12, 31)))
def test_future_birth_dates_fail(born: date) -> None:
    first17 = f"110105{born:%Y%m%d}001"
    assert "in the future" in _fails(first17 + id_number_check_char(first17)).detail


# --- mobile numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "8613812345678",
        "86-138-1234-5678",
        " 138-1234-5678 ",
        "+86-13812345678",
    ],
)
def test_mobile_numbers_are_normalised(value: str) -> None:
    assert parse_mobile(value) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_is_accepted(prefix: str) -> None:
    assert parse_mobile(prefix + "812345678") == prefix + "812345678"


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("", "must be an 11-digit mainland mobile number"),
        ("1381234567", "must be an 11-digit mainland mobile number"),
        ("138123456789", "must be an 11-digit mainland mobile number"),
        ("1381234567a", "must be an 11-digit mainland mobile number"),
        ("１３８１２３４５６７８", "must be an 11-digit mainland mobile number"),
        ("+85213812345678", "must be an 11-digit mainland mobile number"),
        ("(138)12345678", "must be an 11-digit mainland mobile number"),
        ("12812345678", "must start with 13 to 19"),
        ("23812345678", "must start with 13 to 19"),
        ("02012345678", "must start with 13 to 19"),
    ],
)
def test_invalid_mobile_numbers(value: str, detail: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_mobile(value, field="contact.mobile")
    assert (caught.value.field, caught.value.detail) == ("contact.mobile", detail)


def test_mask_mobile() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("123") == "***"


# --- unified social credit codes -------------------------------------------------------


@pytest.mark.parametrize("value", VALID_CREDIT_CODES)
def test_valid_credit_codes_parse(value: str) -> None:
    assert parse_credit_code(value) == value


def test_credit_code_is_normalised() -> None:
    assert parse_credit_code(" 91350100m000100y43\n") == "91350100M000100Y43"


def test_credit_code_check_char_helper() -> None:
    assert credit_code_check_char("91350100M000100Y4") == "3"
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M000100I4")


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("", "must be 18 characters, got 0"),
        ("91350100M000100Y4", "must be 18 characters, got 17"),
        (
            "91350100M000100I43",
            "character 'I' at position 16 is not allowed (I, O, S, V and Z are never used)",
        ),
        (
            "91350100O000100Y43",
            "character 'O' at position 9 is not allowed (I, O, S, V and Z are never used)",
        ),
        (
            "913501-0M000100Y43",
            "character '-' at position 7 is not allowed (I, O, S, V and Z are never used)",
        ),
        ("B1350100M000100Y43", "registration authority code B is unknown"),
        ("90350100M000100Y43", "organisation type code 0 is unknown"),
        ("9135A100M000100Y43", "administrative division code (positions 3-8) must be digits"),
        ("91350100M000100Y44", "check character should be 3"),
        ("91110000600037341A", "check character should be L"),
    ],
)
def test_invalid_credit_codes_name_the_rule(value: str, detail: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_credit_code(value)
    assert (caught.value.field, caught.value.detail) == ("credit_code", detail)


@given(
    first17=st.tuples(
        st.sampled_from("123456789ANY"),
        st.sampled_from("123456789"),
        st.from_regex(r"[0-9]{6}", fullmatch=True),
        st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
    ).map("".join),
    wrong=st.sampled_from(CREDIT_CODE_ALPHABET),
)
def test_computed_credit_check_char_always_parses(first17: str, wrong: str) -> None:
    check = credit_code_check_char(first17)
    assert parse_credit_code(first17 + check) == first17 + check
    if wrong != check:
        with pytest.raises(InvalidValue, match=f"check character should be {check}"):
            parse_credit_code(first17 + wrong)
