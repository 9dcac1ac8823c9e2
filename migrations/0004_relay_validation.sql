-- Validation of candidate relays: consecutive failed probes with backoff, and why the last one failed.
-- A candidate that answers like a relay becomes active; one that keeps failing for long enough is retired.
CREATE TABLE relay_validation (
  relay_id         integer     PRIMARY KEY REFERENCES relay (id) ON DELETE CASCADE,
  attempts         integer     NOT NULL DEFAULT 0,
  first_failure_at timestamptz,
  last_attempt_at  timestamptz,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE relay_validation IS 'Probe history of candidate relays: consecutive failures (attempts), when to try next, and the last reason.';
CREATE INDEX relay_validation_next_idx ON relay_validation (next_attempt_at);
