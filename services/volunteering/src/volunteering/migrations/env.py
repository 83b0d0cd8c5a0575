"""Alembic environment of the volunteering service."""

from doorstep_shared.migrations import run_env
from volunteering.models import metadata

run_env(metadata)
