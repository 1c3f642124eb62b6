-- As SQLite's migration 5: row_version bumped by every UPDATE, list index covering uuid + row_version.
ALTER TABLE jobs ADD COLUMN row_version BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION jobs_bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.row_version := OLD.row_version + 1; RETURN NEW; END $$;
CREATE TRIGGER jobs_row_version BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_bump_row_version();
DROP INDEX jobs_org_created;
CREATE INDEX jobs_org_created ON jobs(org_uuid, created_at DESC, id DESC, api_version, uuid, row_version);
