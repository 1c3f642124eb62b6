-- List pages render each job's JSON once and reuse it while row_version is unchanged
-- (src/http/job-json-cache.ts): every UPDATE bumps it (the trigger, so no write path can forget),
-- and the list index covers uuid + row_version, so a page's keys come from the index alone.
ALTER TABLE jobs ADD COLUMN row_version INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER jobs_row_version AFTER UPDATE ON jobs FOR EACH ROW WHEN NEW.row_version = OLD.row_version
BEGIN UPDATE jobs SET row_version = OLD.row_version + 1 WHERE rowid = NEW.rowid; END;
DROP INDEX jobs_org_created;
CREATE INDEX jobs_org_created ON jobs(org_uuid, created_at DESC, id DESC, api_version, uuid, row_version);
