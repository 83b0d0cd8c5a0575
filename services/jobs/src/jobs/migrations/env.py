"""Alembic environment of the jobs service."""

from doorstep_shared.migrations import run_env
from jobs.models import metadata

run_env(metadata)
