-- Sessions that can be ended (docs/security/sessions.md).
--
-- users.token_generation is carried in every access and media token; bumping it
-- (disable, password change or reset, delete) ends all of the user's sessions at
-- once. A deleted user stays as a row (deleted_at) so the audit trail, clips and
-- reports keep naming them; the name stays taken so the trail stays unambiguous.
ALTER TABLE users ADD COLUMN token_generation bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at timestamptz(3);
ALTER TABLE users ADD COLUMN deleted_at timestamptz(3);

-- One row per login: its refresh tokens rotate within it, its access and media
-- tokens name it (sid). `generation` is the user's token_generation at login.
-- `expires_at` follows the newest refresh token; revoked_reason says why it ended.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    generation      bigint NOT NULL,
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    expires_at      timestamptz(3) NOT NULL,
    revoked_at      timestamptz(3),
    revoked_reason  text CHECK (revoked_reason IN ('logout', 'reuse', 'user', 'limit'))
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- Each refresh token issued (the family is its session). used_at is set when it
-- is exchanged; presenting it again revokes the whole session (reuse: a copy was
-- stolen). Rows go once expired: an expired token is refused before any lookup.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    issued_at   timestamptz(3) NOT NULL DEFAULT now(),
    expires_at  timestamptz(3) NOT NULL,
    used_at     timestamptz(3)
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id, expires_at);

-- Single-use WebSocket tickets when there is no Redis (with Redis they live there,
-- with a TTL). Only the SHA-256 of a ticket is kept.
CREATE TABLE ws_tickets (
    digest      bytea PRIMARY KEY,
    user_id     uuid NOT NULL,
    role        text NOT NULL,
    tenant_id   uuid,
    session_id  uuid NOT NULL,
    generation  bigint NOT NULL,
    expires_at  timestamptz(3) NOT NULL
);
CREATE INDEX ws_tickets_expires ON ws_tickets (expires_at);
