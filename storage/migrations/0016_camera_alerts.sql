-- Camera offline/online alerts (docs/camera-health.md "Alerts", docs/cities.md "Camera alerts").
--
-- Each city chooses how long a camera may be down before camera.offline is raised, and how long it must record
-- again before camera.online; bounded so that a city cannot page itself every second nor hide an outage for days.
ALTER TABLE tenants
    ADD COLUMN camera_offline_after_s integer NOT NULL DEFAULT 30
        CHECK (camera_offline_after_s BETWEEN 5 AND 3600),
    ADD COLUMN camera_online_after_s integer NOT NULL DEFAULT 10
        CHECK (camera_online_after_s BETWEEN 5 AND 3600);

-- Every alert raised, in order: the alert watch (in the Fleet) reads each camera's last one after a restart, so an
-- offline alert is neither raised twice nor left without its online alert. Not an audit record: nobody acted.
CREATE TABLE camera_alerts (
    id             bigserial PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    camera_id      uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('offline', 'online')),
    since          timestamptz(3) NOT NULL,  -- offline: the outage began; online: recording resumed
    at             timestamptz(3) NOT NULL,  -- when it was raised
    reason         text
);
CREATE INDEX camera_alerts_camera ON camera_alerts (camera_id, id DESC);
CREATE INDEX camera_alerts_tenant ON camera_alerts (tenant_id, id DESC);
