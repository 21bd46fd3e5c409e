"""The hooks are an installed Airflow provider: Airflow itself lists it, registers the connection types
"QuickBooks Online" and "Synchroteam" with their form fields, and its Test button reaches the hooks.

Everything is asked of Airflow (ProvidersManager, the UI's hook metadata, the CLI), not of our own
``get_provider_info``: without the installed distribution's ``apache_airflow_provider`` entry point (`make venv`
runs ``pip install -e .``) these tests fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from devenv.sims import ST_TIMEZONE

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "stqbo-hooks"
ENTRY_POINT = "stqbo_hooks.connections:get_provider_info"
QUICKBOOKS_FIELDS = {
    "realm_id", "environment", "refresh_token", "token_url", "use_synchroteam_invoice_numbers",
    "income_account_id", "item_type", "tax_codes", "invoice_statuses",
}
SYNCHROTEAM_FIELDS = {"timezone"}
HOOKS = {
    "quickbooks": ("stqbo_hooks.quickbooks.QuickBooksHook", "QuickBooks Online", "quickbooks_conn_id",
                   QUICKBOOKS_FIELDS),
    "synchroteam": ("stqbo_hooks.synchroteam.SynchroteamHook", "Synchroteam", "synchroteam_conn_id",
                    SYNCHROTEAM_FIELDS),
}


@pytest.fixture(scope="module")
def providers() -> Any:
    from airflow.providers_manager import ProvidersManager

    return ProvidersManager()


def test_the_installed_distribution_declares_the_entry_point_with_the_pyproject_version() -> None:
    from stqbo_hooks.connections import PROVIDER_PACKAGE, PROVIDER_VERSION, get_provider_info

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    dist = metadata.distribution(PACKAGE)  # PackageNotFoundError: run `make venv` (pip install -e .)
    points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.value for ep in points] == [ENTRY_POINT]
    assert project["entry-points"]["apache_airflow_provider"] == {points[0].name: ENTRY_POINT}
    assert dist.version == project["version"] == PROVIDER_VERSION == get_provider_info()["versions"][0]
    assert project["name"] == PROVIDER_PACKAGE == get_provider_info()["package-name"]


def test_airflow_registers_the_provider_and_both_connection_types(providers: Any) -> None:
    assert PACKAGE in providers.providers, sorted(providers.providers)
    assert providers.providers[PACKAGE].version == tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "version"]
    for conn_type, (class_name, name, id_attr, _) in HOOKS.items():
        hook = providers.hooks[conn_type]
        assert (hook.hook_class_name, hook.hook_name, hook.connection_id_attribute_name, hook.package_name) == (
            class_name, name, id_attr, PACKAGE)


@pytest.mark.parametrize("conn_type", sorted(HOOKS))
def test_the_connection_form_has_the_declared_fields(providers: Any, conn_type: str) -> None:
    """What the UI's connection form is built from (the API's hook metadata)."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    fields = HOOKS[conn_type][3]
    widgets = {k for k in providers.connection_form_widgets if k.startswith(f"extra__{conn_type}__")}
    assert widgets == {f"extra__{conn_type}__{f}" for f in fields}
    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}[conn_type]
    assert meta.hook_name == HOOKS[conn_type][1]
    assert set(meta.extra_fields or {}) == fields
    assert meta.standard_fields is not None and meta.standard_fields.port.hidden
    assert meta.standard_fields.password.title == {"quickbooks": "OAuth client secret",
                                                   "synchroteam": "API key"}[conn_type]
    assert meta.standard_fields.login.title == {"quickbooks": "OAuth client id",
                                                "synchroteam": "Account domain"}[conn_type]


def test_the_quickbooks_form_offers_the_invoice_options_with_usable_types(providers: Any) -> None:
    def schema(name: str) -> dict[str, Any]:
        return dict(providers.connection_form_widgets[f"extra__quickbooks__{name}"].field["schema"])

    assert schema("use_synchroteam_invoice_numbers")["type"][0] == "boolean"
    assert schema("item_type")["enum"] == ["Service", "NonInventory", None]
    assert schema("tax_codes")["type"][0] == "object"
    assert schema("invoice_statuses")["type"][0] == "array"
    assert providers.connection_form_widgets["extra__quickbooks__refresh_token"].is_sensitive


def test_airflow_cli_lists_the_provider_and_its_hooks() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update({"AIRFLOW_HOME": tempfile.mkdtemp(prefix="stqbo-provider-"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
    listed = subprocess.run([sys.executable, "-m", "airflow", "providers", "list", "-o", "json"], env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    assert PACKAGE in {p["package_name"] for p in json.loads(listed.stdout)}
    hooks = subprocess.run([sys.executable, "-m", "airflow", "providers", "hooks", "-o", "json"], env=env,
                           capture_output=True, text=True, timeout=120, check=True)
    by_type = {h["connection_type"]: h for h in json.loads(hooks.stdout)}
    for conn_type, (class_name, *_rest) in HOOKS.items():
        assert by_type[conn_type]["class"] == class_name and by_type[conn_type]["package_name"] == PACKAGE


# ------------------------------------------------------------------------------------- the Test button


def _button(conn: Any) -> tuple[bool, str]:
    """What the API server's POST /api/v2/connections/test does: the form's values as a transient connection
    in an env var, then ``Connection.test_connection()`` (hook found through the providers manager)."""
    os.environ[f"AIRFLOW_CONN_{conn.conn_id.upper()}"] = conn.get_uri()
    try:
        return conn.test_connection()  # type: ignore[no-any-return]
    finally:
        os.environ.pop(f"AIRFLOW_CONN_{conn.conn_id.upper()}", None)


def test_test_button_reaches_the_synchroteam_hook(st: Any) -> None:
    from airflow.models.connection import Connection

    form = {"conn_id": "form_synchroteam", "conn_type": "synchroteam", "host": st.url, "login": "demo",
            "extra": json.dumps({"timezone": ST_TIMEZONE})}
    ok, message = _button(Connection(**form, password="demo-api-key"))
    assert ok and message.startswith("Connected to Synchroteam account 'demo'"), message
    ok, message = _button(Connection(**form, password="not-the-key-77"))
    assert not ok and message.startswith("Synchroteam refused the account domain or the API key: check"), message


def test_test_button_reaches_the_quickbooks_hook_with_the_form_options(
    qbo: Any, qbo_grant: dict[str, str], state_db_conn: str
) -> None:
    from airflow.models.connection import Connection

    from stqbo_api.options import QuickBooksOptions

    extra = {"realm_id": qbo_grant["realm_id"], "refresh_token": qbo_grant["refresh_token"],
             "token_url": qbo.url + "/oauth2/v1/tokens/bearer", "environment": "custom",
             "use_synchroteam_invoice_numbers": True, "income_account_id": "79", "item_type": "Service",
             "tax_codes": {"VAT": "3", "": "4"}, "invoice_statuses": ["new", "sent"]}
    form = {"conn_id": "form_quickbooks", "conn_type": "quickbooks", "host": qbo.url, "login": "demo-client",
            "extra": json.dumps(extra)}
    ok, message = _button(Connection(**form, password="demo-secret"))
    assert ok and message.startswith("Connected to QuickBooks company '"), message
    conn = Connection(**form, password="demo-secret")
    os.environ["AIRFLOW_CONN_FORM_QUICKBOOKS"] = conn.get_uri()
    try:
        options = conn.get_hook().get_conn().options
    finally:
        os.environ.pop("AIRFLOW_CONN_FORM_QUICKBOOKS")
    assert options == QuickBooksOptions(True, "79", "Service", {"VAT": "3", "": "4"}, ("new", "sent"))
    ok, message = _button(Connection(**form, password="not-the-secret-77"))
    assert not ok and message.startswith("QuickBooks refused the OAuth client id or client secret"), message


# ------------------------------------------------------------------------------------------- make connect


def test_make_connect_names_the_fields_of_the_form_airflow_shows(providers: Any) -> None:
    """`make connect` prints the connection as the QuickBooks Online form asks for it: same type, same labels,
    and only keys that the form has (the env-var JSON it prints has the same keys)."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    from stqbo_api import connect

    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}["quickbooks"]
    assert meta.hook_name == connect.CONN_TYPE_LABEL
    assert meta.standard_fields is not None and meta.extra_fields is not None
    shown = {name: getattr(meta.standard_fields, name).title for name in ("host", "login", "password")}
    shown |= {name: field["schema"]["title"] for name, field in meta.extra_fields.items()}
    assert {key: shown[key] for key in connect.FORM_LABELS} == connect.FORM_LABELS
    settings = connect.Settings(
        client_id="AB-client", client_secret="s3cret-value", environment="sandbox",
        authorize_url=connect.DEFAULT_AUTHORIZE_URL, token_url=connect.DEFAULT_TOKEN_URL,
        api_url="https://sandbox-quickbooks.api.intuit.com", redirect_uri="http://localhost:8765/callback",
        state_db_url="postgresql://x@127.0.0.1/x", state_db_origin="--state-db-url", open_browser=False,
        timeout=1.0)
    printed = connect.connection_fields(settings, "9341453050170123")
    assert printed["conn_type"] == "quickbooks" and set(printed["extra"]) <= set(meta.extra_fields)
    labels = [label for label, _ in connect.form_lines(printed)]
    assert labels == ["Connection Id", "Connection Type", *connect.FORM_LABELS.values()]
    assert dict(connect.form_lines(printed))["Use Synchroteam invoice numbers"] == "off"
