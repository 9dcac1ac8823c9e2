-- NIP-77 negentropy support as observed by the synchronizer (probed with NEG-OPEN, or read from
-- NIP-11 supported_nips), so that relays without it are not probed on every visit; and the time of
-- the last full pass (the whole history re-scanned or reconciled), which catches late events that
-- fall outside the trailing re-scan window.
ALTER TABLE sync_cursor ADD COLUMN negentropy text CHECK (negentropy IN ('supported', 'unsupported'));
ALTER TABLE sync_cursor ADD COLUMN negentropy_checked_at timestamptz;
COMMENT ON COLUMN sync_cursor.negentropy IS 'Whether the relay answered NIP-77 NEG-OPEN (NULL: not probed yet).';
COMMENT ON COLUMN sync_cursor.last_full_pass_at IS 'When the last pass over the whole history (sync.since to now) completed.';
