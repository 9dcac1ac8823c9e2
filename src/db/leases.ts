/**
 * Work sharing between processes through `service_lease`: a worker leases resources (relay ids, …) for
 * a service until an expiry; another worker skips them until the lease is released or expires. No
 * coordinator: a crashed worker's leases simply run out.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queryable } from './database.js';

/** A lease owner id unique to this process (host, pid, random suffix), readable in the lease table. */
export function processOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Leases up to `limit` of `candidates` that nobody else holds (or whose lease expired) and returns
 * them. Missing lease rows are created free first; then `FOR UPDATE SKIP LOCKED` hands each row to
 * one caller only, so concurrent callers on any number of machines get disjoint sets.
 */
export async function acquireLeases(
  db: Queryable,
  options: { service: string; owner: string; candidates: string[]; limit: number; ttlMs: number },
): Promise<string[]> {
  if (options.candidates.length === 0 || options.limit <= 0) return [];
  await db.query(
    `INSERT INTO service_lease (service, resource, owner, acquired_at, expires_at)
     SELECT $1, c.resource, '', now(), '-infinity' FROM unnest($2::text[]) AS c(resource)
     ON CONFLICT (service, resource) DO NOTHING`,
    [options.service, options.candidates],
  );
  const { rows } = await db.query<{ resource: string }>(
    `WITH free AS (
       SELECT service, resource FROM service_lease
       WHERE service = $1 AND resource = ANY($3::text[]) AND (expires_at <= now() OR owner = $2)
       ORDER BY expires_at, resource
       LIMIT $4
       FOR UPDATE SKIP LOCKED
     )
     UPDATE service_lease AS lease
     SET owner = $2, acquired_at = now(), expires_at = now() + make_interval(secs => $5::double precision / 1000)
     FROM free
     WHERE lease.service = free.service AND lease.resource = free.resource
     RETURNING lease.resource`,
    [options.service, options.owner, options.candidates, options.limit, options.ttlMs],
  );
  return rows.map((row) => row.resource);
}

/** Extends the caller's leases; returns the resources still held (a lost lease is not renewed). */
export async function renewLeases(
  db: Queryable,
  options: { service: string; owner: string; resources: string[]; ttlMs: number },
): Promise<string[]> {
  if (options.resources.length === 0) return [];
  const { rows } = await db.query<{ resource: string }>(
    `UPDATE service_lease SET expires_at = now() + make_interval(secs => $4::double precision / 1000)
     WHERE service = $1 AND owner = $2 AND resource = ANY($3::text[]) AND expires_at > now()
     RETURNING resource`,
    [options.service, options.owner, options.resources, options.ttlMs],
  );
  return rows.map((row) => row.resource);
}

export async function releaseLeases(db: Queryable, options: { service: string; owner: string; resources?: string[] }): Promise<number> {
  // Released rows stay, expired, so the next acquisition needs no insert.
  const { rowCount } = await db.query(
    `UPDATE service_lease SET owner = '', expires_at = '-infinity'
     WHERE service = $1 AND owner = $2 AND ($3::text[] IS NULL OR resource = ANY($3::text[]))`,
    [options.service, options.owner, options.resources ?? null],
  );
  return rowCount;
}
