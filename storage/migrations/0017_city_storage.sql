-- What each city stores, in bytes, by kind (docs/cities.md "What a city stores"): kept current by the
-- statements that write and delete the rows, never by listing the store or summing the index.
--
-- Triggers, not application code, so that every path that adds or removes a row (recording, thumbnailer, clip
-- export, LPR writer, retention, relief, LGPD erasure, city deletion, a manual DELETE) counts, in the same
-- transaction as the row: the counters cannot drift from the rows after a crash. Statement-level with transition
-- tables: a COPY batch of 1000 plate reads is one UPDATE per city, not 1000. One row per city and kind, so the
-- LPR writer and the camera hosts never wait on each other's counter.

-- The sizes the rows did not keep until now. Rows written before this migration count 0 for them.
ALTER TABLE recordings ADD COLUMN thumbnail_bytes bigint;
ALTER TABLE lpr_events ADD COLUMN image_bytes bigint NOT NULL DEFAULT 0 CHECK (image_bytes >= 0);

CREATE TABLE tenant_storage (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('recordings', 'thumbnails', 'clips', 'lpr_images')),
    bytes      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, kind)
);

-- Each city has its four rows from its creation, so the triggers only ever UPDATE (a row of a city being deleted
-- may already be gone: the cascade deletes in no set order, and an UPDATE of nothing is harmless).
CREATE FUNCTION tenant_storage_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenant_storage (tenant_id, kind)
    SELECT NEW.id, k FROM unnest(ARRAY['recordings', 'thumbnails', 'clips', 'lpr_images']) k
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER tenant_storage_rows AFTER INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION tenant_storage_rows();

-- Apply signed deltas (tenant, kind, bytes); in key order, so two statements never lock two cities' rows in
-- opposite orders.
CREATE FUNCTION tenant_storage_apply(deltas jsonb) RETURNS void LANGUAGE sql AS $$
    WITH d AS (
        SELECT (e->>'t')::uuid AS tenant_id, e->>'k' AS kind, sum((e->>'b')::bigint) AS delta
        FROM jsonb_array_elements(deltas) e GROUP BY 1, 2
    ), locked AS (
        SELECT s.tenant_id, s.kind FROM tenant_storage s JOIN d USING (tenant_id, kind)
        WHERE d.delta <> 0 ORDER BY s.tenant_id, s.kind FOR UPDATE OF s
    )
    UPDATE tenant_storage s SET bytes = s.bytes + d.delta FROM d, locked
    WHERE s.tenant_id = d.tenant_id AND s.kind = d.kind AND locked.tenant_id = d.tenant_id AND locked.kind = d.kind
$$;

CREATE FUNCTION tenant_storage_recordings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas jsonb := '[]';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        deltas := deltas || coalesce((SELECT jsonb_agg(x) FROM (
            SELECT jsonb_build_object('t', tenant_id, 'k', 'recordings', 'b', sum(bytes)) FROM new_rows GROUP BY tenant_id
            UNION ALL
            SELECT jsonb_build_object('t', tenant_id, 'k', 'thumbnails', 'b', sum(coalesce(thumbnail_bytes, 0)))
            FROM new_rows GROUP BY tenant_id) AS y(x)), '[]');
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        deltas := deltas || coalesce((SELECT jsonb_agg(x) FROM (
            SELECT jsonb_build_object('t', tenant_id, 'k', 'recordings', 'b', -sum(bytes)) FROM old_rows GROUP BY tenant_id
            UNION ALL
            SELECT jsonb_build_object('t', tenant_id, 'k', 'thumbnails', 'b', -sum(coalesce(thumbnail_bytes, 0)))
            FROM old_rows GROUP BY tenant_id) AS y(x)), '[]');
    END IF;
    PERFORM tenant_storage_apply(deltas);
    RETURN NULL;
END $$;
CREATE TRIGGER tenant_storage_recordings_insert AFTER INSERT ON recordings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_recordings();
CREATE TRIGGER tenant_storage_recordings_update AFTER UPDATE ON recordings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_recordings();
CREATE TRIGGER tenant_storage_recordings_delete AFTER DELETE ON recordings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_recordings();

-- A clip counts once its object exists (bytes is set when the export finishes).
CREATE FUNCTION tenant_storage_clips() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas jsonb := '[]';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        deltas := deltas || coalesce((SELECT jsonb_agg(jsonb_build_object('t', tenant_id, 'k', 'clips', 'b', b))
            FROM (SELECT tenant_id, sum(coalesce(bytes, 0)) AS b FROM new_rows GROUP BY 1) y), '[]');
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        deltas := deltas || coalesce((SELECT jsonb_agg(jsonb_build_object('t', tenant_id, 'k', 'clips', 'b', -b))
            FROM (SELECT tenant_id, sum(coalesce(bytes, 0)) AS b FROM old_rows GROUP BY 1) y), '[]');
    END IF;
    PERFORM tenant_storage_apply(deltas);
    RETURN NULL;
END $$;
CREATE TRIGGER tenant_storage_clips_insert AFTER INSERT ON clips REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_clips();
CREATE TRIGGER tenant_storage_clips_update AFTER UPDATE ON clips
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_clips();
CREATE TRIGGER tenant_storage_clips_delete AFTER DELETE ON clips REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_clips();

-- A read's images count until it is anonymized or erased (image_bytes set to 0 with its image_keys).
CREATE FUNCTION tenant_storage_lpr() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas jsonb := '[]';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        deltas := deltas || coalesce((SELECT jsonb_agg(jsonb_build_object('t', tenant_id, 'k', 'lpr_images', 'b', b))
            FROM (SELECT tenant_id, sum(image_bytes) AS b FROM new_rows GROUP BY 1) y), '[]');
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        deltas := deltas || coalesce((SELECT jsonb_agg(jsonb_build_object('t', tenant_id, 'k', 'lpr_images', 'b', -b))
            FROM (SELECT tenant_id, sum(image_bytes) AS b FROM old_rows GROUP BY 1) y), '[]');
    END IF;
    PERFORM tenant_storage_apply(deltas);
    RETURN NULL;
END $$;
CREATE TRIGGER tenant_storage_lpr_insert AFTER INSERT ON lpr_events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_lpr();
CREATE TRIGGER tenant_storage_lpr_update AFTER UPDATE ON lpr_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_lpr();
CREATE TRIGGER tenant_storage_lpr_delete AFTER DELETE ON lpr_events REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_lpr();

-- What is stored already (one scan, at migration time only).
INSERT INTO tenant_storage (tenant_id, kind) SELECT t.id, k FROM tenants t,
    unnest(ARRAY['recordings', 'thumbnails', 'clips', 'lpr_images']) k;
UPDATE tenant_storage s SET bytes = r.b FROM (SELECT tenant_id, sum(bytes) AS b FROM recordings GROUP BY 1) r
    WHERE s.tenant_id = r.tenant_id AND s.kind = 'recordings';
UPDATE tenant_storage s SET bytes = c.b FROM (SELECT tenant_id, sum(bytes) AS b FROM clips GROUP BY 1) c
    WHERE s.tenant_id = c.tenant_id AND s.kind = 'clips';
