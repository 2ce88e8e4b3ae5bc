-- City deletion after a grace period (docs/retention.md "Deleting a city").
--
-- DELETE /tenants/{id} schedules; the retention pass deletes the city once due_at has passed. The row has no
-- foreign key: it outlives the city, and after the deletion it holds the final report (the legal record of
-- what was deleted, with the audit trail, which is kept).
CREATE TABLE tenant_deletions (
    id              bigserial PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    tenant_name     text NOT NULL,
    requested_at    timestamptz(3) NOT NULL DEFAULT now(),
    requested_by    uuid,
    requested_by_name text,
    due_at          timestamptz(3) NOT NULL,
    state           text NOT NULL DEFAULT 'scheduled'
                    CHECK (state IN ('scheduled', 'deleting', 'deleted', 'cancelled')),
    disabled_users  uuid[] NOT NULL DEFAULT '{}',  -- the users the schedule disabled: a restore enables exactly these
    cancelled_at    timestamptz(3),
    cancelled_by    uuid,
    objects         jsonb NOT NULL DEFAULT '{}',  -- per kind {objects, bytes} deleted so far (resumable)
    rows_deleted    jsonb,                         -- per table, once the rows are gone
    completed_at    timestamptz(3),
    report          jsonb,
    report_key      text
);
-- At most one deletion in progress per city; cancelled and completed ones stay, for the record.
CREATE UNIQUE INDEX tenant_deletions_open ON tenant_deletions (tenant_id) WHERE state IN ('scheduled', 'deleting');
CREATE INDEX tenant_deletions_tenant ON tenant_deletions (tenant_id, id DESC);
