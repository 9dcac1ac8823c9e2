import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader } from 'maxmind';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGeohash } from '../../src/nostr/geohash.js';
import { openGeoDatabases, type GeoLookup } from '../../src/services/monitor/checks/geo.js';
import { mmdbUint16, mmdbUint32, writeMmdb, type MmdbEntry } from '../support/mmdb-writer.js';

const berlin = {
  continent: { code: 'EU', geoname_id: mmdbUint32(6255148), names: { en: 'Europe', de: 'Europa' } },
  country: { geoname_id: mmdbUint32(2921044), iso_code: 'DE', names: { en: 'Germany', de: 'Deutschland' } },
  city: { geoname_id: mmdbUint32(2950159), names: { en: 'Berlin', de: 'Berlin' } },
  location: { accuracy_radius: mmdbUint16(10), latitude: 52.52, longitude: 13.405, time_zone: 'Europe/Berlin' },
};
const exampleNet = { autonomous_system_number: mmdbUint32(64500), autonomous_system_organization: 'Example Net' };

describe('monitor geo check', () => {
  let dir: string;
  let cityPath: string;
  let asnPath: string;
  let combinedPath: string;
  const opened: GeoLookup[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bigbrotr-geo-'));
    const cityEntries: MmdbEntry[] = [
      { network: '127.0.0.0/8', data: berlin },
      { network: '::1/128', data: berlin },
    ];
    const asnEntries: MmdbEntry[] = [
      { network: '127.0.0.0/8', data: exampleNet },
      { network: '::1/128', data: exampleNet },
    ];
    cityPath = join(dir, 'city.mmdb');
    asnPath = join(dir, 'asn.mmdb');
    combinedPath = join(dir, 'combined.mmdb');
    writeFileSync(cityPath, writeMmdb(cityEntries, { databaseType: 'GeoLite2-City' }));
    writeFileSync(asnPath, writeMmdb(asnEntries, { databaseType: 'GeoLite2-ASN' }));
    writeFileSync(
      combinedPath,
      writeMmdb(
        [
          { network: '127.0.0.0/8', data: { ...berlin, ...exampleNet } },
          { network: '::1/128', data: { ...berlin, ...exampleNet } },
        ],
        { databaseType: 'Test-City-ASN' },
      ),
    );
    writeFileSync(join(dir, 'garbage.mmdb'), Buffer.from('this is not a maxmind database at all'));
  });

  afterAll(() => {
    for (const lookup of opened) lookup.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(config: Parameters<typeof openGeoDatabases>[0]): Promise<GeoLookup> {
    const lookup = await openGeoDatabases(config);
    if (!lookup) throw new Error('expected a lookup');
    opened.push(lookup);
    return lookup;
  }

  const expectedGeohash = encodeGeohash(52.52, 13.405, 9);
  const full = {
    country: 'DE',
    country_name: 'Germany',
    city: 'Berlin',
    continent: 'EU',
    latitude: 52.52,
    longitude: 13.405,
    accuracy_radius_km: 10,
    geohash: expectedGeohash,
    asn: 64500,
    as_org: 'Example Net',
  };

  it('derives the geohash from the location', () => {
    expect(expectedGeohash).toHaveLength(9);
    expect(expectedGeohash.startsWith('u33dc0')).toBe(true);
  });

  it('returns undefined when no database is configured', async () => {
    await expect(openGeoDatabases({ geohash_precision: 9 })).resolves.toBeUndefined();
    await expect(openGeoDatabases({ city_database: '', asn_database: '', geohash_precision: 9 })).resolves.toBeUndefined();
  });

  it('looks up IPv4 and IPv6 addresses in separate city and ASN databases', async () => {
    const geo = await open({ city_database: cityPath, asn_database: asnPath, geohash_precision: 9 });
    expect(geo.lookup('127.0.0.1')).toEqual({ ip: '127.0.0.1', ...full, network: '127.0.0.0/8' });
    expect(geo.lookup('127.200.3.4')).toMatchObject({ ip: '127.200.3.4', ...full });
    expect(geo.lookup('::1')).toEqual({ ip: '::1', ...full, network: '::1/128' });
    expect(geo.lookup('::ffff:127.0.0.1')).toMatchObject({ country: 'DE', asn: 64500 });
    expect(geo.lookup('8.8.8.8')).toBeUndefined();
    expect(geo.lookup('2001:db8::1')).toBeUndefined();
    expect(geo.lookup('not an address')).toBeUndefined();
  });

  it('uses the configured geohash precision', async () => {
    const geo = await open({ city_database: cityPath, geohash_precision: 5 });
    const result = geo.lookup('127.0.0.1');
    expect(result?.geohash).toBe(encodeGeohash(52.52, 13.405, 5));
    expect(result?.geohash).toBe('u33dc');
  });

  it('reports only what each database holds', async () => {
    const cityOnly = await open({ city_database: cityPath, geohash_precision: 9 });
    const cityResult = cityOnly.lookup('127.0.0.1');
    expect(cityResult).toMatchObject({ country: 'DE', city: 'Berlin', geohash: expectedGeohash });
    expect(cityResult).not.toHaveProperty('asn');
    expect(cityResult).not.toHaveProperty('as_org');

    const asnOnly = await open({ asn_database: asnPath, geohash_precision: 9 });
    expect(asnOnly.lookup('::1')).toEqual({ ip: '::1', asn: 64500, as_org: 'Example Net', network: '::1/128' });
    expect(asnOnly.lookup('8.8.8.8')).toBeUndefined();
  });

  it('reads both layouts from one file', async () => {
    for (const config of [
      { city_database: combinedPath, asn_database: combinedPath, geohash_precision: 9 },
      { city_database: combinedPath, geohash_precision: 9 },
      { asn_database: combinedPath, geohash_precision: 9 },
    ]) {
      const geo = await open(config);
      expect(geo.lookup('127.0.0.1')).toEqual({ ip: '127.0.0.1', ...full, network: '127.0.0.0/8' });
      expect(geo.lookup('::1')).toEqual({ ip: '::1', ...full, network: '::1/128' });
      expect(geo.lookup('8.8.8.8')).toBeUndefined();
    }
  });

  it('refuses lookups after close', async () => {
    const geo = await openGeoDatabases({ city_database: cityPath, geohash_precision: 9 });
    geo?.close();
    expect(() => geo?.lookup('127.0.0.1')).toThrow(/closed/);
  });

  it('names the field and path of a file that is not a MaxMind database', async () => {
    const garbage = join(dir, 'garbage.mmdb');
    await expect(openGeoDatabases({ city_database: garbage, geohash_precision: 9 })).rejects.toThrow(
      new RegExp(`monitor\\.geoip_city_database.*${escape(garbage)}`),
    );
    await expect(openGeoDatabases({ asn_database: garbage, geohash_precision: 9 })).rejects.toThrow(
      new RegExp(`monitor\\.geoip_asn_database.*${escape(garbage)}`),
    );
  });

  it('names the field and path of a missing file', async () => {
    const missing = join(dir, 'missing.mmdb');
    await expect(openGeoDatabases({ city_database: cityPath, asn_database: missing, geohash_precision: 9 })).rejects.toThrow(
      new RegExp(`monitor\\.geoip_asn_database.*${escape(missing)}`),
    );
    await expect(openGeoDatabases({ city_database: missing, geohash_precision: 9 })).rejects.toThrow(
      new RegExp(`monitor\\.geoip_city_database.*${escape(missing)}`),
    );
  });

  it('rejects an out-of-range geohash precision', async () => {
    await expect(openGeoDatabases({ city_database: cityPath, geohash_precision: 0 })).rejects.toThrow(/monitor\.geohash_precision/);
  });
});

describe('test mmdb writer', () => {
  it('writes a database the maxmind reader accepts', () => {
    const long = 'x'.repeat(70_000);
    const data = {
      short: 'é',
      s29: 'a'.repeat(29),
      s300: 'b'.repeat(300),
      long,
      double: 1.5,
      small: 7,
      wide: 2 ** 40,
      yes: true,
      no: false,
      list: [1, 'two', [3], { four: 4 }],
    };
    const reader = new Reader<Record<string, unknown>>(
      writeMmdb(
        [
          { network: '10.0.0.0/8', data },
          { network: '10.1.0.0/16', data: { narrower: true } },
          { network: '2001:db8::/32', data: { documentation: true } },
        ],
        { databaseType: 'Writer-Test', buildEpoch: 1_700_000_000 },
      ),
    );
    expect(reader.metadata).toMatchObject({
      binaryFormatMajorVersion: 2,
      binaryFormatMinorVersion: 0,
      databaseType: 'Writer-Test',
      ipVersion: 6,
      recordSize: 24,
      languages: ['en'],
    });
    expect(reader.metadata.buildEpoch.getTime()).toBe(1_700_000_000_000);
    expect(reader.get('10.2.3.4')).toEqual({ ...data, wide: 2n ** 40n });
    expect(reader.get('10.1.2.3')).toEqual({ narrower: true });
    expect(reader.getWithPrefixLength('10.1.2.3')[1]).toBe(16);
    expect(reader.get('2001:db8:ffff::1')).toEqual({ documentation: true });
    expect(reader.get('11.0.0.1')).toBeNull();
    expect(() => writeMmdb([{ network: '10.0.0.1/8', data: {} }], { databaseType: 'x' })).toThrow(/host bits/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
