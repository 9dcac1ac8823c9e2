-- The upper bound of the sync pass in progress, so that a pass interrupted by a crash resumes the same
-- window (newest first, from position_at) instead of starting a new one.
ALTER TABLE sync_cursor ADD COLUMN pass_until bigint;
COMMENT ON COLUMN sync_cursor.pass_until IS 'Upper created_at bound of the pass in progress (NULL when none); position_at is how far down it got.';
