-- The monitor's claim probes (NIP-11 claims tested against behaviour) are stored as checks of type
-- `claims`, their findings in `detail`.
ALTER TABLE relay_check DROP CONSTRAINT relay_check_type_check;
ALTER TABLE relay_check ADD CONSTRAINT relay_check_type_check
  CHECK (check_type IN ('nip11', 'open', 'read', 'write', 'dns', 'ssl', 'geo', 'requirements', 'claims'));

-- The latest check of each type now includes the claim probe.
CREATE OR REPLACE VIEW relay_metadata_latest AS
SELECT r.id AS relay_id, r.url, t.check_type, c.checked_at, c.ok, c.rtt_ms, c.reason, c.metadata_id, m.type AS metadata_type, m.data, c.detail
FROM relay r
CROSS JOIN (VALUES ('nip11'), ('open'), ('read'), ('write'), ('dns'), ('ssl'), ('geo'), ('requirements'), ('claims')) AS t(check_type)
CROSS JOIN LATERAL (
  SELECT * FROM relay_check rc
  WHERE rc.relay_id = r.id AND rc.check_type = t.check_type
  ORDER BY rc.checked_at DESC
  LIMIT 1
) c
LEFT JOIN metadata m ON m.id = c.metadata_id;
