"""Static checks of the production deployment: docker-compose.yml and deploy/.

No Docker engine is needed: the files are parsed and checked for the things an
operator would otherwise only discover when the stack fails to start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
INIT_SQL = ROOT / "deploy" / "postgres" / "init-databases.sql"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_IMAGE = "doorstep:latest"

# compose service name -> (Python package = database name, port)
SERVICES: dict[str, tuple[str, int]] = {
    "registration": ("registration", 8001),
    "jobs": ("jobs", 8002),
    "grid-reports": ("grid_reports", 8003),
    "volunteering": ("volunteering", 8004),
}
DATABASES = {package for package, _ in SERVICES.values()}

COMMON_ENV = {
    "DOORSTEP_ENVIRONMENT": "production",
    "DOORSTEP_HOST": "0.0.0.0",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "KAFKA_ENABLE_IDEMPOTENCE": "true",
    "KAFKA_FETCH_MAX_WAIT_MS": "500",
    # topics come from the services, with the partitions and replicas the single node allows
    "KAFKA_TOPIC_PARTITIONS": "3",
    "KAFKA_REPLICATION_FACTOR": "1",
    "JWT_PUBLIC_KEY_FILE": "/keys/jwt_public.pem",
    "LOG_LEVEL": "INFO",
}
# Only registration signs tokens and holds residents' secrets.
REGISTRATION_ONLY_ENV = ("JWT_PRIVATE_KEY_FILE",)
REGISTRATION_SECRETS = ("DOORSTEP_ADMIN_PASSWORD", "DATA_MASTER_KEY", "ID_HASH_KEY")

HEALTHCHECK_TIMINGS = ("interval", "timeout", "retries", "start_period")

# ${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR; "$$" is compose's escaped dollar.
_INTERPOLATION = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose_text() -> str:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    assert isinstance(data.get("services"), dict), "docker-compose.yml has no services"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    assert ENV_EXAMPLE.is_file(), f"{ENV_EXAMPLE} is missing"
    return parse_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def parse_env_file(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        assert sep, f"env.example line is not KEY=VALUE: {raw!r}"
        values[key.strip()] = value.strip().strip("'\"")
    return values


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            logical.append(current.strip())
        current = ""
    if current.strip():
        logical.append(current.strip())
    result = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        env = dict(pairs)
    out: dict[str, str | None] = {}
    for key, value in env.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif value is None:
            out[key] = None
        else:
            out[key] = str(value)
    return out


def command_text(command: Any) -> str:
    if command is None:
        return ""
    if isinstance(command, str):
        return command
    return " ".join(str(part) for part in command)


def healthcheck_text(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"bad healthcheck test: {test!r}"
        return " ".join(str(part) for part in test[1:])
    return test or ""


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def mounts(service: dict[str, Any]) -> list[dict[str, Any]]:
    """Volumes of a service in long form: type, source, target, read_only."""
    result = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            result.append(
                {
                    "type": entry.get("type", "volume"),
                    "source": entry.get("source"),
                    "target": entry.get("target"),
                    "read_only": bool(entry.get("read_only", False)),
                }
            )
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            result.append({"type": "volume", "source": None, "target": parts[0]})
            continue
        source, target = parts[0], parts[1]
        mode = parts[2] if len(parts) > 2 else "rw"
        kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
        result.append(
            {
                "type": kind,
                "source": source,
                "target": target,
                "read_only": "ro" in mode.split(","),
            }
        )
    return result


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    result = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            result.add((int(entry["published"]), int(entry["target"])))
            continue
        spec = str(entry).split("/")[0]
        parts = spec.split(":")
        assert len(parts) >= 2, f"port {entry!r} is not published on the host"
        result.add((int(parts[-2]), int(parts[-1])))
    return result


def transitive_dependencies(services: dict[str, dict[str, Any]], name: str) -> set[str]:
    seen: set[str] = set()
    stack = [name]
    while stack:
        for dep in depends_on(services[stack.pop()]):
            if dep not in seen and dep in services:
                seen.add(dep)
                stack.append(dep)
    return seen


# --------------------------------------------------------------------------- kafka


def test_kafka_is_the_official_image_in_kraft_combined_mode(services: dict[str, Any]) -> None:
    kafka = services.get("kafka")
    assert kafka is not None, "no kafka service"
    assert str(kafka.get("image", "")).startswith("apache/kafka:"), kafka.get("image")
    env = environment(kafka)

    roles = {role.strip() for role in (env.get("KAFKA_PROCESS_ROLES") or "").split(",")}
    assert roles == {"broker", "controller"}, roles
    node_id = env.get("KAFKA_NODE_ID")
    assert node_id, "KAFKA_NODE_ID is not set"
    assert env.get("CLUSTER_ID"), "CLUSTER_ID is needed to format the KRaft storage"

    controller_names = env.get("KAFKA_CONTROLLER_LISTENER_NAMES")
    assert controller_names == "CONTROLLER"
    listeners = (env.get("KAFKA_LISTENERS") or "").split(",")
    assert "PLAINTEXT://:9092" in listeners, listeners
    assert f"{controller_names}://:9093" in listeners, listeners
    assert env.get("KAFKA_ADVERTISED_LISTENERS") == "PLAINTEXT://kafka:9092"
    protocol_map = env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP") or ""
    assert f"{controller_names}:" in protocol_map, "controller listener has no security protocol"

    voters = (env.get("KAFKA_CONTROLLER_QUORUM_VOTERS") or "").split(",")
    assert f"{node_id}@kafka:9093" in voters, voters

    assert env.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "1"
    assert env.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR") == "1"
    assert env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", "the services create their topics explicitly"


def test_topic_settings_reach_the_services_and_fit_the_cluster(services: dict[str, Any]) -> None:
    """The services create the topics: their replication cannot exceed the brokers the stack runs."""
    brokers = sum(1 for service in services.values() if str(service.get("image", "")).startswith("apache/kafka:"))
    for name in SERVICES:
        env = environment(services[name])
        assert int(env["KAFKA_TOPIC_PARTITIONS"]) >= 1
        assert 1 <= int(env["KAFKA_REPLICATION_FACTOR"]) <= brokers


def test_kafka_keeps_its_log_on_a_named_volume(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    log_dirs = environment(kafka).get("KAFKA_LOG_DIRS")
    assert log_dirs, "KAFKA_LOG_DIRS unset: Kafka would write to /tmp inside the container"
    named_targets = [m["target"] for m in mounts(kafka) if m["type"] == "volume" and m["source"]]
    for log_dir in log_dirs.split(","):
        assert any(log_dir == target or log_dir.startswith(target.rstrip("/") + "/") for target in named_targets), (
            f"{log_dir} is not on a named volume ({named_targets})"
        )


def test_kafka_healthcheck_asks_the_broker(services: dict[str, Any]) -> None:
    check = healthcheck_text(services["kafka"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in check, check
    assert "--bootstrap-server localhost:9092" in check, check


def test_no_zookeeper_anywhere(compose_text: str, services: dict[str, Any]) -> None:
    assert "zookeeper" not in compose_text.lower()
    for name, service in services.items():
        assert "zookeeper" not in str(service.get("image", "")).lower(), name
        assert not any(key.startswith("KAFKA_ZOOKEEPER") for key in environment(service)), name


# --------------------------------------------------------------------------- postgres


def test_postgres_service(services: dict[str, Any]) -> None:
    postgres = services.get("postgres")
    assert postgres is not None, "no postgres service"
    assert str(postgres.get("image", "")).startswith("postgres:17"), postgres.get("image")
    password = environment(postgres).get("POSTGRES_PASSWORD") or ""
    assert password.startswith("${POSTGRES_PASSWORD:?"), (
        "POSTGRES_PASSWORD must be required from the environment, not defaulted"
    )
    data = [m for m in mounts(postgres) if m["target"] == "/var/lib/postgresql/data"]
    assert data and data[0]["type"] == "volume" and data[0]["source"], "data not on a named volume"
    assert "pg_isready" in healthcheck_text(postgres)
    assert "-U postgres" in healthcheck_text(postgres)


def test_postgres_mounts_the_init_script(services: dict[str, Any]) -> None:
    init_mounts = [
        m
        for m in mounts(services["postgres"])
        if m["type"] == "bind"
        and (ROOT / m["source"]).resolve() == INIT_SQL.resolve()
        and m["target"].startswith("/docker-entrypoint-initdb.d/")
    ]
    assert init_mounts, "deploy/postgres/init-databases.sql is not mounted in the init directory"
    assert init_mounts[0]["target"].endswith(".sql")
    assert INIT_SQL.is_file()


def test_init_script_creates_one_database_per_service() -> None:
    sql = INIT_SQL.read_text(encoding="utf-8")
    without_comments = re.sub(r"--[^\n]*", "", sql)
    created = re.findall(r"\bCREATE\s+DATABASE\s+\"?(\w+)\"?", without_comments, re.IGNORECASE)
    assert sorted(created) == sorted(DATABASES)


# --------------------------------------------------------------------------- keys job


def test_keys_job_writes_the_key_pair_into_the_shared_volume(services: dict[str, Any]) -> None:
    keys = services.get("keys")
    assert keys is not None, "no keys service"
    assert keys.get("image") == APP_IMAGE
    assert command_text(keys.get("command")).split() == ["doorstep", "keys", "--dir", "/keys"]
    key_mounts = [m for m in mounts(keys) if m["target"] == "/keys"]
    assert key_mounts, "keys job does not mount /keys"
    assert key_mounts[0]["source"] == "jwt-keys" and key_mounts[0]["type"] == "volume"
    assert not key_mounts[0]["read_only"], "the keys job must be able to write the keys"
    assert keys.get("restart", "no") == "no", "a one-shot job must not be restarted"


# --------------------------------------------------------------------------- services


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_publishes_its_port(services: dict[str, Any], name: str) -> None:
    assert name in services, f"no {name} service"
    _, port = SERVICES[name]
    assert published_ports(services[name]) == {(port, port)}


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_migrates_then_serves(services: dict[str, Any], name: str) -> None:
    package, _ = SERVICES[name]
    service = services[name]
    assert service.get("image") == APP_IMAGE
    command = command_text(service.get("command"))
    migrate = f"doorstep migrate {package}"
    serve = re.search(rf"\bdoorstep serve {package}\b", command)
    assert re.search(rf"\b{migrate}\b", command), command
    assert serve, command
    between = command[command.index(migrate) + len(migrate) : serve.start()]
    assert "&&" in between, "the service must not start when its migration fails"
    assert service.get("restart") == "unless-stopped"


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_environment(services: dict[str, Any], name: str) -> None:
    package, _ = SERVICES[name]
    env = environment(services[name])
    for key, expected in COMMON_ENV.items():
        assert env.get(key) == expected, f"{name}: {key}={env.get(key)!r}, expected {expected!r}"

    url = urlsplit(env.get("DATABASE_URL") or "")
    assert url.scheme == "postgresql", env.get("DATABASE_URL")
    assert url.hostname == "postgres" and url.port == 5432, env.get("DATABASE_URL")
    assert url.path == f"/{package}", f"{name} must use its own database {package!r}"
    assert url.username == "postgres"
    assert re.fullmatch(r"\$\{POSTGRES_PASSWORD(:?[?-][^}]*)?\}", url.password or ""), (
        f"{name}: the database password must be ${{POSTGRES_PASSWORD}} from .env"
    )

    if name == "registration":
        assert env.get("JWT_PRIVATE_KEY_FILE") == "/keys/jwt_private.pem"
        for secret in REGISTRATION_SECRETS:
            assert (env.get(secret) or "").startswith(f"${{{secret}:?"), (
                f"{secret} must be required from the environment, without a default"
            )
    else:
        for key in (*REGISTRATION_ONLY_ENV, *REGISTRATION_SECRETS):
            assert key not in env, f"{name} must not receive {key}"


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_healthcheck_hits_its_own_ready_endpoint(services: dict[str, Any], name: str) -> None:
    _, port = SERVICES[name]
    service = services[name]
    check = healthcheck_text(service)
    urls = re.findall(r"https?://[^'\"\s]+", check)
    assert urls == [f"http://127.0.0.1:{port}/ready"], urls
    assert "urlopen" in check and "timeout=" in check, check
    timings = service.get("healthcheck") or {}
    missing = [key for key in HEALTHCHECK_TIMINGS if key not in timings]
    assert not missing, f"{name} healthcheck lacks {missing}"


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_waits_for_its_infrastructure(services: dict[str, Any], name: str) -> None:
    deps = depends_on(services[name])
    assert deps.get("kafka") == "service_healthy", deps
    assert deps.get("postgres") == "service_healthy", deps
    assert deps.get("keys") == "service_completed_successfully", deps


@pytest.mark.parametrize("name", list(SERVICES))
def test_service_mounts_the_keys_read_only(services: dict[str, Any], name: str) -> None:
    key_mounts = [m for m in mounts(services[name]) if m["target"] == "/keys"]
    assert len(key_mounts) == 1, key_mounts
    assert key_mounts[0]["source"] == "jwt-keys"
    assert key_mounts[0]["read_only"], f"{name} must mount the keys read-only"


# --------------------------------------------------------------------------- whole file


def test_every_dependency_is_a_defined_service(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dep in depends_on(service):
            assert dep in services, f"{name} depends on undefined service {dep!r}"
            assert dep != name


def test_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        for mount in mounts(service):
            if mount["type"] == "volume" and mount["source"]:
                assert mount["source"] in declared, f"{name} uses undeclared {mount['source']!r}"
                used.add(mount["source"])
    assert {"jwt-keys"} <= used
    assert declared == used, f"declared but unused volumes: {declared - used}"


def test_every_bind_mount_source_exists(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for mount in mounts(service):
            if mount["type"] == "bind":
                assert (ROOT / mount["source"]).exists(), f"{name}: {mount['source']} missing"


def test_app_image_is_built_once_from_the_deploy_dockerfile(services: dict[str, Any]) -> None:
    users = sorted(name for name, s in services.items() if s.get("image") == APP_IMAGE)
    assert set(SERVICES) | {"keys"} <= set(users), users
    # Several services building one tag in parallel can fail on a fresh host.
    builders = [name for name in users if "build" in services[name]]
    assert len(builders) == 1, f"exactly one service should build {APP_IMAGE}: {builders}"
    build = services[builders[0]]["build"]
    assert isinstance(build, dict)
    assert build.get("context") == "."
    assert build.get("dockerfile") == "deploy/Dockerfile"
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE.resolve()
    for name in users:
        if name != builders[0]:
            assert builders[0] in transitive_dependencies(services, name), (
                f"{name} must depend on {builders[0]}, which builds its image"
            )


def test_every_compose_variable_is_in_env_example(compose_text: str, env_example: dict[str, str]) -> None:
    variables = {a or b for a, b in _INTERPOLATION.findall(compose_text)}
    assert {"POSTGRES_PASSWORD", *REGISTRATION_SECRETS} <= variables
    missing = variables - set(env_example)
    assert not missing, f"variables used by docker-compose.yml but not in env.example: {missing}"


def test_env_example_holds_no_usable_secret(compose_text: str, env_example: dict[str, str]) -> None:
    from doorstep_shared.settings import PLACEHOLDER_SECRETS

    for secret in REGISTRATION_SECRETS:
        assert env_example.get(secret, "").lower() in PLACEHOLDER_SECRETS, (
            f"{secret} in env.example must be a placeholder the services refuse"
        )
    # Nothing refuses a placeholder database password, so it stays empty and
    # compose's ${VAR:?} refuses to start until the operator sets one.
    assert env_example.get("POSTGRES_PASSWORD") == ""
    for key, value in env_example.items():
        if value == "":
            assert f"${{{key}:?" in compose_text, f"empty {key} must be required by compose"


def test_env_example_says_how_to_generate_each_secret() -> None:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        key = line.partition("=")[0].strip()
        if line.startswith("#") or not key:
            continue
        comments = []
        for previous in reversed(lines[:index]):
            if not previous.startswith("#"):
                break
            comments.append(previous)
        assert any("python -c" in c for c in comments), f"no generation command above {key}"
    assert "base64.b64encode(os.urandom(32))" in "\n".join(lines)


# --------------------------------------------------------------------------- image


def test_dockerfile_builds_from_the_lock_file(dockerfile: list[tuple[str, str]]) -> None:
    froms = [args for instr, args in dockerfile if instr == "FROM"]
    assert froms and froms[0].split()[0] == "python:3.11-slim", froms
    runs = [args for instr, args in dockerfile if instr == "RUN"]
    assert any("pip install uv==0.13.9" in run for run in runs), runs

    copied = " ".join(args for instr, args in dockerfile if instr == "COPY")
    for source in ("pyproject.toml", "uv.lock", "shared/", "services/"):
        assert source in copied.split(), f"{source} is not copied into the image"

    syncs = [run for run in runs if "uv sync" in run]
    assert syncs, "the image never runs uv sync"
    for run in syncs:
        assert "--frozen" in run.split(), f"uv sync without --frozen: {run}"
        assert "--no-dev" in run.split(), f"uv sync with the dev group: {run}"
    assert "--no-install-workspace" not in syncs[-1], "the last sync must install the workspace"


def test_dockerfile_runs_unprivileged_with_the_venv_on_path(
    dockerfile: list[tuple[str, str]],
) -> None:
    users = [args for instr, args in dockerfile if instr == "USER"]
    assert users, "no USER: the services would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]
    envs = " ".join(args for instr, args in dockerfile if instr == "ENV")
    assert re.search(r"\bPATH=\"?/app/\.venv/bin:\$PATH", envs), envs
    # compose passes complete command lines (sh -c ..., doorstep keys ...).
    assert not [args for instr, args in dockerfile if instr == "ENTRYPOINT"]


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build() -> None:
    if not DOCKERIGNORE.exists():
        pytest.skip("no .dockerignore")
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".venv", ".git", ".env", "var"):
        assert pattern in patterns, f".dockerignore does not exclude {pattern}"
    for needed in ("pyproject.toml", "uv.lock", "shared", "services"):
        assert needed not in patterns, f".dockerignore excludes {needed}, needed by the build"
