"""Fuzzing every service's OpenAPI document: no input, however odd, may cause a 5xx.

Schemathesis generates requests from each operation's schema, valid ones and
ones that break the schema (too large integers, control characters, overlong
lists), and sends them in-process to the real application, as a city admin.
A 5xx is a bug: every bad input must be answered as a 4xx problem.

`make test` runs a small, derandomized run on SQLite within a time budget;
`make fuzz` runs a bigger one (`FUZZ_EXAMPLES`, `FUZZ_SECONDS` per service,
`FUZZ_BACKENDS`) and prints each service's request and status counts.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from doorstep_shared.settings import ProcessRole
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode

from tests.helpers import token_for

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SECONDS_PER_SERVICE = float(os.environ.get("FUZZ_SECONDS", "20"))
REPORT = os.environ.get("FUZZ_REPORT")
BACKENDS = os.environ.get("FUZZ_BACKENDS", "sqlite").split(",")
SERVICES = ["registration", "jobs", "grid_reports", "volunteering"]


def _app(service: str, database_url: str, jwt_keys: tuple[Path, Path], tmp: Path) -> FastAPI:
    common: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # no broker: only the HTTP surface is under test
        "JWT_PUBLIC_KEY_FILE": str(jwt_keys[1]),
        "DOORSTEP_VAR_DIR": str(tmp / service),
        "READ_WAIT_TIMEOUT": 0.05,
        "LOG_LEVEL": "CRITICAL",
    }
    factory: Callable[..., FastAPI]
    if service == "registration":
        from registration.bootstrap import create_app as factory
        from registration.settings import Settings as RegistrationSettings

        settings: Any = RegistrationSettings(
            **common, JWT_PRIVATE_KEY_FILE=str(jwt_keys[0]), DOORSTEP_ADMIN_PASSWORD="fuzzing admin password"
        )
    elif service == "jobs":
        from jobs.bootstrap import create_app as factory
        from jobs.settings import Settings as JobsSettings

        settings = JobsSettings(**common)  # its queries read in-process state: one process, role all
    elif service == "grid_reports":
        from grid_reports.bootstrap import create_app as factory
        from grid_reports.settings import Settings as GridSettings

        settings = GridSettings(**common)
    else:
        from volunteering.bootstrap import create_app as factory
        from volunteering.settings import Settings as VolunteeringSettings

        settings = VolunteeringSettings(**common)
    if settings.role == ProcessRole.ALL and service != "jobs":
        settings = settings.model_copy(update={"role": ProcessRole.API})
    return factory(settings)


@pytest.mark.timeout(int(SECONDS_PER_SERVICE * 2 + 120))  # generation goes on briefly after the budget
@pytest.mark.parametrize("service", SERVICES)
def test_no_input_causes_a_server_error(
    service: str, database_url: str, jwt_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if backend not in BACKENDS:
        pytest.skip("set FUZZ_BACKENDS=sqlite,postgresql to fuzz on PostgreSQL too")
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app(service, database_url, jwt_keys, tmp_path))
    auth = token_for(jwt_keys, "city_admin", [""], subject="fuzz-admin")
    deadline = time.monotonic() + SECONDS_PER_SERVICE
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    errors: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case: Any) -> None:
                if time.monotonic() > deadline:
                    return
                try:
                    status = case.call(headers=auth).status_code
                except Exception as exc:  # in-process, an unhandled error surfaces here after its 500
                    status, problem = 500, f"{type(exc).__name__}: {exc}"
                else:
                    problem = ""
                sent["requests"] += 1
                if case.operation.path == "/ready" and status == 503:  # no broker here: not ready, rightly
                    sent["ready_503"] += 1
                    return
                sent[f"{status // 100}xx"] += 1
                statuses[status] += 1
                if status >= 500:
                    errors.append(f"{case.operation.label} -> {status} {problem[:300]}\n  {case.as_curl_command()}")

            try:
                exercise()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing in this operation can be made invalid (no parameters, no body)

    requests = sent.pop("requests", 0)
    summary: dict[str, Any] = {"service": service, "backend": backend, "requests": requests}
    summary.update(server_errors=sent["5xx"], **sent, statuses=dict(sorted(statuses.items())))
    print(json.dumps(summary))
    if REPORT:
        with open(REPORT, "a") as f:
            f.write(json.dumps(summary) + "\n")
    assert requests > 0
    assert not errors, "\n".join(errors[:20])
