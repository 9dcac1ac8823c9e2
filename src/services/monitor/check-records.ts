/**
 * The rows one relay's checks leave: each outcome turned into its check record (failed ones with
 * their reason), and what the kind 30166 report learns from it.
 */
import { isIP } from 'node:net';
import type { CheckRecord } from '../../db/relay-checks.js';
import type { RelayReport } from '../../nostr/nip66.js';
import type { GeoLookup } from './checks/geo.js';
import { nip11Url, type Nip11Outcome } from './checks/nip11.js';
import type { TlsOutcome } from './checks/tls.js';
import type { WebSocketOutcome } from './checks/websocket.js';
import { deriveRequirements } from './requirements.js';

export function recordNip11(records: CheckRecord[], report: RelayReport, nip11: Nip11Outcome, checkedAt: Date): void {
  if (!nip11.ok) {
    records.push({ type: 'nip11', checkedAt, ok: false, rttMs: nip11.rttMs, reason: nip11.reason });
    return;
  }
  records.push({
    type: 'nip11',
    checkedAt,
    ok: true,
    rttMs: nip11.rttMs,
    document: nip11.raw,
    detail: {
      ...(nip11.finalUrl !== nip11Url(report.url).href ? { final_url: nip11.finalUrl } : {}),
      ...(nip11.dropped.length ? { dropped: nip11.dropped.slice(0, 20) } : {}),
    },
  });
  report.nip11 = nip11.document;
  report.nip11Raw = nip11.raw;
}

export function recordTls(records: CheckRecord[], outcome: TlsOutcome, checkedAt: Date): void {
  if (outcome.certificate) {
    records.push({
      type: 'ssl',
      checkedAt,
      ok: outcome.ok,
      rttMs: outcome.rttMs,
      reason: outcome.reason,
      document: outcome.certificate,
      detail: { days_to_expiry: outcome.daysToExpiry, protocol: outcome.protocol },
    });
  } else records.push({ type: 'ssl', checkedAt, ok: false, rttMs: outcome.rttMs, reason: outcome.reason });
}

export function recordRoundTrips(records: CheckRecord[], report: RelayReport, ws: WebSocketOutcome, checkedAt: Date): void {
  records.push({ type: 'open', checkedAt, ok: ws.open.ok, rttMs: ws.open.rttMs, reason: ws.open.reason });
  if (ws.read)
    records.push({ type: 'read', checkedAt, ok: ws.read.ok, rttMs: ws.read.rttMs, reason: ws.read.reason, detail: ws.read.detail });
  if (ws.write)
    records.push({ type: 'write', checkedAt, ok: ws.write.ok, rttMs: ws.write.rttMs, reason: ws.write.reason, detail: ws.write.detail });
  if (ws.open.ok) report.rttOpenMs = ws.open.rttMs;
  if (ws.read?.ok) report.rttReadMs = ws.read.rttMs;
  if (ws.write?.ok) report.rttWriteMs = ws.write.rttMs;
}

/** Geolocation of the relay's first IPv4 address (else its first address). */
export function recordGeo(records: CheckRecord[], report: RelayReport, geo: GeoLookup, addresses: string[], now: () => Date): void {
  const address = addresses.find((candidate) => isIP(candidate) === 4) ?? (addresses[0] as string);
  const found = geo.lookup(address);
  if (found) {
    const { ip, ...document } = found;
    records.push({ type: 'geo', checkedAt: now(), ok: true, document, detail: { ip } });
    report.geohash = found.geohash;
  } else
    records.push({
      type: 'geo',
      checkedAt: now(),
      ok: false,
      reason: `${address} is not in the geolocation database`,
      detail: { ip: address },
    });
}

/** What the relay requires (auth, payment, proof of work), derived from its NIP-11 document and replies. */
export function recordRequirements(
  records: CheckRecord[],
  report: RelayReport,
  nip11: Nip11Outcome,
  ws: WebSocketOutcome,
  now: () => Date,
): void {
  const derived = deriveRequirements(nip11.ok ? nip11.document : undefined, ws);
  if (!derived) return;
  records.push({
    type: 'requirements',
    checkedAt: now(),
    ok: true,
    document: derived.requirements,
    detail: { sources: derived.sources, challenged: ws.challenged, authenticated: ws.authenticated },
  });
  report.requirements = derived.requirements;
}
