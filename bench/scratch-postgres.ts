/**
 * A throwaway database on the benchmark's PostgreSQL server (`BIGBROTR_DATABASE_URL`, default the
 * local one): created, handed to `fn` as a URL, dropped afterwards (unless `keep`).
 */
import pg from 'pg';

export const POSTGRES_SERVER = process.env.BIGBROTR_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function withScratchPostgres<T>(
  prefix: string,
  fn: (url: string) => Promise<T>,
  options: { keep?: boolean; onKept?: (name: string) => void } = {},
): Promise<T> {
  const name = `${prefix}_${process.pid}`;
  const admin = new pg.Client({ connectionString: POSTGRES_SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(POSTGRES_SERVER);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    if (options.keep) options.onKept?.(name);
    else await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}
