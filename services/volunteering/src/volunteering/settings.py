"""Configuration of the volunteering service."""

from __future__ import annotations

from doorstep_shared.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "volunteering"
    port: int = Field(8004, alias="VOLUNTEERING_PORT")
    points_per_hour: int = Field(
        10,
        alias="VOLUNTEERING_POINTS_PER_HOUR",
        ge=0,
        description="Points credited per verified hour (pro rata by the minute, rounded down)",
    )
    command_retries: int = Field(
        5,
        alias="VOLUNTEERING_COMMAND_RETRIES",
        ge=0,
        description="Re-runs of a command that lost an optimistic-concurrency race",
    )
