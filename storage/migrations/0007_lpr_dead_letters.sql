-- Plate reads the writer could not store (a data error PostgreSQL refuses every time, or a capture time outside
-- the months it keeps): moved here and confirmed to the intake, so one bad read never stops the others.
-- `read` is the queued read's JSON as text, ASCII-escaped: jsonb cannot hold the NUL that may be the very fault.
CREATE TABLE lpr_dead_letters (
    id          bigserial PRIMARY KEY,
    read_id     uuid UNIQUE,  -- the read's own id: a redelivered read is dead-lettered once
    tenant_id   uuid,
    camera_id   uuid,
    read        text NOT NULL CHECK (length(read) <= 4000000),
    error       text NOT NULL CHECK (length(error) <= 2000),
    first_seen  timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX lpr_dead_letters_tenant ON lpr_dead_letters (tenant_id, id DESC);
