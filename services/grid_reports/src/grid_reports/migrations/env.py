"""Alembic environment of the grid_reports service."""

from doorstep_shared.migrations import run_env
from grid_reports.models import metadata

run_env(metadata)
