-- Author + kind searches of the API and the archive relay (`authors=…&kinds=…`, the most common
-- NIP-01 filter). With only (pubkey, created_at) PostgreSQL reads every event of the author and
-- filters the kind; for an author with tens of thousands of events that is tens of thousands of heap
-- fetches per page. This index reads only the events of the asked kinds (and, for a single author and
-- kind compared with =, reads them newest first and stops at the page size).
-- Measured on 1,000,000 events (bench/api.ts, docs/api.md): author + another kind than 1 p99 166 ms
-- -> 53 ms, author + kind 1 p99 563 ms -> 181 ms; about 32 bytes per event.
CREATE INDEX event_pubkey_kind_created_idx ON event (pubkey, kind, created_at DESC);
