-- Plate reads accepted by a webhook and not yet written by the batched writer,
-- when the deployment has no Redis (the embedded default). Rows are deleted
-- once their reads are in lpr_events; a redelivery is stored once there.
CREATE TABLE lpr_intake (
    seq    bigserial PRIMARY KEY,
    event  bytea NOT NULL  -- domain/queued_read.py JSON
);

-- Optional per-camera allow-list of sender addresses for LPR pushes (null: any address with the token).
ALTER TABLE cameras ADD COLUMN lpr_allowed_sources cidr[];
