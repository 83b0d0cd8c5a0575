"""HTTP API: commands answer `{id, version, position}`; queries read the read models.

Pass `?after=<position>` to a query to read your own write. Send an
`Idempotency-Key` header to make a command safe to retry.
"""

from volunteering.api.activities import activities_router
from volunteering.api.certificates import certificates_router
from volunteering.api.figures import figures_router
from volunteering.api.teams import teams_router
from volunteering.api.volunteers import volunteers_router

routers = [teams_router, activities_router, volunteers_router, certificates_router, figures_router]
