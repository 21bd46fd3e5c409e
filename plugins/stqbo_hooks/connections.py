"""Connection-form metadata and helpers shared by the two Airflow hooks (no Airflow import at module level).

Airflow 3.3 builds connection forms only from *provider packages*: the providers manager reads each installed
distribution's ``apache_airflow_provider`` entry point and takes ``conn-fields`` / ``ui-field-behaviour`` from the
provider info it returns (hooks shipped in ``plugins/`` alone are not discovered, and ``get_connection_form_widgets``
needs wtforms and flask-appbuilder, absent from an Airflow 3.3 install). This project is that provider: the root
``pyproject.toml`` packages ``stqbo_hooks`` as the distribution ``stqbo-hooks`` with
``[project.entry-points.apache_airflow_provider] provider_info = "stqbo_hooks.connections:get_provider_info"``,
installed into ``.venv`` by the Makefile and into the Docker image. Airflow then lists it under Admin > Providers
and offers the types "QuickBooks Online" and "Synchroteam" with the fields below and a Test button (the hooks'
``test_connection``). The fields are plain extras: a connection made from env vars or a secrets backend, with
the same keys in ``extra``, works the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The entry point loads this module while Airflow discovers its providers, before any DAG or task: it imports
# nothing but the standard library, so a missing include/ on sys.path cannot break provider discovery.
PROVIDER_PACKAGE = "stqbo-hooks"
PROVIDER_VERSION = "0.1.0"  # = [project] version in pyproject.toml

QUICKBOOKS_CONN_FIELDS: dict[str, dict[str, Any]] = {
    "realm_id": {
        "label": "Realm ID (company id)",
        "description": "The QuickBooks company id (realmId) returned when the app was connected.",
        "schema": {"type": ["string", "null"]},
    },
    "environment": {
        "label": "Environment",
        "description": "sandbox, production, or custom (a simulator); used when Host is empty.",
        "schema": {"type": ["string", "null"], "enum": ["sandbox", "production", "custom", None], "default": "sandbox"},
    },
    "refresh_token": {
        "label": "Initial refresh token",
        "description": "Seeds the encrypted token store in the state DB; later tokens are kept there, not here.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "token_url": {
        "label": "OAuth token URL",
        "description": "Default https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "schema": {"type": ["string", "null"]},
    },
    "use_synchroteam_invoice_numbers": {
        "label": "Use Synchroteam invoice numbers",
        "description": "Send Synchroteam's invoice number as DocNumber (needs custom transaction numbers on).",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "income_account_id": {
        "label": "Income account Id",
        "description": "Id of the QuickBooks Income account of the items created for Synchroteam parts. "
                       "Empty: the first active Income account.",
        "schema": {"type": ["string", "null"]},
    },
    "item_type": {
        "label": "Item type",
        "description": "Type of every item created for a Synchroteam part. Empty: services become Service "
                       "items, parts NonInventory.",
        "schema": {"type": ["string", "null"], "enum": ["Service", "NonInventory", None]},
    },
    "tax_codes": {
        "label": "Tax codes",
        "description": 'Non-US companies: Synchroteam tax name -> QuickBooks TaxCode Id, e.g. {"VAT": "3", '
                       '"": "4"} ("" = lines without tax). Empty: none.',
        "schema": {"type": ["object", "null"]},
    },
    "invoice_statuses": {
        "label": "Invoice statuses to push",
        "description": "Synchroteam invoice statuses that are pushed, one per line. Empty: new, sent, "
                       "paid, late, partially paid, part paid.",  # stqbo_api.options.DEFAULT_INVOICE_STATUSES
        "schema": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}

QUICKBOOKS_UI_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": {"host": "API base URL", "login": "OAuth client id", "password": "OAuth client secret"},
    "placeholders": {
        "host": "https://sandbox-quickbooks.api.intuit.com",
        "login": "AB...client id",
        "password": "client secret",
    },
}

SYNCHROTEAM_CONN_FIELDS: dict[str, dict[str, Any]] = {
    "timezone": {
        "label": "Account time zone",
        "description": "The Synchroteam account's IANA time zone (for example America/New_York): Synchroteam "
                       "answers and filters in the account's local time. Required.",
        "schema": {"type": ["string", "null"]},
    },
}

SYNCHROTEAM_UI_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port", "extra"],
    "relabeling": {"host": "API base URL", "login": "Account domain", "password": "API key"},
    "placeholders": {"host": "https://ws.synchroteam.com", "login": "mycompany"},
}


def _kebab(behaviour: Mapping[str, Any]) -> dict[str, Any]:
    return {key.replace("_", "-"): value for key, value in behaviour.items()}


def get_provider_info() -> dict[str, Any]:
    """Provider info in the format of ``provider.yaml``, for an ``apache_airflow_provider`` entry point."""
    return {
        "package-name": PROVIDER_PACKAGE,
        "name": "Synchroteam and QuickBooks Online",
        "description": "Hooks and connection forms of the Synchroteam-QuickBooks Online connector",
        "versions": [PROVIDER_VERSION],
        "connection-types": [
            {
                "hook-class-name": "stqbo_hooks.quickbooks.QuickBooksHook",
                "hook-name": "QuickBooks Online",
                "connection-type": "quickbooks",
                "ui-field-behaviour": _kebab(QUICKBOOKS_UI_BEHAVIOUR),
                "conn-fields": QUICKBOOKS_CONN_FIELDS,
            },
            {
                "hook-class-name": "stqbo_hooks.synchroteam.SynchroteamHook",
                "hook-name": "Synchroteam",
                "connection-type": "synchroteam",
                "ui-field-behaviour": _kebab(SYNCHROTEAM_UI_BEHAVIOUR),
                "conn-fields": SYNCHROTEAM_CONN_FIELDS,
            },
        ],
    }


def airflow_masker(secret: str) -> None:
    """Registered with ``stqbo_api.redact.add_listener`` by both hooks: every secret a client learns (client
    secret, API key, tokens as they rotate) is also masked in Airflow's task logs."""
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


def legacy_widgets(fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """wtforms widgets for Airflow versions that still render them; empty when wtforms is not installed."""
    try:
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from wtforms import BooleanField, PasswordField, StringField
    except ImportError:
        return {}
    widgets: dict[str, Any] = {}
    for name, spec in fields.items():
        schema = spec.get("schema", {})
        label, description = spec.get("label", name), spec.get("description")
        if "boolean" in schema.get("type", []):
            widgets[name] = BooleanField(label, description=description, default=bool(schema.get("default")))
        elif schema.get("format") == "password":
            widgets[name] = PasswordField(label, widget=BS3PasswordFieldWidget(), description=description)
        else:
            widgets[name] = StringField(label, widget=BS3TextFieldWidget(), description=description)
    return widgets
