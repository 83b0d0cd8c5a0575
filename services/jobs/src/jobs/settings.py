"""Jobs service settings."""

from __future__ import annotations

from doorstep_shared.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "jobs"
    port: int = Field(8002, alias="JOBS_PORT")
    expiry_sweep_seconds: float = Field(30.0, alias="JOBS_EXPIRY_SWEEP_SECONDS")
