/**
 * The monitor's `geo` check: where a relay's IP address is (country, city, coordinates, geohash)
 * and who routes it (ASN), from MaxMind-format databases (GeoLite2-City / GeoLite2-ASN or
 * compatible). Each file is read into memory once; nothing is watched, so no handle stays open.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Reader } from 'maxmind';
import { encodeGeohash, MAX_GEOHASH_PRECISION } from '../../../nostr/geohash.js';
import { errorMessage } from '../../../error-message.js';

export interface GeoDatabasesConfig {
  city_database?: string;
  asn_database?: string;
  geohash_precision: number;
}

export interface GeoResult {
  /** The address as given to `lookup`. */
  ip: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  country_name?: string;
  city?: string;
  /** Two-letter continent code (EU, NA, …). */
  continent?: string;
  latitude?: number;
  longitude?: number;
  accuracy_radius_km?: number;
  geohash?: string;
  asn?: number;
  as_org?: string;
  /** The database network holding the address, as CIDR (the ASN database's when it matched). */
  network?: string;
}

export interface GeoLookup {
  /** Undefined when no database knows the address (or it is not an IP address). */
  lookup(ip: string): GeoResult | undefined;
  /** Drops the in-memory databases; `lookup` throws afterwards. */
  close(): void;
}

type DatabaseField = 'monitor.geoip_city_database' | 'monitor.geoip_asn_database';
type MmdbRecord = Record<string, unknown>;
type GeoFields = Omit<GeoResult, 'ip' | 'network' | 'asn' | 'as_org'>;
type AsnFields = Pick<GeoResult, 'asn' | 'as_org'>;

/** Reads the configured databases. Undefined when neither path is set. */
export async function openGeoDatabases(config: GeoDatabasesConfig): Promise<GeoLookup | undefined> {
  const precision = config.geohash_precision;
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_GEOHASH_PRECISION) {
    throw new Error(`monitor.geohash_precision must be an integer in [1, ${MAX_GEOHASH_PRECISION}], got ${String(precision)}`);
  }
  if (!config.city_database && !config.asn_database) return undefined;

  let city = config.city_database ? await loadDatabase('monitor.geoip_city_database', config.city_database) : undefined;
  let asn: Reader<MmdbRecord> | undefined;
  if (config.asn_database) {
    asn =
      city && config.asn_database === config.city_database ? city : await loadDatabase('monitor.geoip_asn_database', config.asn_database);
  }
  let closed = false;

  return {
    lookup(ip: string): GeoResult | undefined {
      if (closed) throw new Error('geo databases are closed');
      const address = lookupAddress(ip);
      if (address === undefined) return undefined;
      const cityMatch = city ? match(city, address) : undefined;
      const asnMatch = asn ? match(asn, address) : undefined;
      if (!cityMatch && !asnMatch) return undefined;

      // A file may carry both layouts, so each side falls back to the other database's record.
      const geo = {
        ...(asnMatch ? geoFields(asnMatch.record, precision) : {}),
        ...(cityMatch ? geoFields(cityMatch.record, precision) : {}),
      };
      const owner = { ...(cityMatch ? asnFields(cityMatch.record) : {}), ...(asnMatch ? asnFields(asnMatch.record) : {}) };
      return { ip, ...geo, ...owner, network: (asnMatch ?? cityMatch)?.network };
    },
    close(): void {
      closed = true;
      city = undefined;
      asn = undefined;
    },
  };
}

async function loadDatabase(field: DatabaseField, path: string): Promise<Reader<MmdbRecord>> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    throw new Error(`${field}: cannot read ${path}: ${errorMessage(error)}`, { cause: error });
  }
  let reader: Reader<MmdbRecord>;
  try {
    reader = new Reader<MmdbRecord>(buffer);
  } catch (error) {
    throw new Error(`${field}: ${path} is not a MaxMind database: ${errorMessage(error)}`, { cause: error });
  }
  const { metadata } = reader;
  const problem =
    metadata.binaryFormatMajorVersion !== 2
      ? `unsupported binary format version ${String(metadata.binaryFormatMajorVersion)}`
      : metadata.ipVersion !== 4 && metadata.ipVersion !== 6
        ? `unsupported ip_version ${String(metadata.ipVersion)}`
        : !Number.isInteger(metadata.nodeCount) || metadata.nodeCount < 1 || metadata.searchTreeSize + 16 > buffer.length
          ? 'search tree does not fit the file'
          : undefined;
  if (problem) throw new Error(`${field}: ${path} is not a MaxMind database: ${problem}`);
  return reader;
}

interface Address {
  /** What the reader is asked for: IPv4-mapped IPv6 addresses are asked as IPv4. */
  query: string;
  bytes: number[];
}

function lookupAddress(ip: string): Address | undefined {
  const text = ip
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const version = isIP(text);
  if (version === 4) return { query: text, bytes: text.split('.').map((part) => Number.parseInt(part, 10)) };
  if (version !== 6) return undefined;
  const bytes = ipv6Bytes(text);
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) {
    const v4 = bytes.slice(12);
    return { query: v4.join('.'), bytes: v4 };
  }
  return { query: text, bytes };
}

/** 16 bytes of an address that passed `isIP(...) === 6` (so the syntax is known good). */
function ipv6Bytes(text: string): number[] {
  const groupsOf = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((piece) => {
          if (!piece.includes('.')) return [Number.parseInt(piece, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map((octet) => Number.parseInt(octet, 10));
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = text.split('::');
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

interface Match {
  record: MmdbRecord;
  network: string;
}

function match(reader: Reader<MmdbRecord>, address: Address): Match | undefined {
  const [record, prefix] = reader.getWithPrefixLength(address.query);
  const value = asObject(record);
  if (!value) return undefined;
  return { record: value, network: formatNetwork(address.bytes, prefix) };
}

function formatNetwork(bytes: number[], prefix: number): string {
  const masked = bytes.map((byte, index) => {
    const keep = Math.min(8, Math.max(0, prefix - index * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  if (masked.length === 4) return `${masked.join('.')}/${prefix}`;
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push((((masked[index] ?? 0) << 8) | (masked[index + 1] ?? 0)).toString(16));
  // The WHATWG URL host serializer produces the canonical compressed form (RFC 5952).
  const canonical = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  return `${canonical}/${prefix}`;
}

function geoFields(record: MmdbRecord, precision: number): GeoFields {
  const fields: GeoFields = {};
  const country = asObject(record.country);
  const location = asObject(record.location);
  fields.country = asString(country?.iso_code);
  fields.country_name = englishName(country);
  fields.city = englishName(asObject(record.city));
  fields.continent = asString(asObject(record.continent)?.code);
  const latitude = asNumber(location?.latitude);
  const longitude = asNumber(location?.longitude);
  if (latitude !== undefined && longitude !== undefined && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180) {
    fields.latitude = latitude;
    fields.longitude = longitude;
    fields.geohash = encodeGeohash(latitude, longitude, precision);
  }
  const radius = asNumber(location?.accuracy_radius);
  if (radius !== undefined && radius >= 0) fields.accuracy_radius_km = radius;
  return withoutUndefined(fields);
}

function asnFields(record: MmdbRecord): AsnFields {
  const number = asNumber(record.autonomous_system_number);
  return withoutUndefined({
    asn: number !== undefined && Number.isInteger(number) && number >= 0 ? number : undefined,
    as_org: asString(record.autonomous_system_organization),
  });
}

function englishName(record: MmdbRecord | undefined): string | undefined {
  return asString(asObject(record?.names)?.en);
}

function asObject(value: unknown): MmdbRecord | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as MmdbRecord) : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Keeps spreads from overwriting a value found in one database with a gap in the other. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
