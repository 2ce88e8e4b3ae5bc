-- Fair clip exports across cities and clips that expire per plan (docs/cities.md "Clip exports",
-- docs/retention.md "Clips"). Only additions: columns with defaults and indexes.

-- How many export jobs a city may have queued or running (past it POST /clips is a 429), how many of them may
-- run at once (so one city's flood cannot take every exporter), and how long a finished clip is kept
-- (null: until someone deletes it).
ALTER TABLE plans ADD COLUMN clip_jobs_max integer NOT NULL DEFAULT 20 CHECK (clip_jobs_max BETWEEN 1 AND 10000);
ALTER TABLE plans ADD COLUMN clip_jobs_running_max integer NOT NULL DEFAULT 1
    CHECK (clip_jobs_running_max BETWEEN 1 AND 100);
ALTER TABLE plans ADD COLUMN clip_retention_days integer CHECK (clip_retention_days BETWEEN 1 AND 3650);

-- The claim's round robin: each city's most recent claim, and its oldest queued job.
CREATE INDEX clips_tenant_started ON clips (tenant_id, started_at);
CREATE INDEX clips_queued_tenant ON clips (tenant_id, created_at) WHERE state = 'queued';
-- The retention pass: a city's finished clips by when they finished.
CREATE INDEX clips_finished ON clips (tenant_id, finished_at) WHERE state IN ('done', 'failed');
