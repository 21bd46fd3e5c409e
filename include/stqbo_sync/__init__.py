"""The sync core: pure Python and SQL, no Airflow. The DAG calls one function of `service` per task.

Where things are:
- `mapping.py`   which field goes where, both ways (the table of the field mapping)
- `names.py`     name normalisation for matching; QuickBooks DisplayName rules
- `match.py`     linking unlinked records by name (with tie-breaks) and probable duplicates
- `merge.py`     the three-way merge with a base per side; where a conflict is decided
- `plan_customers.py` turns merges and matches into plan rows
- `load_customers.py` executes customer plan rows against both APIs, idempotently
- `plan_invoices.py`  decides one action per Synchroteam invoice (pure); `load_invoices.py` writes them to QuickBooks
- `store.py`     the state DB: migrations, tenants, lease, staging, links, bases, plan, errors
- `service.py`   one entry point per DAG task
"""
