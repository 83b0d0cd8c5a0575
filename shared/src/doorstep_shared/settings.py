"""Settings every service shares, read from the environment (pydantic-settings).

Embedded mode (the default) runs on SQLite files and the bundled broker and may
generate its own keys; production refuses to start with a missing or placeholder
secret, so a copy-pasted example never reaches real residents' data.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "changethis", "secret", "password", "admin"})


class Environment(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


class ProcessRole(StrEnum):
    """What one process of a service runs.

    `all` is the whole service in one process. `api` serves HTTP and commands only;
    `worker` runs the outbox relay, the projections and the timers (and answers
    /health, /ready and /metrics on its own port). An API process and a worker
    use two cores where one process would queue everything on one.
    """

    ALL = "all"
    API = "api"
    WORKER = "worker"


WORKER_PORT_OFFSET = 100  # a worker answers /health, /ready, /metrics on its API's port + this


class ServiceSettings(BaseSettings):
    """Configuration of one service process; subclasses name the service and its port."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    service_name: str = "doorstep"
    environment: Environment = Field(Environment.EMBEDDED, alias="DOORSTEP_ENVIRONMENT")
    host: str = Field("127.0.0.1", alias="DOORSTEP_HOST")
    port: int = 8000
    var_dir: Path = Field(Path("var"), alias="DOORSTEP_VAR_DIR")

    database_url: str | None = Field(None, alias="DATABASE_URL")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_enable_idempotence: bool = Field(False, alias="KAFKA_ENABLE_IDEMPOTENCE")
    topic_prefix: str = Field("", alias="DOORSTEP_TOPIC_PREFIX")
    kafka_topic_partitions: int = Field(3, alias="KAFKA_TOPIC_PARTITIONS")
    kafka_replication_factor: int = Field(1, alias="KAFKA_REPLICATION_FACTOR")

    jwt_public_key_file: Path | None = Field(None, alias="JWT_PUBLIC_KEY_FILE")
    jwt_issuer: str = Field("doorstep-registration", alias="JWT_ISSUER")
    jwt_audience: str = Field("doorstep", alias="JWT_AUDIENCE")
    # where "Authorize" in every service's /docs signs in: registration's token endpoint
    token_url: str = Field("http://127.0.0.1:8001/auth/token", alias="DOORSTEP_TOKEN_URL")

    relay_batch_size: int = Field(500, alias="RELAY_BATCH_SIZE")
    # A commit in the relay's own process wakes it at once; a relay in a worker
    # process learns of new events only by polling. Each poll that finds events is
    # a batch with fixed costs (topic check, publish, checkpoint): at 400 commands/s
    # a worker spent 0.72 ms per command polling every 50 ms and 0.60 ms every
    # 100 ms, for about 40 ms more from command to read model (p99 ~170 ms).
    relay_poll_interval: float | None = Field(None, alias="RELAY_POLL_INTERVAL", gt=0)
    projection_max_attempts: int = Field(3, alias="PROJECTION_MAX_ATTEMPTS")
    # Only the holder of the relay lease publishes; when it dies another worker takes
    # over once the lease has expired (renewed every third of it while held).
    relay_lease_seconds: float = Field(10.0, alias="DOORSTEP_RELAY_LEASE_SECONDS", gt=1)
    # How long a projection's fetch may wait at the broker for new records. Apache
    # Kafka answers as soon as data arrives; the embedded broker holds the fetch for
    # the full wait, so a short one keeps read-your-writes quick.
    kafka_fetch_max_wait_ms: int = Field(20, alias="KAFKA_FETCH_MAX_WAIT_MS")
    # Projections nobody waits on (reactions to other services, secondary views) fetch
    # less often: each fetch costs CPU in the service and the broker even when idle.
    kafka_background_fetch_max_wait_ms: int = Field(250, alias="KAFKA_BACKGROUND_FETCH_MAX_WAIT_MS")
    read_wait_timeout: float = Field(2.0, alias="READ_WAIT_TIMEOUT")
    # how long a command's Idempotency-Key is remembered; an older key is unknown again
    idempotency_ttl_hours: float = Field(24.0, alias="IDEMPOTENCY_TTL_HOURS", gt=0)
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    role: ProcessRole = Field(ProcessRole.ALL, alias="DOORSTEP_ROLE")
    worker_port: int | None = Field(None, alias="DOORSTEP_WORKER_PORT")
    # API processes sharing the service's port (role api only: the relay and the
    # projections must run once per service). Python runs one core per process.
    api_processes: int = Field(1, alias="DOORSTEP_API_PROCESSES", ge=1)

    @property
    def runs_worker_tasks(self) -> bool:
        """Relay, projections and timers run here (not in an API-only process)."""
        return self.role != ProcessRole.API

    @property
    def worker_listen_port(self) -> int:
        """Where this service's worker answers (default: the API's port + 100)."""
        return self.worker_port or self.port + WORKER_PORT_OFFSET

    @property
    def listen_port(self) -> int:
        return self.worker_listen_port if self.role == ProcessRole.WORKER else self.port

    @property
    def relay_interval(self) -> float:
        if self.relay_poll_interval is not None:
            return self.relay_poll_interval
        return 0.1 if self.role == ProcessRole.WORKER else 0.2

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def resolved_database_url(self) -> str:
        """The async SQLAlchemy URL; embedded mode keeps one SQLite file per service."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.var_dir}/{self.service_name}.db"
        return to_async_url(url)

    def public_key_path(self) -> Path:
        return self.jwt_public_key_file or self.var_dir / "keys" / "jwt_public.pem"

    @model_validator(mode="after")
    def _several_processes_only_for_the_api(self) -> Self:
        if self.api_processes > 1 and self.role != ProcessRole.API:
            raise ValueError(
                f"DOORSTEP_API_PROCESSES={self.api_processes} needs DOORSTEP_ROLE=api: "
                "a service's relay and projections run in one process"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_real_infrastructure(self) -> Self:
        if self.is_production:
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set in production")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production runs on PostgreSQL, not SQLite")
            if self.jwt_public_key_file is None:
                raise ValueError("JWT_PUBLIC_KEY_FILE must be set in production")
        return self


def to_async_url(url: str) -> str:
    """Accept the usual sync spellings and return the driver the services run on."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql+psycopg://") or url.startswith("postgresql+psycopg2://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def refuse_placeholder(name: str, value: str | None, *, min_length: int = 12) -> None:
    """Raise when a production secret is missing, a known placeholder, or too short."""
    if value is None or value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < min_length:
        raise ValueError(f"{name} must be set to a real secret of at least {min_length} characters")
