"""Every command handler of volunteering, registered in one registry (`handlers`)."""

from volunteering.handlers import activities, ledger, residents, teams
from volunteering.handlers.registry import handlers

__all__ = ["activities", "handlers", "ledger", "residents", "teams"]
