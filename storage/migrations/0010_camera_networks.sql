-- A city's own camera networks (CIDRs) where camera URLs may point (domain/camera_targets.py); NULL: the
-- deployment's default (Settings.camera_networks).
ALTER TABLE tenants ADD COLUMN camera_networks cidr[];
