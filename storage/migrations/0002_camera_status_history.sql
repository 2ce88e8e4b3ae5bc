-- Every health transition of every camera, for status history and uptime reports.
CREATE TABLE camera_status_history (
    id         bigserial PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    camera_id  uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    at         timestamptz(3) NOT NULL,
    previous   text NOT NULL,
    state      text NOT NULL,
    reason     text,
    detail     text
);
CREATE INDEX camera_status_history_camera_at ON camera_status_history (camera_id, at);
