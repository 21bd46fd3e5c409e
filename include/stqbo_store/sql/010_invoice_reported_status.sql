-- A Synchroteam invoice whose status is not among the eligible ones is named in the report once: the ledger keeps
-- the status it was reported with, the invoice plan carries it from the planner to the loader.
ALTER TABLE ledger.invoice ADD COLUMN IF NOT EXISTS reported_status text;
ALTER TABLE sync.invoice_plan ADD COLUMN IF NOT EXISTS reported_status text;
