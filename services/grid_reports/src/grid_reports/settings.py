"""Grid-reports settings: deadlines, visit cadences and incentive points are configurable.

Each map is JSON in the environment so a district can tune its own service
levels without a release; the defaults below are the national loop's usual
limits (safety first, lifts and facilities slower).
"""

from __future__ import annotations

from doorstep_shared.settings import ServiceSettings
from pydantic import Field

DEFAULT_DEADLINES: dict[str, dict[str, float]] = {
    "*": {"accept": 4, "assign": 8, "handle": 72, "rework": 48},
    "safety_hazard": {"accept": 1, "assign": 2, "handle": 24, "rework": 12},
    "noise": {"accept": 2, "assign": 4, "handle": 24, "rework": 24},
    "facility": {"handle": 168, "rework": 96},
    "welfare_need": {"accept": 8, "handle": 120},
    "employment_need": {"accept": 8, "handle": 120},
}

DEFAULT_CADENCES: dict[str, int] = {
    "elderly+living_alone": 7,
    "disabled": 30,
    "elderly": 30,
    "low_income": 30,
    "unemployed": 30,
    "veteran": 90,
}

DEFAULT_INCENTIVE_POINTS: dict[str, int] = {
    "courier_sentinel": 10,
    "resident": 5,
    "party_member_household": 5,
}


class Settings(ServiceSettings):
    service_name: str = "grid_reports"
    port: int = Field(8003, alias="GRID_REPORTS_PORT")
    deadlines_hours: dict[str, dict[str, float]] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINES), alias="GRID_REPORTS_DEADLINES_HOURS"
    )
    visit_cadence_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_CADENCES), alias="GRID_REPORTS_VISIT_CADENCE_DAYS"
    )
    incentive_points: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_INCENTIVE_POINTS),
        alias="GRID_REPORTS_INCENTIVE_POINTS",
    )
    feedback_window_hours: float = Field(72, alias="GRID_REPORTS_FEEDBACK_WINDOW_HOURS")
    due_soon_hours: float = Field(4, alias="GRID_REPORTS_DUE_SOON_HOURS")
    escalation_interval_seconds: float = Field(30, alias="GRID_REPORTS_ESCALATION_INTERVAL_SECONDS")
    escalation_batch_size: int = Field(200_000, alias="GRID_REPORTS_ESCALATION_BATCH_SIZE")
    max_photos: int = Field(9, alias="GRID_REPORTS_MAX_PHOTOS")
    max_photo_url_length: int = Field(500, alias="GRID_REPORTS_MAX_PHOTO_URL_LENGTH")
