"""Airflow hooks and plain-``requests`` clients for QuickBooks Online and Synchroteam.

Only ``quickbooks.py`` and ``synchroteam.py`` import Airflow; everything else (errors, transport, token store,
clients) is importable by the sync core and by command-line tools without it.
"""
