"""A faithful in-memory simulator of the QuickBooks Online Accounting API v3 (see docs/simulators.md)."""

from __future__ import annotations

from simulators.quickbooks.app import create_app

__all__ = ["create_app"]
