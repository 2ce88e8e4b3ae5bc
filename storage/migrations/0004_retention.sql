-- Cities and retention: plans, legal holds, retention passes and their reports.

-- A plan is data, not code: admins create and assign them.
CREATE TABLE plans (
    id                   uuid PRIMARY KEY,
    name                 text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    retention_days       integer NOT NULL CHECK (retention_days BETWEEN 1 AND 3650),
    camera_quota         integer NOT NULL CHECK (camera_quota BETWEEN 0 AND 1000),
    manager_quota        integer NOT NULL DEFAULT 1 CHECK (manager_quota >= 0),
    viewer_quota         integer NOT NULL DEFAULT 5 CHECK (viewer_quota >= 0),
    storage_quota_bytes  bigint CHECK (storage_quota_bytes > 0),
    created_at           timestamptz(3) NOT NULL DEFAULT now()
);
INSERT INTO plans (id, name, retention_days, camera_quota) VALUES
    ('00000000-0000-4000-8000-000000000007', '7 days', 7, 1000),
    ('00000000-0000-4000-8000-000000000015', '15 days', 15, 1000),
    ('00000000-0000-4000-8000-000000000030', '30 days', 30, 1000);

ALTER TABLE tenants ADD COLUMN plan_id uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000030' REFERENCES plans(id);
ALTER TABLE tenants ADD COLUMN time_zone text NOT NULL DEFAULT 'America/Sao_Paulo';
-- Why the city's cameras must not record (storage quota under the "pause" policy); null when they record.
ALTER TABLE tenants ADD COLUMN recording_paused text;

-- Footage under a legal hold is never purged. Released holds stay, for the record.
CREATE TABLE legal_holds (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    camera_id       uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    time_range      tstzrange NOT NULL CHECK (NOT isempty(time_range)),
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    case_number     text NOT NULL CHECK (length(case_number) BETWEEN 1 AND 200),
    created_by      uuid NOT NULL,
    created_at      timestamptz(3) NOT NULL DEFAULT now(),
    released_at     timestamptz(3),
    released_by     uuid,
    release_reason  text
);
CREATE INDEX legal_holds_active ON legal_holds (camera_id) WHERE released_at IS NULL;

-- Objects whose index rows are gone but which may still be in the store: the
-- retention pass deletes rows and enqueues their objects in one transaction,
-- then deletes the objects, then the queue entries. A crash anywhere leaves
-- work the next pass finishes, and never a row pointing at a deleted object.
CREATE TABLE purge_queue (
    object_key  text PRIMARY KEY,
    queued_at   timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE retention_passes (
    id           bigserial PRIMARY KEY,
    trigger      text NOT NULL,
    started_at   timestamptz(3) NOT NULL DEFAULT now(),
    finished_at  timestamptz(3),
    state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
    error        text,
    chunks       bigint NOT NULL DEFAULT 0,
    bytes        bigint NOT NULL DEFAULT 0
);

-- The purge report: per pass, tenant, camera and tenant-local day.
CREATE TABLE purge_report (
    pass_id      bigint NOT NULL REFERENCES retention_passes(id) ON DELETE CASCADE,
    tenant_id    uuid NOT NULL,
    camera_id    uuid NOT NULL,
    local_day    date NOT NULL,
    chunks       bigint NOT NULL,
    bytes        bigint NOT NULL,
    first_start  timestamptz(3) NOT NULL,
    last_end     timestamptz(3) NOT NULL,
    held_chunks  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (pass_id, tenant_id, camera_id, local_day)
);

-- Retention scans a tenant's chunks by end time.
CREATE INDEX recordings_tenant_end ON recordings (tenant_id, upper(time_range));

-- The orphan sweep: how far each camera's hour prefixes have been compared
-- with the index, and what did not match (fixed only if still true a sweep later).
CREATE TABLE orphan_sweep (
    camera_id    uuid PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
    swept_until  timestamptz(3) NOT NULL
);
CREATE TABLE orphan_findings (
    object_key   text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('object_without_row', 'row_without_object')),
    tenant_id    uuid NOT NULL,
    camera_id    uuid NOT NULL,
    found_at     timestamptz(3) NOT NULL DEFAULT now(),
    resolved_at  timestamptz(3),
    action       text
);
CREATE INDEX orphan_findings_open ON orphan_findings (found_at) WHERE resolved_at IS NULL;
