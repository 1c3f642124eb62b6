-- As SQLite's migration 7: every status column accepts only its known values (the lists of
-- src/store/policy.ts, which test/store-schema.test.ts compares with these). Rows already stored are
-- checked when the constraint is added; every one written by this store passes.
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
  CHECK (status IN ('REGISTERED', 'STARTING', 'RUNNING', 'FINALIZING', 'COMPLETED', 'STOPPING', 'STOPPED', 'CANCELLED', 'FAILED'));
ALTER TABLE attempts ADD CONSTRAINT attempts_state_check CHECK (state IN ('active', 'finished', 'lost'));
ALTER TABLE uploads ADD CONSTRAINT uploads_state_check CHECK (state IN ('open', 'completing', 'completed', 'aborted', 'expired'));
ALTER TABLE files ADD CONSTRAINT files_status_check CHECK (status IN ('ready', 'deleted'));
