/**
 * All checks of one relay: DNS first (its addresses are screened and then used by every other
 * check, so a name cannot rebind between checks), then NIP-11, TLS and the WebSocket round trips in
 * parallel, then geolocation and the derived requirements. Every check that ran yields a record,
 * failed ones with their reason; checks that do not apply (DNS of an IP or an onion, TLS of ws://,
 * geo without a database) yield none.
 */
import { isIP } from 'node:net';
import { OPERATOR_SOURCES } from '../../db/relays.js';
import type { Resolver } from 'node:dns/promises';
import type { Config } from '../../config/schema.js';
import type { CheckRecord, DueRelay } from '../../db/relay-checks.js';
import { isLocalName, isPublicAddress, screenHost } from '../../relay/address-policy.js';
import type { RelayReport } from '../../nostr/nip66.js';
import { checkDns } from './checks/dns.js';
import type { GeoLookup } from './checks/geo.js';
import { fetchNip11, nip11Url } from './checks/nip11.js';
import { checkTls } from './checks/tls.js';
import { checkWebSocket, type WebSocketOutcome } from './checks/websocket.js';
import { probeClaims, probeableClaims } from './checks/claims.js';
import type { MonitorHttp } from './http-client.js';
import { deriveRequirements } from './requirements.js';

const TRUSTED_SOURCES = new Set(OPERATOR_SOURCES);

export interface CheckContext {
  config: Config;
  http: MonitorHttp;
  resolver: Pick<Resolver, 'resolve4' | 'resolve6'>;
  geo?: GeoLookup;
  ca?: string[];
  /** Key signing the write-check event (the identity key, or one made for this process). */
  writeKey: string;
  now?: () => Date;
}

export interface RelayCheckResult {
  records: CheckRecord[];
  report: RelayReport;
  up: boolean;
  /** Why the relay is down (the open check's reason). */
  reason?: string;
  /** Screening refused the relay (a private address): nothing was contacted and nothing is stored. */
  refused?: string;
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function mayUsePrivate(relay: DueRelay, config: Config): boolean {
  return config.relay_url.allow_private || TRUSTED_SOURCES.has(relay.discovered_from);
}

export async function checkRelay(relay: DueRelay, context: CheckContext): Promise<RelayCheckResult> {
  const { config } = context;
  const monitor = config.monitor;
  const now = () => context.now?.() ?? new Date();
  const url = new URL(relay.url);
  const host = bareHost(url);
  const records: CheckRecord[] = [];
  const report: RelayReport = { url: relay.url, network: relay.network };
  const down = (reason: string): RelayCheckResult => {
    records.push({ type: 'open', checkedAt: now(), ok: false, reason });
    return { records, report, up: false, reason };
  };

  // DNS and screening of the addresses every later check connects to.
  let addresses: string[] = [];
  if (relay.network === 'clearnet') {
    if (isIP(host)) addresses = [host];
    else {
      const checkedAt = now();
      const dns = await checkDns(host, context.resolver);
      if (!dns.ok) {
        records.push({ type: 'dns', checkedAt, ok: false, rttMs: dns.rttMs, reason: dns.reason });
        return down(`dns: ${dns.reason}`);
      }
      records.push({
        type: 'dns',
        checkedAt,
        ok: true,
        rttMs: dns.rttMs,
        document: { a: dns.a, aaaa: dns.aaaa },
        detail: { ttl_a: dns.ttlA, ttl_aaaa: dns.ttlAaaa },
      });
      addresses = [...dns.a, ...dns.aaaa];
    }
    if (!mayUsePrivate(relay, config)) {
      // The outbound policy (src/relay/address-policy.ts): local names and non-public addresses.
      const refused = isLocalName(host) ? host : addresses.find((address) => !isPublicAddress(address));
      if (refused)
        return {
          records: [],
          report,
          up: false,
          refused: `private-address: ${host}${refused === host ? ' is a local name or address' : ` resolves to ${refused}`}`,
        };
    }
    context.http.pin(url.hostname, addresses);
  }

  const secretKey = config.identity.secret_key;
  // A redirect may lead elsewhere: only the relay's own host inherits the operator's trust. Every other
  // target is screened by the same policy (single-label names such as `db` or `metadata` included)
  // and pinned to the addresses screened; a refused one is never contacted, and its reason says only
  // that it was refused (no connection error can serve as a port scanner).
  const screenRedirect = async (target: URL): Promise<string | undefined> => {
    const targetHost = bareHost(target);
    const trusted = config.relay_url.allow_private || (targetHost === host && mayUsePrivate(relay, config));
    const screened = await screenHost(targetHost, { trusted, resolver: context.resolver });
    if (!screened.ok) return screened.refusal ? `${screened.refusal} (redirect targets must be public hosts)` : screened.detail;
    if (screened.addresses.length > 0) context.http.pin(target.hostname, screened.addresses);
    return undefined;
  };

  const nip11At = now();
  const wsAt = now();
  const [nip11, tls, ws] = await Promise.all([
    fetchNip11(relay.url, {
      http: context.http,
      timeoutMs: monitor.nip11_timeout_ms,
      maxRedirects: monitor.nip11_max_redirects,
      maxBytes: config.limits.nip11_max_bytes,
      userAgent: monitor.user_agent,
      screenRedirect,
    }),
    url.protocol === 'wss:' && relay.network === 'clearnet'
      ? checkTls({
          host,
          port: Number(url.port) || 443,
          address: addresses[0],
          timeoutMs: monitor.tls_timeout_ms,
          ca: context.ca,
          now: () => now().getTime(),
        }).then((outcome) => ({ outcome, checkedAt: now() }))
      : Promise.resolve(undefined),
    checkWebSocket({
      url: relay.url,
      relay: config.relay,
      addresses: relay.network === 'clearnet' ? addresses : undefined,
      ca: context.ca,
      userAgent: monitor.user_agent,
      openTimeoutMs: monitor.open_timeout_ms,
      readTimeoutMs: monitor.read_timeout_ms,
      writeTimeoutMs: monitor.write_timeout_ms,
      write: monitor.write_check ? { kind: monitor.write_check_kind, secretKey: secretKey ?? context.writeKey } : undefined,
      authSecretKey: secretKey,
    }),
  ]);

  if (nip11.ok) {
    records.push({
      type: 'nip11',
      checkedAt: nip11At,
      ok: true,
      rttMs: nip11.rttMs,
      document: nip11.raw,
      detail: {
        ...(nip11.finalUrl !== nip11Url(relay.url).href ? { final_url: nip11.finalUrl } : {}),
        ...(nip11.dropped.length ? { dropped: nip11.dropped.slice(0, 20) } : {}),
      },
    });
    report.nip11 = nip11.document;
    report.nip11Raw = nip11.raw;
  } else records.push({ type: 'nip11', checkedAt: nip11At, ok: false, rttMs: nip11.rttMs, reason: nip11.reason });

  if (tls) {
    const { outcome, checkedAt } = tls;
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

  pushRoundTrips(records, ws, wsAt);
  if (ws.open.ok) report.rttOpenMs = ws.open.rttMs;
  if (ws.read?.ok) report.rttReadMs = ws.read.rttMs;
  if (ws.write?.ok) report.rttWriteMs = ws.write.rttMs;

  if (context.geo && addresses.length > 0) {
    const address = addresses.find((candidate) => isIP(candidate) === 4) ?? (addresses[0] as string);
    const found = context.geo.lookup(address);
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

  const derived = deriveRequirements(nip11.ok ? nip11.document : undefined, ws);
  if (derived) {
    records.push({
      type: 'requirements',
      checkedAt: now(),
      ok: true,
      document: derived.requirements,
      detail: { sources: derived.sources, challenged: ws.challenged, authenticated: ws.authenticated },
    });
    report.requirements = derived.requirements;
  }

  if (ws.open.ok && nip11.ok && claimProbeDue(relay, config, now()) && probeableClaims(nip11.document)) {
    const checkedAt = now();
    const started = performance.now();
    // An overall bound on one relay's probes: each request has its own timeout, and all of them a dozen.
    const deadline = new AbortController();
    const deadlineTimer = setTimeout(() => deadline.abort(), monitor.claim_probe_timeout_ms * 12);
    try {
      const findings = await probeClaims({
        signal: deadline.signal,
        url: relay.url,
        relay: config.relay,
        addresses: relay.network === 'clearnet' ? addresses : undefined,
        ca: context.ca,
        userAgent: monitor.user_agent,
        timeoutMs: monitor.claim_probe_timeout_ms,
        paceMs: monitor.claim_probe_pace_ms,
        document: nip11.document,
        ...(monitor.write_check && monitor.claim_probe_writes ? { writeKey: secretKey ?? context.writeKey } : {}),
      });
      records.push({ type: 'claims', checkedAt, ok: true, rttMs: Math.round(performance.now() - started), detail: { findings } });
    } catch (error) {
      records.push({ type: 'claims', checkedAt, ok: false, reason: error instanceof Error ? error.message.slice(0, 300) : 'probe failed' });
    } finally {
      clearTimeout(deadlineTimer);
    }
  }

  return { records, report, up: ws.open.ok, reason: ws.open.reason };
}

function claimProbeDue(relay: DueRelay, config: Config, now: Date): boolean {
  if (!config.monitor.claim_probes) return false;
  if (relay.claims_checked_at == null) return true;
  return now.getTime() - new Date(relay.claims_checked_at).getTime() >= config.monitor.claim_probe_interval_seconds * 1000;
}

function pushRoundTrips(records: CheckRecord[], ws: WebSocketOutcome, checkedAt: Date): void {
  records.push({ type: 'open', checkedAt, ok: ws.open.ok, rttMs: ws.open.rttMs, reason: ws.open.reason });
  if (ws.read)
    records.push({ type: 'read', checkedAt, ok: ws.read.ok, rttMs: ws.read.rttMs, reason: ws.read.reason, detail: ws.read.detail });
  if (ws.write)
    records.push({ type: 'write', checkedAt, ok: ws.write.ok, rttMs: ws.write.rttMs, reason: ws.write.reason, detail: ws.write.detail });
}
