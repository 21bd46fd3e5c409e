"""Thin Airflow hooks for QuickBooks Online and Synchroteam: ``get_conn()`` returns the configured client.

The clients, errors, transport and token store live in ``stqbo_api`` (no Airflow); this package only turns Airflow
connections into those clients and declares the connection forms.
"""
