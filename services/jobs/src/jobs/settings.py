"""Jobs service settings."""

from __future__ import annotations

from doorstep_shared.settings import ServiceSettings
from pydantic import Field


class Settings(ServiceSettings):
    service_name: str = "jobs"
    port: int = 8002
    expiry_sweep_seconds: float = Field(30.0, alias="JOBS_EXPIRY_SWEEP_SECONDS")
