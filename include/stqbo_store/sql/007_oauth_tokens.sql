-- QuickBooks OAuth tokens (stqbo_api.tokens.TokenStore), formerly created by the token store itself.
-- IF NOT EXISTS: databases where the token store already made this table keep it, rows and all.
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.qbo_oauth_token (
    realm_id            text        NOT NULL,
    client_id           text        NOT NULL,
    refresh_token_enc   text        NOT NULL,
    access_token_enc    text,
    access_expires_at   timestamptz,
    refresh_expires_at  timestamptz,
    refreshed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (realm_id, client_id)
);
COMMENT ON TABLE auth.qbo_oauth_token IS
    'Newest QuickBooks OAuth tokens per realm and client, Fernet-encrypted with a key derived from the client secret';
