"""`python -m bench.rebuild_from_log [N]`: registration's directory rebuilt from its event log alone.

A quick reading of the rebuild figure without the full `make bench`: N residents
(default 6000) are registered in-process with no broker at all (the commands
only append to the log), then `doorstep rebuild`'s code replays the log into a
shadow read model and swaps it in. Prints the figures as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
from doorstep_shared.auth import generate_keypair
from doorstep_shared.offline import rebuild_offline

from bench.registration_load import id_number

GRID = "330102001001001"
TREE = [
    ("3301", "city", None),
    ("330102", "district", "3301"),
    ("330102001", "street", "330102"),
    ("330102001001", "community", "330102001"),
    (GRID, "grid", "330102001001"),
]


async def main(residents: int) -> dict[str, object]:
    from registration.bootstrap import build_definition, create_app
    from registration.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        keys = generate_keypair(Path(tmp) / "keys")
        settings = Settings(
            KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",  # no broker: the log is the only history
            DOORSTEP_VAR_DIR=tmp,
            JWT_PRIVATE_KEY_FILE=str(keys[0]),
            JWT_PUBLIC_KEY_FILE=str(keys[1]),
            DOORSTEP_ADMIN_PASSWORD="bench bench bench",
            LOG_LEVEL="ERROR",
        )
        app = create_app(settings)
        started = time.perf_counter()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                r = await client.post("/auth/token", data={"username": "admin", "password": "bench bench bench"})
                h = {"Authorization": f"Bearer {r.json()['access_token']}"}
                for code, level, parent in TREE:
                    await client.post(
                        "/areas", json={"code": code, "name": code, "level": level, "parent_code": parent}, headers=h
                    )
                for i in range(residents):
                    body = {
                        "name": f"居民{i}",
                        "id_number": id_number(i),
                        "mobile": f"138{i:08d}"[-11:],
                        "grid_code": GRID,
                        "building": str(i % 54),
                        "unit": "1-101",
                        "hukou": "non_local",
                        "skills": ["sewing"],
                        "tags": ["stay_at_home_parent"] if i % 3 == 0 else [],
                    }
                    r = await client.post("/residents", json=body, headers=h)
                    assert r.status_code == 201, r.text
        seeded = time.perf_counter() - started
        report = await rebuild_offline(build_definition(settings), settings, only="directory")
        p = report["directory"]
        return {
            "seeded_events": residents + len(TREE),
            "seed_seconds": round(seeded, 1),
            "rebuild_state": p.state,
            "rebuild_source": p.source,
            "rebuild_events": p.events,
            "rebuild_seconds": round(p.seconds, 2),
            "rebuild_from_log_events_per_s": round(p.rate, 1),
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 6000)), indent=2))
