/**
 * The `dns` check: A and AAAA records of the relay host with their TTLs. The document (the sorted
 * addresses) is stable from check to check; the TTLs, which resolvers count down, go in the detail.
 */
import type { Resolver } from 'node:dns/promises';

export type DnsOutcome =
  { ok: true; rttMs: number; a: string[]; aaaa: string[]; ttlA?: number; ttlAaaa?: number } | { ok: false; rttMs: number; reason: string };

type Records = { address: string; ttl: number }[];

function settledRecords(result: PromiseSettledResult<Records>): Records {
  return result.status === 'fulfilled' ? result.value : [];
}

function errorCode(result: PromiseSettledResult<Records>): string | undefined {
  return result.status === 'rejected' ? ((result.reason as NodeJS.ErrnoException).code ?? (result.reason as Error).message) : undefined;
}

export async function checkDns(host: string, resolver: Pick<Resolver, 'resolve4' | 'resolve6'>): Promise<DnsOutcome> {
  const started = performance.now();
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host, { ttl: true }), resolver.resolve6(host, { ttl: true })]);
  const rttMs = performance.now() - started;
  const a = settledRecords(v4);
  const aaaa = settledRecords(v6);
  if (a.length === 0 && aaaa.length === 0) {
    const code = errorCode(v4) ?? errorCode(v6) ?? 'NODATA';
    return { ok: false, rttMs, reason: `${host} does not resolve (${code})` };
  }
  const minTtl = (records: Records) => (records.length ? Math.min(...records.map((record) => record.ttl)) : undefined);
  return {
    ok: true,
    rttMs,
    a: a.map((record) => record.address).sort(),
    aaaa: aaaa.map((record) => record.address).sort(),
    ttlA: minTtl(a),
    ttlAaaa: minTtl(aaaa),
  };
}
