-- The monitor: per-check volatile facts, a fixed set of check types, and views that stay fast with
-- hundreds of thousands of checks.

ALTER TABLE relay_check ADD COLUMN detail jsonb;
COMMENT ON COLUMN relay_check.detail IS 'Small facts of this one check that change from check to check and so do not belong in the content-addressed document: DNS TTL, days to certificate expiry, the write check''s reply prefix, the evidence behind requirements.';

ALTER TABLE relay_check ADD CONSTRAINT relay_check_type_check
  CHECK (check_type IN ('nip11', 'open', 'read', 'write', 'dns', 'ssl', 'geo', 'requirements'));

-- A relay's latest check of each type: one index probe per (relay, type) on relay_check_latest_idx,
-- whatever the length of the history (the former DISTINCT read every check of the relay).
CREATE OR REPLACE VIEW relay_metadata_latest AS
SELECT r.id AS relay_id, r.url, t.check_type, c.checked_at, c.ok, c.rtt_ms, c.reason, c.metadata_id, m.type AS metadata_type, m.data, c.detail
FROM relay r
CROSS JOIN (VALUES ('nip11'), ('open'), ('read'), ('write'), ('dns'), ('ssl'), ('geo'), ('requirements')) AS t(check_type)
CROSS JOIN LATERAL (
  SELECT * FROM relay_check rc
  WHERE rc.relay_id = r.id AND rc.check_type = t.check_type
  ORDER BY rc.checked_at DESC
  LIMIT 1
) c
LEFT JOIN metadata m ON m.id = c.metadata_id;
COMMENT ON VIEW relay_metadata_latest IS 'The latest check of each type for each relay, with the document it saw and its volatile detail; each row is one index probe on relay_check_latest_idx.';

DROP VIEW relay_uptime;
CREATE VIEW relay_uptime AS
SELECT
  r.id AS relay_id,
  r.url,
  r.network,
  r.state,
  max(c.checked_at) FILTER (WHERE c.check_type = 'open') AS last_checked_at,
  (array_agg(c.ok ORDER BY c.checked_at DESC) FILTER (WHERE c.check_type = 'open'))[1] AS last_ok,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.check_type = 'open' AND c.checked_at > now() - interval '24 hours') AS availability_24h,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.check_type = 'open' AND c.checked_at > now() - interval '7 days') AS availability_7d,
  avg(CASE WHEN c.ok THEN 1.0 ELSE 0.0 END) FILTER (WHERE c.check_type = 'open') AS availability_30d,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.check_type = 'open' AND c.ok AND c.checked_at > now() - interval '7 days') AS median_rtt_open_7d_ms,
  count(*) FILTER (WHERE c.check_type = 'open') AS checks_30d,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.check_type = 'read' AND c.ok AND c.checked_at > now() - interval '7 days') AS median_rtt_read_7d_ms,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY c.rtt_ms) FILTER (WHERE c.check_type = 'write' AND c.rtt_ms IS NOT NULL AND c.checked_at > now() - interval '7 days') AS median_rtt_write_7d_ms
FROM relay r
JOIN relay_check c ON c.relay_id = r.id AND c.check_type IN ('open', 'read', 'write') AND c.checked_at > now() - interval '30 days'
GROUP BY r.id, r.url, r.network, r.state
HAVING count(*) FILTER (WHERE c.check_type = 'open') > 0;
COMMENT ON VIEW relay_uptime IS 'Availability of each relay from its ''open'' checks over the last 24 hours, 7 days and 30 days, and the median open, read and write round trips over 7 days (write: any answer, accepted or not).';
