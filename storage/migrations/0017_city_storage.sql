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

-- Count a statement's rows: TG_ARGV holds pairs (kind, the row's size column); inserted rows add their sizes,
-- deleted rows subtract theirs, updated rows both (so only what changed counts).
CREATE FUNCTION tenant_storage_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    deltas jsonb := '[]';
    found jsonb;
    rows_of text;
    i int;
BEGIN
    FOREACH rows_of IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['new_rows'] WHEN 'DELETE' THEN ARRAY['old_rows']
                                        ELSE ARRAY['new_rows', 'old_rows'] END LOOP
        FOR i IN 0 .. TG_NARGS - 1 BY 2 LOOP
            EXECUTE format('SELECT coalesce(jsonb_agg(jsonb_build_object(''t'', tenant_id, ''k'', %L, ''b'', b)), ''[]'')'
                           ' FROM (SELECT tenant_id, %s sum(coalesce(%I, 0)) AS b FROM %I GROUP BY 1) y',
                           TG_ARGV[i], CASE rows_of WHEN 'old_rows' THEN '-' ELSE '' END, TG_ARGV[i + 1], rows_of)
                INTO found;
            deltas := deltas || found;
        END LOOP;
    END LOOP;
    PERFORM tenant_storage_apply(deltas);
    RETURN NULL;
END $$;

-- The hot inserts (a chunk indexed by every camera each minute, a batch of plate reads) get static SQL, planned
-- once per connection: through the generic function above a chunk's INSERT took ≈ 1 ms more, 3× its cost
-- (benchmarks/storage_counting.py). No lock ordering needed: a chunk's statement touches one city's row, and
-- the one statement that spans cities, the LPR writer's batch, runs in one writer at a time.
CREATE FUNCTION tenant_storage_recordings_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_storage s SET bytes = s.bytes + d.b
    FROM (SELECT r.tenant_id, k.kind, sum(k.b) AS b FROM new_rows r,
          LATERAL (VALUES ('recordings', r.bytes), ('thumbnails', coalesce(r.thumbnail_bytes, 0))) AS k(kind, b)
          GROUP BY 1, 2) d
    WHERE s.tenant_id = d.tenant_id AND s.kind = d.kind AND d.b <> 0;
    RETURN NULL;
END $$;
CREATE FUNCTION tenant_storage_lpr_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_storage s SET bytes = s.bytes + d.b
    FROM (SELECT tenant_id, sum(image_bytes) AS b FROM new_rows GROUP BY 1 ORDER BY 1) d
    WHERE s.tenant_id = d.tenant_id AND s.kind = 'lpr_images' AND d.b <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER tenant_storage_recordings_insert AFTER INSERT ON recordings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_recordings_added();
CREATE TRIGGER tenant_storage_recordings_update AFTER UPDATE ON recordings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('recordings', 'bytes', 'thumbnails', 'thumbnail_bytes');
CREATE TRIGGER tenant_storage_recordings_delete AFTER DELETE ON recordings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('recordings', 'bytes', 'thumbnails', 'thumbnail_bytes');

-- A clip counts once its object exists (bytes is set when the export finishes).
CREATE TRIGGER tenant_storage_clips_insert AFTER INSERT ON clips REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('clips', 'bytes');
CREATE TRIGGER tenant_storage_clips_update AFTER UPDATE ON clips
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('clips', 'bytes');
CREATE TRIGGER tenant_storage_clips_delete AFTER DELETE ON clips REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('clips', 'bytes');

-- A read's images count until it is anonymized or erased (image_bytes set to 0 with its image_keys).
CREATE TRIGGER tenant_storage_lpr_insert AFTER INSERT ON lpr_events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_lpr_added();
CREATE TRIGGER tenant_storage_lpr_update AFTER UPDATE ON lpr_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('lpr_images', 'image_bytes');
CREATE TRIGGER tenant_storage_lpr_delete AFTER DELETE ON lpr_events REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_storage_count('lpr_images', 'image_bytes');

-- What is stored already (one scan, at migration time only).
INSERT INTO tenant_storage (tenant_id, kind) SELECT t.id, k FROM tenants t,
    unnest(ARRAY['recordings', 'thumbnails', 'clips', 'lpr_images']) k;
UPDATE tenant_storage s SET bytes = r.b FROM (SELECT tenant_id, sum(bytes) AS b FROM recordings GROUP BY 1) r
    WHERE s.tenant_id = r.tenant_id AND s.kind = 'recordings';
UPDATE tenant_storage s SET bytes = c.b FROM (SELECT tenant_id, sum(bytes) AS b FROM clips GROUP BY 1) c
    WHERE s.tenant_id = c.tenant_id AND s.kind = 'clips';
