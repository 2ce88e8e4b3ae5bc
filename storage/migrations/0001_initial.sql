-- Tenants, users, cameras and the recording index. All instants are UTC
-- timestamptz with millisecond precision.
CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    tenant_id      uuid REFERENCES tenants(id) ON DELETE CASCADE,
    username       text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 200),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'manager', 'viewer')),
    created_at     timestamptz(3) NOT NULL DEFAULT now(),
    CHECK (role = 'admin' OR tenant_id IS NOT NULL)
);

-- rtsp_url is what users see (no credentials); the credentials live apart and
-- are joined only when the ingest opens the stream.
CREATE TABLE cameras (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    vendor         text NOT NULL DEFAULT 'generic',
    rtsp_url       text NOT NULL,
    rtsp_username  text,
    rtsp_password  text,
    enabled        boolean NOT NULL DEFAULT true,
    latitude       double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude      double precision CHECK (longitude BETWEEN -180 AND 180),
    created_at     timestamptz(3) NOT NULL DEFAULT now(),
    updated_at     timestamptz(3) NOT NULL DEFAULT now(),
    deleted_at     timestamptz(3)
);
CREATE UNIQUE INDEX cameras_tenant_name ON cameras (tenant_id, name) WHERE deleted_at IS NULL;

-- One row per chunk object. fragments is [[byte offset, length, start ms
-- (relative to the chunk start), duration ms], ...] so playback can address a GOP.
-- A chunk is at most an hour long, so "chunks of a camera overlapping [a, b)" is
-- a btree range scan on lower(time_range) in [a - 1 hour, b): an index lookup,
-- never a scan (and needs no btree_gist, which the embedded PostgreSQL lacks).
CREATE TABLE recordings (
    id           bigserial PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    camera_id    uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    time_range   tstzrange NOT NULL CHECK (NOT isempty(time_range))
                 CHECK (upper(time_range) - lower(time_range) <= interval '1 hour'),
    object_key   text NOT NULL UNIQUE,
    bytes        bigint NOT NULL CHECK (bytes > 0),
    init_length  integer NOT NULL CHECK (init_length > 0),
    codec        text NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    fragments    jsonb NOT NULL,
    created_at   timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX recordings_camera_start ON recordings (camera_id, lower(time_range));
CREATE INDEX recordings_time ON recordings USING gist (time_range);
