-- A Synchroteam account whose clock contradicted the connection's timezone option: its reads are held until the
-- option names another zone (the row is kept for audit and ignored once the option changed).
CREATE TABLE IF NOT EXISTS sync.st_zone_hold (
    tenant_id        int PRIMARY KEY REFERENCES sync.tenant,
    configured_zone  text NOT NULL,
    message          text NOT NULL,
    run_id           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
