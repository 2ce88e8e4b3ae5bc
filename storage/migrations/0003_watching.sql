-- Watching: run continuity and thumbnails on the recording index, the audit
-- log, clip export jobs and saved mosaics.

-- Decode time (ms) of the chunk's first fragment in its run's media timeline.
-- Chunk B continues chunk A (same run, no discontinuity for a player) iff B
-- starts where A ends both on the wall clock and in media time: a new run
-- restarts media time even when the wall clock is contiguous (docs/watching.md).
ALTER TABLE recordings ADD COLUMN media_start_ms bigint;
ALTER TABLE recordings ADD COLUMN thumbnail_key text;

-- Who watched, downloaded or exported what. No foreign keys: the trail
-- outlives the cameras and users it names.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz(3) NOT NULL DEFAULT now(),
    tenant_id    uuid,
    user_id      uuid,
    action       text NOT NULL,
    camera_id    uuid,
    range_start  timestamptz(3),
    range_end    timestamptz(3),
    detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);

CREATE TABLE clips (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    camera_id       uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    requested_by    uuid NOT NULL,
    start_at        timestamptz(3) NOT NULL,
    end_at          timestamptz(3) NOT NULL CHECK (end_at > start_at),
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress        real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    attempts        integer NOT NULL DEFAULT 0,
    object_key      text,
    bytes           bigint,
    sha256          text,
    first_frame_at  timestamptz(3),
    last_frame_at   timestamptz(3),
    error           text,
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    started_at      timestamptz(3),
    finished_at     timestamptz(3)
);
CREATE INDEX clips_tenant_created ON clips (tenant_id, created_at);
CREATE INDEX clips_pending ON clips (created_at) WHERE state IN ('queued', 'running');

-- cameras: one entry per slot of the layout (row-major), a camera id or null.
CREATE TABLE mosaics (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    layout      text NOT NULL CHECK (layout IN ('1x1', '2x2', '3x3', '4x4')),
    cameras     jsonb NOT NULL,
    shared      boolean NOT NULL DEFAULT false,
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    updated_at  timestamptz(3) NOT NULL DEFAULT now(),
    UNIQUE (owner_id, name)
);
CREATE INDEX mosaics_tenant ON mosaics (tenant_id);
