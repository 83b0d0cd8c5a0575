"""The closed vocabularies of registration, declared once.

Commands accept exactly these values (a 422 naming the field otherwise), the
aggregates check them again when they decide, and the read side filters and
documents with them. Members are strings: they compare equal to, and are
stored and published as, their values.
"""

from __future__ import annotations

from enum import StrEnum

# the area tree's levels and their code lengths are the core's, which checks scope by them
from doorstep_shared.areas import AreaLevel as AreaLevel


class Tag(StrEnum):
    """Circumstances a grid worker records, which employment programmes target."""

    ELDERLY = "elderly"
    LIVING_ALONE = "living_alone"
    DISABLED = "disabled"
    UNEMPLOYED = "unemployed"
    STAY_AT_HOME_PARENT = "stay_at_home_parent"
    LOW_INCOME = "low_income"
    VETERAN = "veteran"


class EmploymentStatus(StrEnum):
    EMPLOYED = "employed"
    UNEMPLOYED = "unemployed"
    FLEXIBLE = "flexible"
    RETIRED = "retired"
    STUDENT = "student"
    NOT_IN_LABOUR_FORCE = "not_in_labour_force"


class Hukou(StrEnum):
    """Household registration: local to the city or not."""

    LOCAL = "local"
    NON_LOCAL = "non_local"


class Sex(StrEnum):
    """As the resident ID number encodes it (its 17th digit)."""

    MALE = "male"
    FEMALE = "female"


class ResidentStatus(StrEnum):
    ACTIVE = "active"
    MOVED_OUT = "moved_out"
    ERASED = "erased"


class Weekday(StrEnum):
    """Days of an availability window, in the order a week is shown."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class Place(StrEnum):
    """Where a resident can work during a window."""

    HOME = "home"
    WORKSHOP = "workshop"
    ANY = "any"


class JobType(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    PIECEWORK = "piecework"
    ODD_JOB = "odd_job"
    PUBLIC_WELFARE = "public_welfare"
    HOME_BASED = "home_based"


class PayUnit(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    PIECE = "piece"


class PartnerKind(StrEnum):
    EMPLOYER = "employer"
    PIECEWORK_PROCESSOR = "piecework_processor"
    TRAINING_SCHOOL = "training_school"
    SOCIAL_ORGANISATION = "social_organisation"


class PartnerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class StaffRole(StrEnum):
    """The roles a staff account can hold (partners and residents sign in otherwise)."""

    CITY_ADMIN = "city_admin"
    DISTRICT_ADMIN = "district_admin"
    STREET_ADMIN = "street_admin"
    COMMUNITY_STAFF = "community_staff"
    GRID_WORKER = "grid_worker"
    TEAM_LEADER = "team_leader"


class StaffStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
