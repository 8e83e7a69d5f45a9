-- +goose Up
-- Workspace single sign-on. An owner of a workspace on the Pro plan
-- connects the workspace's own OpenID Connect provider (issuer, client id,
-- and the client secret sealed like authenticator secrets) and proves
-- domains by a DNS TXT record; people whose address is in a verified
-- domain then sign in through that provider. require_sso keeps such
-- members out of the workspace unless their session came from it; jit
-- makes people of a verified domain members (as jit_role) on their first
-- sign-in through it; idp_mfa_counts lets the provider's own multi-factor
-- sign-in (amr "mfa" or "hwk") stand for Atrium's second factor.
CREATE TABLE workspace_sso (
    workspace_id     BIGINT   PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    issuer           TEXT     NOT NULL,
    client_id        TEXT     NOT NULL,
    client_secret    TEXT     NOT NULL,
    require_sso      BOOLEAN  NOT NULL DEFAULT FALSE,
    jit              BOOLEAN  NOT NULL DEFAULT FALSE,
    jit_role         TEXT     NOT NULL DEFAULT 'member',
    idp_mfa_counts   BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- The domains a workspace claims. token is the value of the TXT record
-- _atrium-challenge.<domain> that proves it (published in DNS, so no
-- secret). A domain may be claimed by several workspaces, verified by one.
CREATE TABLE workspace_domains (
    id            BIGSERIAL PRIMARY KEY,
    workspace_id  BIGINT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    domain        TEXT     NOT NULL,
    token         TEXT     NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    verified_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX workspace_domains_workspace_domain_idx ON workspace_domains (workspace_id, domain);
CREATE UNIQUE INDEX workspace_domains_verified_idx ON workspace_domains (domain) WHERE verified_at IS NOT NULL;

-- The session signed in through a workspace's provider names it.
ALTER TABLE sessions ADD COLUMN sso_workspace_id BIGINT;

-- An owner's session that reached a workspace requiring single sign-on
-- by the break-glass way (an email link and a second factor): one row,
-- and one audit entry, per session and workspace.
CREATE TABLE sso_break_glass (
    session_id    BIGINT   NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    workspace_id  BIGINT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, workspace_id)
);

-- +goose Down
DROP TABLE sso_break_glass;
ALTER TABLE sessions DROP COLUMN sso_workspace_id;
DROP TABLE workspace_domains;
DROP TABLE workspace_sso;
