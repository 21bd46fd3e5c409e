-- Name groups the connector refused to guess (several candidates that neither email nor phone tell apart). While a
-- key is listed, no record with that name is created or adopted by look-before-create: a person decides (renames or
-- fills an email), and the next full read clears the entry once the group is no longer ambiguous.
CREATE TABLE IF NOT EXISTS sync.ambiguous_name (
    tenant_id  int NOT NULL REFERENCES sync.tenant,
    key        text NOT NULL,
    st_ids     bigint[] NOT NULL,
    qbo_ids    text[] NOT NULL,
    run_id     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
