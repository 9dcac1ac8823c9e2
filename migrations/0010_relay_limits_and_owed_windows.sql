-- What the synchronizer learns about each relay and what it still owes (issue: foreign relays).
--
-- relay_limits: the filter limits a relay enforces, learned from its NIP-11 document and from its
-- refusals (a NOTICE or CLOSED naming a list that is too long), whether its NIP-45 COUNT has been
-- seen to agree with its REQ answers, and the largest page it ever answered. Every service that
-- sends REQs reads it; learned values are probed again after sync.limits_reprobe_seconds.
CREATE TABLE relay_limits (
  relay_id        integer     PRIMARY KEY REFERENCES relay (id) ON DELETE CASCADE,
  max_limit       integer CHECK (max_limit > 0),
  max_kinds       integer CHECK (max_kinds > 0),
  max_authors     integer CHECK (max_authors > 0),
  max_ids         integer CHECK (max_ids > 0),
  max_filters     integer CHECK (max_filters > 0),
  requires_kinds  boolean     NOT NULL DEFAULT false,
  largest_page    integer CHECK (largest_page >= 0),
  count_trust     text CHECK (count_trust IN ('agrees', 'disagrees', 'unanswered')),
  count_checked_at timestamptz,
  learned         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  learned_at      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE relay_limits IS 'Filter limits each relay enforces (learned from NIP-11 and refusals), whether its COUNT agrees with its REQ answers, and its largest page; used by every service that sends REQs.';
COMMENT ON COLUMN relay_limits.learned IS 'Per limit, how it was learned: {"max_kinds": {"from": "refusal", "message": "...", "at": "..."}}.';
COMMENT ON COLUMN relay_limits.count_trust IS 'agrees: its COUNT matched a scope proven by REQ; disagrees: it did not (never used as proof); unanswered: COUNT got no answer. NULL: not tested.';
COMMENT ON COLUMN relay_limits.requires_kinds IS 'The relay refuses filters without a narrowing field (only since/until/limit): windows are paged per kinds list.';

-- sync_gap: time windows of a relay that are not proven archived: a crowded second no filter within
-- the relay's limits could exhaust, a page that ended without EOSE, a window NIP-77 could not
-- reconcile, or the unfinished part of a pass (its row shrinks as the pass commits, so a pass
-- killed at any point leaves exactly its remainder here). Invariant: everything of the relay in
-- [sync.since, completed_until] is archived except these windows. Later passes retry them, by any method.
CREATE TABLE sync_gap (
  id          bigserial   PRIMARY KEY,
  relay_id    integer     NOT NULL REFERENCES relay (id) ON DELETE CASCADE,
  since       bigint      NOT NULL,
  until       bigint      NOT NULL CHECK (until >= since),
  reason      text        NOT NULL,
  attempts    integer     NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  next_try_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sync_gap IS 'Windows of a relay not proven archived (owed): retried by later passes until a method proves them.';
CREATE INDEX sync_gap_relay_idx ON sync_gap (relay_id, until DESC);

-- relay_withheld: ids a relay lists in NIP-77 reconciliation but does not serve to us by id (strfry
-- keeps kinds 4 and 1059 for authenticated recipients). Remembered so they are not asked again on
-- every pass, and not mistaken for a page cap.
CREATE TABLE relay_withheld (
  relay_id      integer     NOT NULL REFERENCES relay (id) ON DELETE CASCADE,
  event_id      bytea       NOT NULL,
  reason        text        NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_asked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (relay_id, event_id)
);
COMMENT ON TABLE relay_withheld IS 'Event ids a relay lists (NIP-77) but will not serve to us; asked again only after sync.withheld_recheck_seconds.';

-- The outcome of the last pass, kept with the cursor: complete only when proven.
ALTER TABLE sync_cursor ADD COLUMN last_pass_at timestamptz;
ALTER TABLE sync_cursor ADD COLUMN last_pass_complete boolean;
ALTER TABLE sync_cursor ADD COLUMN last_pass_reason text;
ALTER TABLE sync_cursor ADD COLUMN last_pass_requests integer;
COMMENT ON COLUMN sync_cursor.last_pass_complete IS 'Whether the last pass proved its whole window archived with nothing owed (sync_gap empty for the relay).';
COMMENT ON COLUMN sync_cursor.last_pass_reason IS 'Why the last pass was not complete (refusals, timeouts, owed windows), NULL when it was.';
