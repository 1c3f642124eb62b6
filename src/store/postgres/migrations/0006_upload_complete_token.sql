-- As SQLite's migration 6: the completion fencing token of direct uploads.
ALTER TABLE uploads ADD COLUMN complete_token BIGINT NOT NULL DEFAULT 0;
