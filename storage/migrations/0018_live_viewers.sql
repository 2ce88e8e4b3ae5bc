-- Viewer admission (docs/cities.md "Live viewers"): how many live streams a city may watch at once, and who
-- watches now, over every API replica.

-- Null: the default, 16 per user of the city (at least 16) — generous, so a city only meets it when something
-- (a script, a wall of screens left open) opens far more streams than people could watch.
ALTER TABLE plans ADD COLUMN live_viewers_max integer CHECK (live_viewers_max BETWEEN 1 AND 100000);

-- One row per open live stream, leased: the replica serving it refreshes seen_at every 10 s, and a row not
-- refreshed for 30 s (its replica died) no longer counts. UNLOGGED: live state that a crash may lose (every
-- socket is gone with the server anyway), written at each open, close and refresh, so not worth the WAL.
CREATE UNLOGGED TABLE live_viewers (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    camera_id   uuid NOT NULL,
    user_id     uuid,
    started_at  timestamptz(3) NOT NULL DEFAULT now(),
    seen_at     timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX live_viewers_tenant ON live_viewers (tenant_id, seen_at);
