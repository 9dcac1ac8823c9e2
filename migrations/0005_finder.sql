-- The finder scans newly archived events for relay URLs. Events are ordered by when they were
-- archived (not by created_at, which relays backdate), with a cursor per scanning source.
ALTER TABLE event ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();
COMMENT ON COLUMN event.archived_at IS 'When the event was first stored (transaction start); the finder scans in this order.';
CREATE INDEX event_archived_idx ON event (archived_at, id);

CREATE TABLE finder_cursor (
  source      text        PRIMARY KEY,
  position_at timestamptz NOT NULL,
  position_id bytea       NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE finder_cursor IS 'How far the finder has scanned the archive (archived_at, id), per source.';
