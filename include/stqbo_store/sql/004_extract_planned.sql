-- A watermark may only advance over records a plan was built from: an extract cleared and re-run without its
-- diff_and_match must not let report skip the records it read.
ALTER TABLE sync.run_extract ADD COLUMN IF NOT EXISTS planned boolean NOT NULL DEFAULT false;
