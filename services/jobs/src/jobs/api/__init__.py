"""HTTP API of the jobs service, one router per sub-domain.

Commands answer `{id, version, position}` (pass `?after=position` to a query to read
your own write); queries read the read models, and matching the in-memory index.
"""

from jobs.api.applications import router as applications
from jobs.api.fairs import router as fairs
from jobs.api.leads import router as leads
from jobs.api.matching import router as matching
from jobs.api.piecework import router as piecework
from jobs.api.postings import router as postings
from jobs.api.training import router as training

ROUTERS = [postings, applications, matching, fairs, piecework, training, leads]
