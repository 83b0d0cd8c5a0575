"""Parsing of the national identifiers residents and employers register with.

Each parser returns a normalised value or raises `InvalidValue` naming the
failing field, so the API layer can turn it into an RFC 9457 problem that tells
the user exactly which rule their input broke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from registration.domain.enums import Sex

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "IdNumber",
    "InvalidValue",
    "age_on",
    "credit_code_check_char",
    "id_number_check_char",
    "mask_id_number",
    "mask_mobile",
    "parse_credit_code",
    "parse_id_number",
    "parse_mobile",
]


class InvalidValue(ValueError):
    """A submitted value broke a rule; `field` says which input to point the user at."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


# --- Resident identity number (GB 11643-1999) -------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_DIGITS17 = re.compile(r"[0-9]{17}")
_EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True, repr=False)
class IdNumber:
    """A checked resident identity number with the facts encoded in it."""

    value: str
    birth_date: date
    sex: Sex
    region_code: str

    def __repr__(self) -> str:
        # The full number is personal data; keep it out of logs and tracebacks.
        return f"IdNumber({mask_id_number(self.value)!r})"


def id_number_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits of an identity number."""
    if not _DIGITS17.fullmatch(first17):
        raise ValueError("expected exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(value: str, field: str = "id_number", *, today: date | None = None) -> IdNumber:
    """Validate an 18-character identity number; `today` is injectable for tests."""
    number = value.strip().upper()
    if len(number) != 18:
        raise InvalidValue(field, f"must be 18 characters, got {len(number)}")
    first17, check = number[:17], number[17]
    if not _DIGITS17.fullmatch(first17):
        raise InvalidValue(field, "the first 17 characters must be digits")
    if check not in "0123456789X":
        raise InvalidValue(field, "the last character must be a digit or X")
    if first17[0] == "0":
        raise InvalidValue(field, "address code must not start with 0")
    birth_date = _birth_date(first17[6:14], field, today or date.today())
    expected = id_number_check_char(first17)
    if check != expected:
        raise InvalidValue(field, f"check digit should be {expected}")
    return IdNumber(
        value=number,
        birth_date=birth_date,
        sex=Sex.MALE if int(first17[16]) % 2 else Sex.FEMALE,
        region_code=first17[:6],
    )


def _birth_date(raw: str, field: str, today: date) -> date:
    try:
        born = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise InvalidValue(field, f"birth date {raw} is not a date") from None
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidValue(field, f"birth date {raw} is before {_EARLIEST_BIRTH_YEAR}")
    if born > today:
        raise InvalidValue(field, f"birth date {raw} is in the future")
    return born


def mask_id_number(value: str) -> str:
    """Show only region and last four, enough for a person to recognise their own number."""
    if len(value) != 18:
        return "*" * len(value)
    return f"{value[:6]}********{value[-4:]}"


def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day`; someone born on 29 February ages on 1 March in common years."""
    if day < birth_date:
        raise ValueError("day is before the birth date")
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


# --- Mainland mobile numbers ------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s-]+")


def parse_mobile(value: str, field: str = "mobile") -> str:
    """Normalise a mainland mobile number, with or without +86, to its 11 digits."""
    compact = _MOBILE_SEPARATORS.sub("", value)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    if not (len(compact) == 11 and compact.isascii() and compact.isdigit()):
        raise InvalidValue(field, "must be an 11-digit mainland mobile number")
    if not _MOBILE.fullmatch(compact):
        raise InvalidValue(field, "must start with 13 to 19")
    return compact


def mask_mobile(value: str) -> str:
    """Mask the middle four digits of a normalised number, the form SMS notices use."""
    if len(value) != 11:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


# --- Unified social credit code (GB 32100-2015) ----------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_REGISTRATION_AUTHORITIES = frozenset("123456789ANY")
_DIVISION = re.compile(r"[0-9]{6}")


def credit_code_check_char(first17: str) -> str:
    """GB 32100 check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in _CREDIT_VALUES for c in first17):
        raise ValueError("expected 17 characters from the credit code alphabet")
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(value: str, field: str = "credit_code") -> str:
    """Validate an employer's 18-character unified social credit code."""
    code = value.strip().upper()
    if len(code) != 18:
        raise InvalidValue(field, f"must be 18 characters, got {len(code)}")
    for position, char in enumerate(code, start=1):
        if char not in _CREDIT_VALUES:
            raise InvalidValue(
                field,
                f"character {char!r} at position {position} is not allowed (I, O, S, V and Z are never used)",
            )
    if code[0] not in _REGISTRATION_AUTHORITIES:
        raise InvalidValue(field, f"registration authority code {code[0]} is unknown")
    if code[1] not in "123456789":
        raise InvalidValue(field, f"organisation type code {code[1]} is unknown")
    if not _DIVISION.fullmatch(code[2:8]):
        raise InvalidValue(field, "administrative division code (positions 3-8) must be digits")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise InvalidValue(field, f"check character should be {expected}")
    return code
