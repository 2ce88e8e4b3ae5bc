-- Licence-plate reads. Senders authenticate by a per-camera token in the URL
-- (vendor pushes cannot sign) or an HMAC secret (our generic JSON).
ALTER TABLE cameras ADD COLUMN lpr_token text UNIQUE;
ALTER TABLE cameras ADD COLUMN lpr_secret text;
ALTER TABLE cameras ADD COLUMN time_zone text;  -- the camera clock's zone (Intelbras sends local time); null: the city's

-- Partitioned by month of captured_at (retention and search stay per month);
-- a default partition catches anything outside the months created so far.
CREATE TABLE lpr_events (
    id             uuid NOT NULL,
    tenant_id      uuid NOT NULL,
    camera_id      uuid NOT NULL,
    plate          text NOT NULL,
    captured_at    timestamptz(3) NOT NULL,
    received_at    timestamptz(3) NOT NULL DEFAULT now(),
    confidence     real,
    direction      text,
    vehicle_color  text,
    vehicle_type   text,
    sender         text NOT NULL,
    image_keys     text[] NOT NULL DEFAULT '{}',
    dedupe_key     text NOT NULL,
    PRIMARY KEY (id, captured_at),
    UNIQUE (dedupe_key, captured_at)
) PARTITION BY RANGE (captured_at);
CREATE TABLE lpr_events_default PARTITION OF lpr_events DEFAULT;
-- Exact plates and prefixes/wildcards with a literal start (text_pattern_ops), newest first.
CREATE INDEX lpr_events_plate ON lpr_events (tenant_id, plate text_pattern_ops, captured_at DESC);
CREATE INDEX lpr_events_time ON lpr_events (tenant_id, captured_at DESC, id DESC);

-- Signatures of generic webhooks seen within the replay window.
CREATE TABLE lpr_signatures (
    signature  text PRIMARY KEY,
    seen_at    timestamptz(3) NOT NULL DEFAULT now()
);

-- Plates a city watches for (exact or with ? and * wildcards), and why.
CREATE TABLE lpr_watchlist (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    pattern     text NOT NULL CHECK (pattern ~ '^[A-Z0-9?*]{1,10}$'),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_by  uuid NOT NULL,
    created_at  timestamptz(3) NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, pattern)
);
