"""docker-compose.yaml agrees with the rest of the repository (Docker itself cannot run here, nor in CI).

Pure parsing of the compose file, the Dockerfile, requirements.txt, the DAG file, the hooks' and simulators'
sources; no Airflow import. The last tests run the compose set-up script (docker/stqbo_bootstrap.py) for real,
against the test PostgreSQL and the QuickBooks simulator.
"""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import pytest
import yaml

from stqbo_api.tokens import TokenStore

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "docker" / "Dockerfile"
BOOTSTRAP = REPO / "docker" / "stqbo_bootstrap.py"
CONTAINER_ROOT = PurePosixPath("/opt/airflow")

AIRFLOW_SERVICES = {
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    "quickbooks-connect",
}
SIMULATORS = {"quickbooks-sim": "quickbooks", "synchroteam-sim": "synchroteam"}
MOUNTED_DIRS = ("dags", "plugins", "include", "simulators")
CONN_VARS = {
    "AIRFLOW_CONN_SYNCHROTEAM_DEFAULT": ("synchroteam_default", "synchroteam", "synchroteam-sim"),
    "AIRFLOW_CONN_QUICKBOOKS_DEFAULT": ("quickbooks_default", "quickbooks", "quickbooks-sim"),
    "AIRFLOW_CONN_SYNC_STATE_DB": ("sync_state_db", "postgres", "postgres"),
}
POSTGRES_PORT = 5432  # the postgres image's default; the service must not move it (checked below)

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}")


def interpolate(value: Any) -> Any:
    """Compose's variable substitution with no environment and no .env file: every ``${X:-d}`` becomes ``d``."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: "$" if m.group(0) == "$$" else (m.group("default") or ""), value)
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


@pytest.fixture(scope="module")
def services(raw_compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(interpolate(raw_compose["services"]))


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def argv_of(service: dict[str, Any]) -> list[str]:
    """entrypoint + command as one argument list (string forms split on blanks, as compose does)."""
    argv: list[str] = []
    for key in ("entrypoint", "command"):
        part = service.get(key)
        argv += part.split() if isinstance(part, str) else list(part or [])
    return argv


def mounts_of(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path for the bind mounts (named volumes left out)."""
    out: dict[str, str] = {}
    for volume in service.get("volumes") or []:
        source, target = str(volume).split(":")[:2]
        if source.startswith((".", "/")):
            out[target] = source
    return out


def uses_airflow_image(service: dict[str, Any]) -> bool:
    return "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in env_of(service)


def conn(services: dict[str, dict[str, Any]], var: str) -> dict[str, Any]:
    return dict(json.loads(env_of(services["airflow-scheduler"])[var]))


def listen_port(service: dict[str, Any]) -> int:
    argv = argv_of(service)
    return int(argv[argv.index("--port") + 1])


# ----------------------------------------------------------------------------------------------- services


def test_compose_has_the_airflow_services_postgres_and_both_simulators(services: dict[str, Any]) -> None:
    missing = (AIRFLOW_SERVICES | set(SIMULATORS) | {"postgres"}) - set(services)
    assert not missing, f"services missing from docker-compose.yaml: {sorted(missing)}"
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-scheduler"]["command"] == "scheduler"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-triggerer"]["command"] == "triggerer"
    assert env_of(services["airflow-init"]).get("_AIRFLOW_DB_MIGRATE") == "true"


def test_every_airflow_service_shares_jwt_secret_execution_api_and_pythonpath(services: dict[str, Any]) -> None:
    airflow = {name: env_of(s) for name, s in services.items() if uses_airflow_image(s)}
    assert AIRFLOW_SERVICES <= set(airflow)
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                "PYTHONPATH", "AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", *CONN_VARS):
        values = {name: env.get(key) for name, env in airflow.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), f"{key} differs: {values}"
    env = airflow["airflow-scheduler"]
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 32
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "false"
    assert env["PYTHONPATH"].split(":") == ["/opt/airflow/include", "/opt/airflow/plugins", "/opt/airflow"]


def test_execution_api_url_names_the_api_server_service_and_its_port(services: dict[str, Any]) -> None:
    url = urlsplit(env_of(services["airflow-scheduler"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname in services and services[url.hostname]["command"] == "api-server"
    assert f"{url.port}:8080" in services[url.hostname]["ports"]  # api-server listens on 8080 ([api] port)
    assert url.path == "/execution/"


def test_code_directories_are_mounted_from_the_repository(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if not uses_airflow_image(service):
            continue
        mounts = mounts_of(service)
        for directory in MOUNTED_DIRS:
            target = str(CONTAINER_ROOT / directory)
            assert target in mounts, f"{name} does not mount {directory}/ at {target}"
            assert (REPO / mounts[target]).resolve() == REPO / directory and (REPO / directory).is_dir()
        for entry in env_of(service)["PYTHONPATH"].split(":"):
            assert entry == str(CONTAINER_ROOT) or entry in mounts, f"{name}: {entry} on PYTHONPATH is not mounted"


def test_paths_used_in_commands_exist_in_the_repository(services: dict[str, Any]) -> None:
    """Every /opt/airflow/<mounted>/... file named in a command is in the repository (e.g. the set-up script)."""
    seen = 0
    for name, service in services.items():
        mounts = mounts_of(service)
        for path in re.findall(r"/opt/airflow/[\w./-]+\.py", " ".join(argv_of(service))):
            target = next((t for t in mounts if path.startswith(t + "/")), None)
            assert target is not None, f"{name} runs {path}, which no mount provides"
            assert (REPO / mounts[target] / path[len(target) + 1:]).is_file(), f"{name}: {path} not in the repo"
            seen += 1
    assert seen >= 2  # create-state-db (airflow-init) and connect-quickbooks (quickbooks-connect)


# ----------------------------------------------------------------------------------------------- simulators


@pytest.mark.parametrize("service_name", sorted(SIMULATORS))
def test_simulator_service_runs_the_module_with_its_flags(services: dict[str, Any], service_name: str) -> None:
    service, kind = services[service_name], SIMULATORS[service_name]
    argv = argv_of(service)
    assert argv[:3] == ["python", "-m", f"simulators.{kind}"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert argv[argv.index("--seed") + 1] == "demo"
    assert (REPO / "simulators" / kind).is_dir()
    assert "entrypoint" not in service  # the image's entrypoint sets HOME for any AIRFLOW_UID, then runs python
    source = (REPO / "simulators" / kind / "__main__.py").read_text()
    for flag in ("--host", "--port", "--seed"):
        assert f'"{flag}"' in source
    assert str(CONTAINER_ROOT / "simulators") in mounts_of(service)
    port = listen_port(service)
    assert f"{port}:{port}" in service["ports"]
    health = " ".join(service["healthcheck"]["test"])
    assert f"http://localhost:{port}/_sim/health" in health


def test_depends_on_names_defined_services_and_waits_for_health(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dep, spec in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no check"
            if spec["condition"] == "service_completed_successfully":
                assert services[dep].get("restart") in (None, "no"), f"{dep} is a one-shot and must not restart"
    assert services["quickbooks-connect"]["depends_on"]["quickbooks-sim"]["condition"] == "service_healthy"
    assert services["airflow-scheduler"]["depends_on"]["quickbooks-connect"]["condition"] == (
        "service_completed_successfully"
    )


# ----------------------------------------------------------------------------------------------- connections


def _conn_id_in_hooks(conn_id: str) -> bool:
    sources = "".join(p.read_text() for p in (REPO / "plugins" / "stqbo_hooks").glob("*.py"))
    return f'"{conn_id}"' in sources


@pytest.mark.parametrize("var", sorted(CONN_VARS))
def test_connection_env_var_is_json_for_a_hook_conn_id(services: dict[str, Any], var: str) -> None:
    conn_id, conn_type, service_name = CONN_VARS[var]
    assert var == "AIRFLOW_CONN_" + conn_id.upper()
    assert _conn_id_in_hooks(conn_id), f"no hook reads connection {conn_id}"
    value = conn(services, var)
    assert value["conn_type"] == conn_type
    assert service_name in services


@pytest.mark.parametrize("var", ["AIRFLOW_CONN_SYNCHROTEAM_DEFAULT", "AIRFLOW_CONN_QUICKBOOKS_DEFAULT"])
def test_api_connections_point_at_the_simulator_service_and_port(services: dict[str, Any], var: str) -> None:
    _, _, service_name = CONN_VARS[var]
    value = conn(services, var)
    urls = [value["host"]] + [v for k, v in (value.get("extra") or {}).items() if k.endswith("_url")]
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == service_name, url
        assert parts.port == listen_port(services[service_name]), url


def test_synchroteam_connection_uses_the_simulator_account(services: dict[str, Any]) -> None:
    value = conn(services, "AIRFLOW_CONN_SYNCHROTEAM_DEFAULT")
    argv = argv_of(services["synchroteam-sim"])
    domain = argv[argv.index("--domain") + 1] if "--domain" in argv else "demo"  # __main__ defaults
    api_key = argv[argv.index("--api-key") + 1] if "--api-key" in argv else "demo-api-key"
    assert (value["login"], value["password"]) == (domain, api_key)


def test_quickbooks_connection_names_the_simulator_default_realm(services: dict[str, Any]) -> None:
    value = conn(services, "AIRFLOW_CONN_QUICKBOOKS_DEFAULT")
    assert (value["login"], value["password"]) == ("demo-client", "demo-secret")  # the simulator's default client
    assert "refresh_token" not in value["extra"]  # issued at start-up, stored by quickbooks-connect
    sources = "".join(p.read_text() for p in (REPO / "simulators" / "quickbooks").glob("*.py"))
    realms = set(re.findall(r'^DEFAULT_REALM\s*=\s*"(\d+)"', sources, re.M))
    assert realms == {value["extra"]["realm_id"]}, f"simulator default realm(s) {realms}"
    assert value["extra"]["token_url"].endswith("/oauth2/v1/tokens/bearer")


def test_state_db_connection_is_the_compose_postgres_database_sync_state(services: dict[str, Any]) -> None:
    value = conn(services, "AIRFLOW_CONN_SYNC_STATE_DB")
    pg = services["postgres"]
    pg_env = env_of(pg)
    assert (value["host"], value["port"], value["schema"]) == ("postgres", POSTGRES_PORT, "sync_state")
    assert (value["login"], value["password"]) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
    assert "PGPORT" not in pg_env and "command" not in pg, "postgres must listen on its default port"
    metadata = urlsplit(env_of(services["airflow-scheduler"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert (metadata.hostname, metadata.port, metadata.path) == ("postgres", POSTGRES_PORT, "/" + pg_env["POSTGRES_DB"])
    assert (metadata.username, metadata.password) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
    assert value["schema"] != pg_env["POSTGRES_DB"], "the state DB is its own database, not Airflow's"


# ----------------------------------------------------------------------------------------------- image, DAG id


def test_image_pins_the_airflow_version_of_requirements() -> None:
    pinned = re.search(r"^apache-airflow==([\w.]+)$", (REPO / "requirements.txt").read_text(), re.M)
    assert pinned is not None
    constrained = re.search(r"^apache-airflow==([\w.]+)$", (REPO / "constraints.txt").read_text(), re.M)
    assert constrained is not None and constrained.group(1) == pinned.group(1)
    dockerfile = DOCKERFILE.read_text()
    base = re.search(r"^FROM apache/airflow:([\w.]+)-python([\d.]+)$", dockerfile, re.M)
    assert base is not None and base.group(1) == pinned.group(1)
    target = re.search(r'^target-version = "py(\d)(\d+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert target is not None and base.group(2) == f"{target.group(1)}.{target.group(2)}"
    assert re.search(r"pip install .*-r \S*requirements\.txt -c \S*constraints\.txt", dockerfile)


def test_image_installs_the_hooks_as_the_airflow_provider(services: dict[str, Any]) -> None:
    """The image carries the stqbo-hooks provider (pyproject.toml [project]): its sources are sent to the builder
    and installed, so Airflow in the containers lists the provider and its connection forms."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["apache_airflow_provider"]
    dockerfile = DOCKERFILE.read_text()
    copies = dict(re.findall(r"^COPY (?:--chown=\S+ )?(\S+) (\S+)$", dockerfile, re.M))
    assert copies.get("pyproject.toml") and copies.get("plugins/stqbo_hooks"), copies
    provider_dir = copies["pyproject.toml"].rstrip("/")
    assert copies["plugins/stqbo_hooks"] == f"{provider_dir}/plugins/stqbo_hooks"  # package-dir "" = "plugins"
    assert re.search(rf"^RUN pip install .*--no-deps {re.escape(provider_dir)}/?$", dockerfile, re.M)
    assert dockerfile.index("requirements.txt -c") < dockerfile.index(provider_dir)  # pins first
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    assert {"*", "!pyproject.toml", "!plugins/stqbo_hooks"} <= set(ignore)
    env = env_of(services["airflow-apiserver"])
    assert env.get("AIRFLOW__CORE__TEST_CONNECTION") == "Enabled"  # the forms' Test button


def test_compose_builds_the_project_image_everywhere(raw_compose: dict[str, Any], services: dict[str, Any]) -> None:
    images = {name: s.get("image") for name, s in services.items() if uses_airflow_image(s) or name in SIMULATORS}
    assert len(set(images.values())) == 1, images
    for name in images:
        build = services[name]["build"]
        assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_dag_ids_in_commands_match_the_dag_file(services: dict[str, Any]) -> None:
    dag_ids = re.findall(r'dag_id="([^"]+)"', (REPO / "dags" / "synchroteam_quickbooks_sync.py").read_text())
    assert dag_ids == ["synchroteam_quickbooks_sync"]
    used = []
    for service in services.values():
        text = " ".join(argv_of(service))
        used += re.findall(r"airflow dags (?:trigger|test|unpause|pause|details|state) ([\w.-]+)", text)
    assert used and set(used) == set(dag_ids)


# ----------------------------------------------------------------------------------------------- set-up script


@pytest.fixture(scope="module")
def bootstrap() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stqbo_bootstrap", BOOTSTRAP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _local(conn_json: dict[str, Any], sim_url: str) -> dict[str, Any]:
    """A compose connection with the simulator's service URL replaced by the test simulator's."""
    service_url = f"{urlsplit(conn_json['host']).scheme}://{urlsplit(conn_json['host']).netloc}"
    return dict(json.loads(json.dumps(conn_json).replace(service_url, sim_url)))


def _state_conn(dsn: str) -> dict[str, Any]:
    params = psycopg2.extensions.parse_dsn(dsn)
    return {"conn_type": "postgres", "host": params.get("host"), "port": int(params.get("port") or 5432),
            "login": params.get("user"), "password": params.get("password"), "schema": params["dbname"]}


def test_connect_quickbooks_stores_a_token_the_client_can_use(
    bootstrap: ModuleType, services: dict[str, Any], qbo: Any, state_db: str
) -> None:
    """The quickbooks-connect step against the real simulator; then the client, built the way the hook builds
    it from the same connection (no refresh token in it), reaches the company with the stored token."""
    from stqbo_api.quickbooks import QuickBooksClient

    compose_conn = conn(services, "AIRFLOW_CONN_QUICKBOOKS_DEFAULT")
    local = _local(compose_conn, qbo.url)
    realm = compose_conn["extra"]["realm_id"]
    assert bootstrap.connect_quickbooks(local, _state_conn(state_db), attempts=1) == realm
    client = QuickBooksClient(
        local["host"], realm, local["login"], local["password"], TokenStore(state_db, local["password"]),
        local["extra"]["token_url"],
    )
    assert client.count("select count(*) from Customer") >= 0
    assert any(r["path"] == "/oauth2/v1/tokens/bearer" and r["status"] == 200 for r in qbo.requests_log())


def test_connect_quickbooks_refuses_a_grant_for_another_realm(
    bootstrap: ModuleType, services: dict[str, Any], state_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo_conn = conn(services, "AIRFLOW_CONN_QUICKBOOKS_DEFAULT")
    monkeypatch.setattr(bootstrap, "request_grant",
                        lambda *args, **kwargs: {"realm_id": "1234", "refresh_token": "rt-other"})
    with pytest.raises(bootstrap.BootstrapError, match="granted realm 1234"):
        bootstrap.connect_quickbooks(qbo_conn, _state_conn(state_db))
    assert TokenStore(state_db, qbo_conn["password"]).load("1234", qbo_conn["login"]) is None


def test_connect_quickbooks_reports_a_simulator_that_does_not_answer(
    bootstrap: ModuleType, services: dict[str, Any], state_db: str
) -> None:
    from devenv.sims import free_port

    local = _local(conn(services, "AIRFLOW_CONN_QUICKBOOKS_DEFAULT"), f"http://127.0.0.1:{free_port()}")
    with pytest.raises(bootstrap.BootstrapError, match="does not answer"):
        bootstrap.connect_quickbooks(local, _state_conn(state_db), attempts=1)


def test_create_state_db_is_idempotent(bootstrap: ModuleType, state_db: str) -> None:
    target = _state_conn(state_db) | {"schema": "stqbo_compose_" + uuid.uuid4().hex[:8]}
    maintenance = _state_conn(state_db)["schema"]
    try:
        assert bootstrap.create_state_db(target, maintenance_db=maintenance) is True
        assert bootstrap.create_state_db(target, maintenance_db=maintenance) is False
        psycopg2.connect(bootstrap.state_db_dsn(target)).close()
    finally:
        admin = psycopg2.connect(state_db)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{target["schema"]}"')
        admin.close()


def test_bootstrap_reads_the_compose_env_vars(bootstrap: ModuleType, services: dict[str, Any]) -> None:
    env = env_of(services["quickbooks-connect"])
    assert bootstrap.env_connection(bootstrap.QBO_CONN_VAR, env) == conn(services, "AIRFLOW_CONN_QUICKBOOKS_DEFAULT")
    assert bootstrap.env_connection(bootstrap.STATE_DB_CONN_VAR, env)["schema"] == "sync_state"
    with pytest.raises(bootstrap.BootstrapError, match="not set"):
        bootstrap.env_connection(bootstrap.QBO_CONN_VAR, {})
