-- Secrets PostgreSQL no longer keeps in the clear (docs/security/secrets.md).
--
-- Vendor push tokens: only their SHA-256 is kept. A token is 192 random bits, so the hash needs no key and no
-- salt, and this migration can convert existing tokens itself; webhooks look cameras up by the hash.
ALTER TABLE cameras ADD COLUMN lpr_token_hash bytea UNIQUE CHECK (length(lpr_token_hash) = 32);
UPDATE cameras SET lpr_token_hash = sha256(convert_to(lpr_token, 'UTF8')) WHERE lpr_token IS NOT NULL;
ALTER TABLE cameras DROP COLUMN lpr_token;

-- RTSP passwords and LPR HMAC secrets: sealed (AES-GCM) with a key derived from the deployment's master secret,
-- which PostgreSQL never sees, so SQL cannot seal existing values. The application does it at start
-- (services/seal_at_rest.py): it moves each value from the old column into the sealed one and clears the old
-- one in the same UPDATE. Which column holds a value is the marker: a value in rtsp_password / lpr_secret is
-- still plaintext, a value in *_sealed never is. Nothing reads the old columns but that pass.
ALTER TABLE cameras ADD COLUMN rtsp_password_sealed text CHECK (rtsp_password_sealed LIKE 'sealed:%');
ALTER TABLE cameras ADD COLUMN lpr_secret_sealed text CHECK (lpr_secret_sealed LIKE 'sealed:%');

-- Usernames are unique within a city (and among platform admins), no longer across the platform: creating a user
-- whose name another city uses succeeds, so a 409 no longer tells a city's manager that name exists elsewhere.
-- Login names the city when the name alone is ambiguous (storage/users.py ``credentials``).
ALTER TABLE users DROP CONSTRAINT users_username_key;
CREATE UNIQUE INDEX users_city_username ON users (tenant_id, username) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX users_admin_username ON users (username) WHERE tenant_id IS NULL;
CREATE INDEX users_username ON users (username);
