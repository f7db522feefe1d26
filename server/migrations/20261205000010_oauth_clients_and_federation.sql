-- Partners' pipelines without long-lived tokens. An OAuth client (client credentials grant) holds
-- its secret as a hash; a rotation keeps the previous secret's hash until the overlap ends. The
-- access tokens the token endpoint hands out are hashed too, and die with their client.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    previous_secret_hash TEXT,
    previous_until BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oauth_clients_by_recipient ON oauth_clients (recipient_id);

CREATE TABLE oauth_tokens (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_by_client ON oauth_tokens (client_id);

-- Federation: a JWT from the partner's own identity provider acts as the recipient when its
-- issuer, audience and subject claim match one of the recipient's policies. Lists are JSON arrays.
CREATE TABLE federation_policies (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    audiences TEXT NOT NULL,
    subject_claim TEXT NOT NULL,
    subject_values TEXT NOT NULL,
    scope TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX federation_policies_by_issuer ON federation_policies (issuer);
CREATE INDEX federation_policies_by_recipient ON federation_policies (recipient_id);
