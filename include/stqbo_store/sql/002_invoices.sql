-- Invoices pushed to QuickBooks (issue 7): the ledger that makes each Synchroteam invoice reach QuickBooks once,
-- the item links, and the per-run rows the report prints.

-- One row per Synchroteam invoice ever considered. `version` is the fingerprint of the QuickBooks payload last
-- written (or adopted); `pending_version` / `request_id` the write in flight, recorded and committed *before* the
-- request is sent, so a crash between send and reply is always followed by a look-before-create.
CREATE TABLE IF NOT EXISTS ledger.invoice (
    tenant_id       int NOT NULL REFERENCES sync.tenant,
    st_id           bigint NOT NULL,
    st_number       text,
    qbo_id          text,
    qbo_docnumber   text,
    qbo_customer_id text,
    version         text,                 -- payload fingerprint pushed (NULL: never written)
    pending_version text,                 -- payload fingerprint of the write in flight
    request_id      text,                 -- requestid of the last write sent (reused on retry of the same write)
    state           text NOT NULL DEFAULT 'pending',
        -- pending | done | failed | paid_in_qbo | deleted_in_qbo | voided_in_qbo
    attempts        int NOT NULL DEFAULT 0,
    failures        int NOT NULL DEFAULT 0,   -- definitive refusals so far: part of the next request id, so a write
                                              -- refused once (e.g. 6140) is not answered from QuickBooks' replay cache
    last_error      text,
    st_total        numeric(14, 2),
    qbo_total       numeric(14, 2),
    st_modified     text,
    run_id          text,                 -- the run that last wrote it
    pushed_at       timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, st_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS invoice_qbo_id ON ledger.invoice (tenant_id, qbo_id) WHERE qbo_id IS NOT NULL;

-- Synchroteam part reference -> QuickBooks Item (found by Sku or Name, or created).
CREATE TABLE IF NOT EXISTS mapping.item_link (
    tenant_id   int NOT NULL REFERENCES sync.tenant,
    part_ref    text NOT NULL,
    qbo_item_id text NOT NULL,
    linked_by   text NOT NULL,            -- sku | name | created
    run_id      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, part_ref)
);

-- What push_invoices did with each invoice in one run (the report's invoice table; kept per run for audit).
CREATE TABLE IF NOT EXISTS ledger.invoice_run (
    tenant_id     int NOT NULL REFERENCES sync.tenant,
    run_id        text NOT NULL,
    st_id         bigint NOT NULL,
    st_number     text,
    qbo_id        text,
    qbo_docnumber text,
    total         numeric(14, 2),
    qbo_total     numeric(14, 2),
    action        text NOT NULL,          -- create | update | adopt | skip | unchanged
    status        text NOT NULL,          -- pushed | updated | skipped | failed | unchanged | planned
    note          text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, st_id)
);

-- Run-level notes (custom transaction numbers off, tax model, ...).
CREATE TABLE IF NOT EXISTS ledger.invoice_run_note (
    tenant_id int NOT NULL REFERENCES sync.tenant,
    run_id    text NOT NULL,
    note      text NOT NULL,
    PRIMARY KEY (tenant_id, run_id, note)
);
