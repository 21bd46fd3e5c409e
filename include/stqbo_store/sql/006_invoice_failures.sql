-- 002_invoices.sql gained `ledger.invoice.failures` after it had first been applied: a state database created from
-- the first 002 lacks the column. Migrations are append-only from here on (the runner checks checksums).
ALTER TABLE ledger.invoice ADD COLUMN IF NOT EXISTS failures int NOT NULL DEFAULT 0;
