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
import { fetchNip11, type Nip11Outcome } from './checks/nip11.js';
import { checkTls, type TlsOutcome } from './checks/tls.js';
import { checkWebSocket, type WebSocketOutcome } from './checks/websocket.js';
import { probeClaims, probeableClaims } from './checks/claims.js';
import type { Nip11Document } from '../../nostr/nip11.js';
import { recordGeo, recordNip11, recordRequirements, recordRoundTrips, recordTls } from './check-records.js';
import type { MonitorHttp } from './http-client.js';

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

/** What the checks of one relay share: the relay, its parsed URL and host, the rows and report they fill in. */
interface RelayCheckRun {
  relay: DueRelay;
  context: CheckContext;
  url: URL;
  host: string;
  records: CheckRecord[];
  report: RelayReport;
  now: () => Date;
}

export async function checkRelay(relay: DueRelay, context: CheckContext): Promise<RelayCheckResult> {
  const url = new URL(relay.url);
  const run: RelayCheckRun = {
    relay,
    context,
    url,
    host: bareHost(url),
    records: [],
    report: { url: relay.url, network: relay.network },
    now: () => context.now?.() ?? new Date(),
  };
  const { config } = context;
  const { records, report, now } = run;

  // DNS and screening of the addresses every later check connects to.
  const screened = await resolveAndScreen(run);
  if (!screened.ok) return screened.result;
  const { addresses } = screened;

  const nip11At = now();
  const wsAt = now();
  const [nip11, tls, ws] = await Promise.all([fetchRelayNip11(run), checkRelayTls(run, addresses), checkRelayWebSocket(run, addresses)]);
  recordNip11(records, report, nip11, nip11At);
  if (tls) recordTls(records, tls.outcome, tls.checkedAt);
  recordRoundTrips(records, report, ws, wsAt);
  if (context.geo && addresses.length > 0) recordGeo(records, report, context.geo, addresses, now);
  recordRequirements(records, report, nip11, ws, now);
  if (ws.open.ok && nip11.ok && claimProbeDue(relay, config, now()) && probeableClaims(nip11.document))
    await recordClaimProbes(run, addresses, nip11.document);

  return { records, report, up: ws.open.ok, reason: ws.open.reason };
}

/**
 * A clearnet relay's addresses: resolved (an IP literal is its own), screened by the outbound policy
 * unless the relay may use private addresses, and pinned for every later connection. A name that
 * does not resolve leaves the relay down; a private address leaves it refused, with nothing stored.
 */
async function resolveAndScreen(run: RelayCheckRun): Promise<{ ok: true; addresses: string[] } | { ok: false; result: RelayCheckResult }> {
  const { relay, context, host } = run;
  if (relay.network !== 'clearnet') return { ok: true, addresses: [] };
  const resolved = isIP(host) ? { ok: true as const, addresses: [host] } : await resolveHost(run);
  if (!resolved.ok) return resolved;
  const { addresses } = resolved;
  if (!mayUsePrivate(relay, context.config)) {
    // The outbound policy (src/relay/address-policy.ts): local names and non-public addresses.
    const refused = isLocalName(host) ? host : addresses.find((address) => !isPublicAddress(address));
    if (refused) {
      const why = refused === host ? ' is a local name or address' : ` resolves to ${refused}`;
      return { ok: false, result: { records: [], report: run.report, up: false, refused: `private-address: ${host}${why}` } };
    }
  }
  context.http.pin(run.url.hostname, addresses);
  return { ok: true, addresses };
}

/** The `dns` check; a name that does not resolve is recorded, with the relay down. */
async function resolveHost(run: RelayCheckRun): Promise<{ ok: true; addresses: string[] } | { ok: false; result: RelayCheckResult }> {
  const { records } = run;
  const checkedAt = run.now();
  const dns = await checkDns(run.host, run.context.resolver);
  if (!dns.ok) {
    records.push({ type: 'dns', checkedAt, ok: false, rttMs: dns.rttMs, reason: dns.reason });
    const reason = `dns: ${dns.reason}`;
    records.push({ type: 'open', checkedAt: run.now(), ok: false, reason });
    return { ok: false, result: { records, report: run.report, up: false, reason } };
  }
  records.push({
    type: 'dns',
    checkedAt,
    ok: true,
    rttMs: dns.rttMs,
    document: { a: dns.a, aaaa: dns.aaaa },
    detail: { ttl_a: dns.ttlA, ttl_aaaa: dns.ttlAaaa },
  });
  return { ok: true, addresses: [...dns.a, ...dns.aaaa] };
}

function fetchRelayNip11(run: RelayCheckRun): Promise<Nip11Outcome> {
  const { relay, context } = run;
  const { config } = context;
  // A redirect may lead elsewhere: only the relay's own host inherits the operator's trust. Every other
  // target is screened by the same policy (single-label names such as `db` or `metadata` included)
  // and pinned to the addresses screened; a refused one is never contacted, and its reason says only
  // that it was refused (no connection error can serve as a port scanner).
  const screenRedirect = async (target: URL): Promise<string | undefined> => {
    const targetHost = bareHost(target);
    const trusted = config.relay_url.allow_private || (targetHost === run.host && mayUsePrivate(relay, config));
    const screened = await screenHost(targetHost, { trusted, resolver: context.resolver });
    if (!screened.ok) return screened.refusal ? `${screened.refusal} (redirect targets must be public hosts)` : screened.detail;
    if (screened.addresses.length > 0) context.http.pin(target.hostname, screened.addresses);
    return undefined;
  };
  return fetchNip11(relay.url, {
    http: context.http,
    timeoutMs: config.monitor.nip11_timeout_ms,
    maxRedirects: config.monitor.nip11_max_redirects,
    maxBytes: config.limits.nip11_max_bytes,
    userAgent: config.monitor.user_agent,
    screenRedirect,
  });
}

/** The `ssl` check, for wss relays on clearnet only. */
async function checkRelayTls(run: RelayCheckRun, addresses: string[]): Promise<{ outcome: TlsOutcome; checkedAt: Date } | undefined> {
  if (run.url.protocol !== 'wss:' || run.relay.network !== 'clearnet') return undefined;
  const outcome = await checkTls({
    host: run.host,
    port: Number(run.url.port) || 443,
    address: addresses[0],
    timeoutMs: run.context.config.monitor.tls_timeout_ms,
    ca: run.context.ca,
    now: () => run.now().getTime(),
  });
  return { outcome, checkedAt: run.now() };
}

function checkRelayWebSocket(run: RelayCheckRun, addresses: string[]): Promise<WebSocketOutcome> {
  const { relay, context } = run;
  const { config } = context;
  const monitor = config.monitor;
  const secretKey = config.identity.secret_key;
  return checkWebSocket({
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
  });
}

/** The `claims` check: probes of what the NIP-11 document claims, recorded as found or as why they failed. */
async function recordClaimProbes(run: RelayCheckRun, addresses: string[], document: Nip11Document): Promise<void> {
  const { relay, context } = run;
  const { config } = context;
  const monitor = config.monitor;
  const secretKey = config.identity.secret_key;
  const checkedAt = run.now();
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
      document,
      ...(monitor.write_check && monitor.claim_probe_writes ? { writeKey: secretKey ?? context.writeKey } : {}),
    });
    run.records.push({ type: 'claims', checkedAt, ok: true, rttMs: Math.round(performance.now() - started), detail: { findings } });
  } catch (error) {
    run.records.push({
      type: 'claims',
      checkedAt,
      ok: false,
      reason: error instanceof Error ? error.message.slice(0, 300) : 'probe failed',
    });
  } finally {
    clearTimeout(deadlineTimer);
  }
}

function claimProbeDue(relay: DueRelay, config: Config, now: Date): boolean {
  if (!config.monitor.claim_probes) return false;
  if (relay.claims_checked_at == null) return true;
  return now.getTime() - new Date(relay.claims_checked_at).getTime() >= config.monitor.claim_probe_interval_seconds * 1000;
}
