-- LGPD for plate reads (docs/lpr.md "Plates as personal data"): data-subject requests, plate reads that expire,
-- and plate masking for viewers. Only additions: a column with a default, new tables, one partial index.

-- How long a plan keeps plate reads in the clear; null: as long as its footage (retention_days).
ALTER TABLE plans ADD COLUMN lpr_retention_days integer CHECK (lpr_retention_days BETWEEN 1 AND 3650);

-- Viewers of a city with plate_masking see ABC1D** instead of ABC1D23, unless a manager granted them full view.
ALTER TABLE tenants ADD COLUMN plate_masking boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN plate_full_view boolean NOT NULL DEFAULT false;

-- The reads the retention pass still has to anonymize: anonymized ones (plate 'ANON-…') drop out of this index,
-- so a pass walks only the reads still in the clear, not the whole history.
CREATE INDEX lpr_events_clear_time ON lpr_events (tenant_id, captured_at) WHERE plate NOT LIKE 'ANON-%';

-- Data-subject requests (LGPD art. 18) about a plate: received, due (art. 19), completed.
-- plate is kept in the clear only while the subject is not anonymized; plate_pseudonym always.
CREATE TABLE lgpd_requests (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    plate              text CHECK (plate ~ '^[A-Z0-9]{1,10}$'),
    plate_pseudonym    text NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('access', 'export', 'anonymize')),
    legal_basis        text NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 2000),
    request_reference  text CHECK (length(request_reference) <= 200),
    note               text CHECK (length(note) <= 2000),
    requested_by       uuid NOT NULL,
    received_at        timestamptz(3) NOT NULL DEFAULT now(),
    due_at             timestamptz(3) NOT NULL,
    completed_at       timestamptz(3),
    completed_by       uuid,
    state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'completed'))
);
CREATE INDEX lgpd_requests_tenant ON lgpd_requests (tenant_id, received_at DESC);
CREATE INDEX lgpd_requests_subject ON lgpd_requests (tenant_id, plate_pseudonym);
