"""A faithful in-memory simulator of Synchroteam's REST API v3 (customers, invoices, parts) with an admin API."""

from __future__ import annotations

from simulators.synchroteam.app import create_app

__all__ = ["create_app"]
