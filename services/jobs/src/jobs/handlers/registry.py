"""The jobs service's one handler registry, and the context its handlers are given."""

from __future__ import annotations

from doorstep_shared.commands import Context, HandlerRegistry

from jobs.deps import JobsDeps

handlers = HandlerRegistry[JobsDeps]()
Ctx = Context[JobsDeps]
