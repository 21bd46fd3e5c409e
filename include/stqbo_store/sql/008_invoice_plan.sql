-- The invoice plan (issue 11): what push_invoices decided for each staged Synchroteam invoice of a run, and what
-- became of it, as sync.plan holds the customer plan. The task plans afresh on every attempt (the ledger knows what
-- an earlier attempt already wrote), so a run's rows are replaced as a whole.
CREATE TABLE IF NOT EXISTS sync.invoice_plan (
    tenant_id       int NOT NULL REFERENCES sync.tenant,
    run_id          text NOT NULL,
    st_id           bigint NOT NULL,
    action          text NOT NULL,            -- create | update | unchanged | held | hold | skip | fail
    reason          text NOT NULL DEFAULT '', -- why this action (for fail: the error message)
    note            text NOT NULL DEFAULT '', -- the report row's note when the plan is the outcome (and dry runs)
    st_number       text,
    qbo_customer_id text,
    total           numeric(14, 2),           -- Synchroteam's total
    version         text,                     -- fingerprint of body: the ledger's version once written
    body            json,                     -- the QuickBooks Invoice body, sent as planned (json keeps key order)
    st_modified     text,
    qbo_id          text,                     -- the ledger's facts when planned
    qbo_docnumber   text,
    failures        int NOT NULL DEFAULT 0,   -- refusals so far: part of the request ids
    held_state      text,                     -- hold: deleted_in_qbo | voided_in_qbo
    error_code      text,                     -- fail: the error's code, side and field, as audit.record_error
    error_side      text,
    error_field     text,
    status          text NOT NULL DEFAULT 'pending',   -- pending | done | failed | info
    error           text,                     -- what the loader met
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, run_id, st_id)
);
