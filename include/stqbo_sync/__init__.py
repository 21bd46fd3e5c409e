"""The sync core: pure Python plus calls to the storage package (`stqbo_store`) and the API clients
(`stqbo_api`, through the Protocols in `clients`). Never imports Airflow or ``plugins/``. The DAG calls one
function of `service` per task.

A run, in the order the modules are used:
- `service`         one entry point per DAG task; owns the unit of work (commits) and the run lease (`lease`)
- `extract`         reads what changed (or everything) and stages it; `watermarks` decides the windows
- `plan_customers`  pure: staged records + links + bases -> one typed `PlanRow` per customer action, using
                    `match` (linking unlinked records by name, tie-breaks, probable duplicates) and `merge` (the
                    three-way merge; `merge.decide` is where a conflict is decided)
- `load_customers`  executes the customer plan rows against both APIs, idempotently
- `plan_invoices`   pure: one typed action per Synchroteam invoice (create, update, unchanged, held, skip...)
- `load_invoices`   executes the invoice plan: write-ahead ledger, batches of 30, look-before-create
- `report`          renders the run report

Shared pieces: `types` (Mode, Action, Status, PlanRow, RunContext), `model` (the canonical customer), `mapping`
(which field goes where, both ways), `names` (match keys, DisplayName rules), `invoice_payload` (the QuickBooks
invoice body), `invoice_items` (part -> Item), `invoice_company` (tax model, numbering), `request_ids` (every
QuickBooks requestid), `clients` (what the core needs of the two API clients).
"""
