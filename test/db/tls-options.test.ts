import { describe, expect, it } from 'vitest';
import { databaseSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/open.js';
import { DatabaseError } from '../../src/db/errors.js';
import { serverUrl } from '../support/database.js';

const base = { ...databaseSchema.parse({}), connect_timeout_ms: 3_000 };

describe('PostgreSQL TLS options', () => {
  it('a missing CA file is a clear error naming the option, before any connection', async () => {
    const error = await openDatabase({
      ...base,
      url: 'postgres://u:pw-never-shown@127.0.0.1:5432/x',
      ssl_mode: 'verify-full',
      ssl_ca_file: '/nonexistent/ca.pem',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain('database.ssl_ca_file');
    expect((error as Error).message).toContain('/nonexistent/ca.pem');
    expect((error as Error).message).not.toContain('pw-never-shown');
  });

  it.runIf(serverUrl !== undefined)(
    'ssl_mode decides over the URL: disable connects, require fails clearly on a server without TLS',
    async () => {
      const url = new URL(serverUrl as string);
      url.searchParams.set('sslmode', 'require');
      const plain = await openDatabase({ ...base, url: url.toString(), ssl_mode: 'disable' });
      expect((await plain.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
      await plain.close();
      const supportsTls = await openDatabase({ ...base, url: serverUrl as string, ssl_mode: 'require' }).then(
        async (db) => {
          await db.close();
          return true;
        },
        (error: unknown) => {
          expect(error).toBeInstanceOf(DatabaseError);
          expect((error as Error).message).toMatch(/SSL|TLS/i);
          return false;
        },
      );
      expect(typeof supportsTls).toBe('boolean');
    },
  );
});
