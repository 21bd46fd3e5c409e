-- Alerts (stqbo_sync.alerts): why a run failed when a person must act (cause 'reauthorize'), and the incidents an
-- operator was told about, so each incident sends one message when it opens and one when it is over.
ALTER TABLE audit.run ADD COLUMN IF NOT EXISTS cause text;
CREATE TABLE IF NOT EXISTS audit.alert (
    alert_id      serial PRIMARY KEY,
    tenant_id     int NOT NULL REFERENCES sync.tenant,
    kind          text NOT NULL,
    opened_run_id text NOT NULL,
    opened_at     timestamptz NOT NULL DEFAULT now(),
    closed_run_id text,
    closed_at     timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS alert_one_open_per_kind ON audit.alert (tenant_id, kind) WHERE closed_at IS NULL;
