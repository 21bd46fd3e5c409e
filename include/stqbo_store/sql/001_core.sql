-- The connector's state. Schemas by role: sync (tenants, runs, lease, watermarks, plan), staging (raw extracts per
-- run), mapping (links and per-side bases), ledger (invoices pushed), audit (run reports, conflicts, errors).
CREATE SCHEMA IF NOT EXISTS sync;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS mapping;
CREATE SCHEMA IF NOT EXISTS ledger;
CREATE SCHEMA IF NOT EXISTS audit;

-- A tenant is one (Synchroteam domain, QuickBooks realm) pair: a new realm (sandbox -> production) is a new tenant
-- with a clean mapping; the old tenant's rows stay for audit.
CREATE TABLE IF NOT EXISTS sync.tenant (
    tenant_id       serial PRIMARY KEY,
    st_domain       text NOT NULL,
    qbo_realm_id    text NOT NULL,
    qbo_environment text NOT NULL,
    qbo_base_url    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (st_domain, qbo_realm_id)
);

-- One run at a time per tenant: the first task takes the lease, `report` gives it back.
CREATE TABLE IF NOT EXISTS sync.lease (
    tenant_id   int PRIMARY KEY REFERENCES sync.tenant,
    run_id      text NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    heartbeat   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sync.watermark (
    tenant_id  int NOT NULL REFERENCES sync.tenant,
    side       text NOT NULL,
    entity     text NOT NULL,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, side, entity)
);

-- What each extract read and the watermark it will commit when the run succeeds.
CREATE TABLE IF NOT EXISTS sync.run_extract (
    tenant_id      int NOT NULL REFERENCES sync.tenant,
    run_id         text NOT NULL,
    side           text NOT NULL,
    entity         text NOT NULL,
    full_read      boolean NOT NULL,
    record_count   int NOT NULL,
    next_watermark text,
    extracted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, side, entity)
);

CREATE TABLE IF NOT EXISTS staging.st_customer (
    tenant_id    int NOT NULL,
    run_id       text NOT NULL,
    st_id        bigint NOT NULL,
    payload      jsonb NOT NULL,
    extracted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, st_id)
);

CREATE TABLE IF NOT EXISTS staging.qbo_customer (
    tenant_id    int NOT NULL,
    run_id       text NOT NULL,
    qbo_id       text NOT NULL,
    payload      jsonb NOT NULL,
    extracted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, qbo_id)
);

-- Vendor and Employee DisplayNames: they share the namespace with customers.
CREATE TABLE IF NOT EXISTS staging.qbo_other_name (
    tenant_id    int NOT NULL,
    run_id       text NOT NULL,
    entity       text NOT NULL,
    qbo_id       text NOT NULL,
    display_name text NOT NULL,
    PRIMARY KEY (tenant_id, run_id, entity, qbo_id)
);

CREATE TABLE IF NOT EXISTS staging.st_invoice (
    tenant_id    int NOT NULL,
    run_id       text NOT NULL,
    st_id        bigint NOT NULL,
    payload      jsonb NOT NULL,
    extracted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, st_id)
);

CREATE TABLE IF NOT EXISTS mapping.customer_link (
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    st_id       bigint NOT NULL,
    qbo_id      text NOT NULL,
    linked_by   text NOT NULL,           -- match | created_in_qbo | created_in_st
    run_id      text NOT NULL,
    st_deleted  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, st_id),
    UNIQUE (tenant_id, qbo_id)
);

-- The last canonical projection each side returned for a linked record: each side is compared only with its own.
CREATE TABLE IF NOT EXISTS mapping.customer_base (
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    side        text NOT NULL CHECK (side IN ('st', 'qbo')),
    record_id   text NOT NULL,
    canon       jsonb NOT NULL,
    version     text,                    -- QuickBooks SyncToken / Synchroteam dateModified
    modified_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, side, record_id)
);

CREATE TABLE IF NOT EXISTS sync.plan (
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    run_id      text NOT NULL,
    seq         int NOT NULL,
    action      text NOT NULL,           -- link | create_qbo | create_st | update_qbo | update_st | deactivate_qbo | conflict | ambiguous | skip
    st_id       bigint,
    qbo_id      text,
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    reason      text NOT NULL DEFAULT '',
    base_hash   text,                    -- the bases the row was planned from; a row whose bases moved is superseded
    status      text NOT NULL DEFAULT 'pending',   -- pending | done | failed | superseded | info
    attempts    int NOT NULL DEFAULT 0,
    error       text,
    result      jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, seq)
);

CREATE TABLE IF NOT EXISTS audit.run (
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    run_id      text NOT NULL,
    mode        text NOT NULL,
    dry_run     boolean NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running',
    summary     jsonb,
    report      text,
    PRIMARY KEY (tenant_id, run_id)
);

CREATE TABLE IF NOT EXISTS audit.conflict (
    conflict_id serial PRIMARY KEY,
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    run_id      text NOT NULL,
    st_id       bigint NOT NULL,
    qbo_id      text NOT NULL,
    field       text NOT NULL,
    st_value    text,
    qbo_value   text,
    winner      text NOT NULL,
    rule        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS audit.record_error (
    error_id    serial PRIMARY KEY,
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    run_id      text NOT NULL,
    task        text NOT NULL,
    side        text NOT NULL,
    entity      text NOT NULL,
    record_key  text NOT NULL,
    field       text,
    code        text,
    message     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS record_error_run ON audit.record_error (tenant_id, run_id);
