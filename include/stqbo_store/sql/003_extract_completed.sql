-- A run whose tasks all finished (even with per-record errors) completed its reads: a full read it made counts as
-- the daily reconcile, so one record that keeps failing does not turn every run into a full read.
ALTER TABLE sync.run_extract ADD COLUMN IF NOT EXISTS completed boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS run_extract_full ON sync.run_extract (tenant_id, side, entity) WHERE full_read AND completed;
CREATE INDEX IF NOT EXISTS st_customer_extracted ON staging.st_customer (extracted_at);
CREATE INDEX IF NOT EXISTS qbo_customer_extracted ON staging.qbo_customer (extracted_at);
CREATE INDEX IF NOT EXISTS st_invoice_extracted ON staging.st_invoice (extracted_at);
CREATE INDEX IF NOT EXISTS conflict_run ON audit.conflict (tenant_id, run_id);
