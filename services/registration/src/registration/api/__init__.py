"""Registration's HTTP API, one router per resource: writes dispatch commands, reads call views."""

from __future__ import annotations

from registration.api.areas import areas_router
from registration.api.auth import auth_router
from registration.api.partners import partners_router
from registration.api.residents import residents_router
from registration.api.staff import staff_router

routers = [auth_router, areas_router, residents_router, partners_router, staff_router]
