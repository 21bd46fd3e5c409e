"""``make conformance``: what a real Synchroteam account and a real QuickBooks company show of the facts the
simulators only assume (the UNCONFIRMED rows of ``reference/real-world-facts.md`` and of the API notes).

Why: the connector's guarantees are proven against the simulators, and where the public sources are weak the
simulators take the reading hardest on a client. A person with real accounts runs this check once (before going
live, and again when Intuit or Synchroteam announce API changes) and sends the report, so that each assumption is
either confirmed or corrected in the simulators.

One small probe per fact (``probes_synchroteam``, ``probes_quickbooks``), each returning what the simulator
assumes, what the account showed, a verdict (agrees / differs / unknown) and secret-free evidence. Probes only
read unless the run has ``--write`` and the QuickBooks connection is a sandbox; writing probes clean up what they
create. ``facts`` is the catalogue, ``wire`` the raw HTTP exchanges a probe needs to see (headers, bodies, a
query without the client's ``ORDERBY``), ``connections`` reads the DAG's Airflow connections without Airflow,
``runner`` runs the probes, ``report`` writes Markdown and JSON, ``cli`` is ``python -m stqbo_conformance``.

Imports the API package (clients, redaction) and the storage package only through it; never the sync core, the
hooks, the simulators or Airflow (an import-linter contract in pyproject.toml).
"""
