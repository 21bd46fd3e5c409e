"""The two APIs without Airflow: errors, redaction, transport, the OAuth token store, the QuickBooks and
Synchroteam clients, the OAuth connect flow (``make connect``) and the helpers that turn connection fields into
URLs, DSNs and options. The Airflow hooks in ``plugins/stqbo_hooks`` only build these clients from connections;
the sync core (``stqbo_sync``) and command-line tools use them directly. Never imports the sync core or Airflow.
"""
