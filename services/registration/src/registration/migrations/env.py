"""Alembic environment of the registration service."""

from doorstep_shared.migrations import run_env
from registration.models import metadata

run_env(metadata)
