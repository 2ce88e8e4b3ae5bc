-- The audit trail becomes tamper-evident (docs/audit.md).
--
-- Every row carries the hash of the row before it and of its own canonical
-- content: row_hash = sha256(prev_hash || audit_canonical(row)). The chain is
-- made here, in the database, by a BEFORE INSERT trigger, so that every writer
-- (API replicas, actors, psql) extends the one chain in commit order: the
-- trigger locks the single head row, so concurrent inserts queue, and it
-- assigns the id under that lock, so id order is chain order.
-- UPDATE, DELETE and TRUNCATE are refused by triggers; a superuser who disables
-- them and edits a row breaks the chain at that row (gtvision audit verify),
-- and one who cuts the tail is caught by the daily anchors in the object store.

ALTER TABLE audit_log
    ADD COLUMN source    text,   -- the client address of the request, where there was one
    ADD COLUMN prev_hash bytea,
    ADD COLUMN row_hash  bytea;

CREATE INDEX audit_log_user_at ON audit_log (user_id, at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);

-- The canonical content of a row: a JSON array of its fields (jsonb's text form
-- is deterministic: keys ordered, one spelling per value), times in UTC to the ms.
CREATE FUNCTION audit_canonical(r audit_log) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_array(
        r.id,
        to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        r.tenant_id, r.user_id, r.action, r.camera_id,
        to_char(r.range_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(r.range_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        r.source, r.detail)::text
$$;

CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id   bigint,
    row_hash  bytea NOT NULL
);

-- Chain the rows written before this migration, in id order, from the genesis hash (32 zero bytes).
DO $$
DECLARE
    r audit_log;
    prev bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
    last bigint := NULL;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        r.at := date_trunc('milliseconds', r.at);
        UPDATE audit_log SET at = r.at, prev_hash = prev,
               row_hash = sha256(prev || convert_to(audit_canonical(r), 'UTF8'))
         WHERE id = r.id RETURNING row_hash INTO prev;
        last := r.id;
    END LOOP;
    INSERT INTO audit_chain_head (singleton, last_id, row_hash) VALUES (true, last, prev);
END $$;

ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;

CREATE FUNCTION audit_chain_append() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prev bytea;
BEGIN
    SELECT row_hash INTO STRICT prev FROM audit_chain_head WHERE singleton FOR UPDATE;
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    NEW.at := date_trunc('milliseconds', clock_timestamp());
    NEW.prev_hash := prev;
    NEW.row_hash := sha256(prev || convert_to(audit_canonical(NEW), 'UTF8'));
    UPDATE audit_chain_head SET last_id = NEW.id, row_hash = NEW.row_hash WHERE singleton;
    RETURN NEW;
END $$;

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_chain_append BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_chain_append();
CREATE TRIGGER audit_refuse_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_refuse_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
