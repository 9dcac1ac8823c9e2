/**
 * A small MaxMind DB (format 2.0) writer for tests, so GeoIP fixtures can be built in memory
 * instead of shipping binary databases. Format reference: https://maxmind.github.io/MaxMind-DB/
 *
 * Layout written: search tree (record size 24, IPv6 tree), 16 zero bytes, data section,
 * metadata marker, metadata map. IPv4 networks live under ::/96 (96 zero bits, then the IPv4
 * bits), which is where readers start when they look up an IPv4 address in an IPv6 tree.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface MmdbEntry {
  /** CIDR: "127.0.0.0/8", "2001:db8::/32", "::1/128". A bare address means a single host. */
  network: string;
  data: Record<string, unknown>;
}

export interface MmdbWriterOptions {
  databaseType: string;
  recordSize?: 24;
  languages?: string[];
  description?: Record<string, string>;
  /** Seconds since the Unix epoch; defaults to now. */
  buildEpoch?: number;
}

type ScalarKind = 'uint16' | 'uint32' | 'uint64' | 'int32' | 'double';

/** A value with an explicit MMDB type, for fields a real database stores as e.g. uint16. */
export class MmdbTypedValue {
  constructor(
    readonly kind: ScalarKind,
    readonly value: number | bigint,
  ) {}
}

export const mmdbUint16 = (value: number): MmdbTypedValue => new MmdbTypedValue('uint16', value);
export const mmdbUint32 = (value: number): MmdbTypedValue => new MmdbTypedValue('uint32', value);
export const mmdbUint64 = (value: number | bigint): MmdbTypedValue => new MmdbTypedValue('uint64', value);
export const mmdbInt32 = (value: number): MmdbTypedValue => new MmdbTypedValue('int32', value);
export const mmdbDouble = (value: number): MmdbTypedValue => new MmdbTypedValue('double', value);

const METADATA_MARKER = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com', 'latin1')]);
const DATA_SECTION_SEPARATOR = Buffer.alloc(16);

// Data section type numbers. Types above 7 are "extended": the control byte's type bits are 0
// and the following byte holds (type - 7).
const TYPE_UTF8 = 2;
const TYPE_DOUBLE = 3;
const TYPE_BYTES = 4;
const TYPE_UINT16 = 5;
const TYPE_UINT32 = 6;
const TYPE_MAP = 7;
const TYPE_INT32 = 8;
const TYPE_UINT64 = 9;
const TYPE_ARRAY = 11;
const TYPE_BOOLEAN = 14;

/** Control byte, extended type byte when needed, then the size continuation bytes. */
function encodeHeader(type: number, size: number): Buffer {
  if (!Number.isInteger(size) || size < 0) throw new Error(`mmdb: invalid size ${size}`);
  let sizeBits: number;
  let sizeBytes: number[];
  if (size < 29) {
    sizeBits = size;
    sizeBytes = [];
  } else if (size < 29 + 0x100) {
    sizeBits = 29;
    sizeBytes = [size - 29];
  } else if (size < 285 + 0x10000) {
    const rest = size - 285;
    sizeBits = 30;
    sizeBytes = [rest >> 8, rest & 0xff];
  } else if (size < 65_821 + 0x1000000) {
    const rest = size - 65_821;
    sizeBits = 31;
    sizeBytes = [(rest >> 16) & 0xff, (rest >> 8) & 0xff, rest & 0xff];
  } else {
    throw new Error(`mmdb: size ${size} is too large`);
  }
  const typeBytes = type <= 7 ? [(type << 5) | sizeBits] : [sizeBits, type - 7];
  return Buffer.from([...typeBytes, ...sizeBytes]);
}

/** Big-endian unsigned integer in as few bytes as needed (zero takes no bytes). */
function encodeUnsigned(type: number, value: bigint, maxBytes: number): Buffer {
  if (value < 0n || value >= 1n << BigInt(maxBytes * 8)) {
    throw new Error(`mmdb: ${value} does not fit in ${maxBytes * 8} unsigned bits`);
  }
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return Buffer.concat([encodeHeader(type, bytes.length), Buffer.from(bytes)]);
}

function encodeTyped(kind: ScalarKind, value: number | bigint): Buffer {
  switch (kind) {
    case 'uint16':
      return encodeUnsigned(TYPE_UINT16, toBigInt(value), 2);
    case 'uint32':
      return encodeUnsigned(TYPE_UINT32, toBigInt(value), 4);
    case 'uint64':
      return encodeUnsigned(TYPE_UINT64, toBigInt(value), 8);
    case 'int32': {
      const number = Number(value);
      if (!Number.isInteger(number) || number < -0x80000000 || number > 0x7fffffff) {
        throw new Error(`mmdb: ${number} is not a 32-bit signed integer`);
      }
      const payload = Buffer.alloc(4);
      payload.writeInt32BE(number);
      return Buffer.concat([encodeHeader(TYPE_INT32, 4), payload]);
    }
    case 'double': {
      const payload = Buffer.alloc(8);
      payload.writeDoubleBE(Number(value));
      return Buffer.concat([encodeHeader(TYPE_DOUBLE, 8), payload]);
    }
  }
}

function toBigInt(value: number | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new Error(`mmdb: ${value} is not an integer`);
  return BigInt(value);
}

function encodeString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([encodeHeader(TYPE_UTF8, bytes.length), bytes]);
}

/**
 * Encodes one data-section value. Plain numbers pick a type by shape: non-negative integers are
 * uint32 when they fit and uint64 otherwise, negative integers int32, everything else a double.
 * Wrap a value with mmdbUint16() etc. to force a type.
 */
export function encodeMmdbValue(value: unknown): Buffer {
  if (value instanceof MmdbTypedValue) return encodeTyped(value.kind, value.value);
  if (typeof value === 'string') return encodeString(value);
  if (typeof value === 'boolean') return encodeHeader(TYPE_BOOLEAN, value ? 1 : 0);
  if (typeof value === 'bigint') return encodeTyped('uint64', value);
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return encodeTyped(value <= 0xffffffff ? 'uint32' : 'uint64', value);
    if (Number.isInteger(value) && value >= -0x80000000 && value < 0) return encodeTyped('int32', value);
    return encodeTyped('double', value);
  }
  if (value instanceof Uint8Array) {
    return Buffer.concat([encodeHeader(TYPE_BYTES, value.length), Buffer.from(value)]);
  }
  if (Array.isArray(value)) {
    return Buffer.concat([encodeHeader(TYPE_ARRAY, value.length), ...value.map((item) => encodeMmdbValue(item))]);
  }
  if (value !== null && typeof value === 'object') {
    const pairs = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    const parts = [encodeHeader(TYPE_MAP, pairs.length)];
    for (const [key, item] of pairs) parts.push(encodeString(key), encodeMmdbValue(item));
    return Buffer.concat(parts);
  }
  throw new Error(`mmdb: cannot encode ${value === null ? 'null' : typeof value}`);
}

function parseIpv4(text: string): number[] {
  return text.split('.').map((part) => Number.parseInt(part, 10));
}

/** 16 bytes of an IPv6 address; `text` must already have passed net.isIPv6. */
function parseIpv6(text: string): number[] {
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = parseIpv4(piece);
        groups.push((a << 8) | b, (c << 8) | d);
      } else {
        groups.push(Number.parseInt(piece, 16));
      }
    }
    return groups;
  };
  const halves = text.split('::');
  const head = toGroups(halves[0] ?? '');
  const tail = halves.length > 1 ? toGroups(halves[1] ?? '') : [];
  const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

interface ParsedNetwork {
  bytes: number[];
  /** Prefix length within the 128-bit tree. */
  prefix: number;
}

function parseNetwork(network: string): ParsedNetwork {
  const [address = '', prefixText, ...extra] = network.trim().split('/');
  if (extra.length > 0) throw new Error(`mmdb: invalid network ${JSON.stringify(network)}`);
  let bytes: number[];
  let offset: number;
  let width: number;
  if (isIPv4(address)) {
    bytes = [...new Array<number>(12).fill(0), ...parseIpv4(address)];
    offset = 96;
    width = 32;
  } else if (isIPv6(address) && !address.includes('%')) {
    bytes = parseIpv6(address);
    offset = 0;
    width = 128;
  } else {
    throw new Error(`mmdb: invalid network address ${JSON.stringify(network)}`);
  }
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(width)) || prefix < 1 || prefix > width) {
    throw new Error(`mmdb: invalid prefix length in ${JSON.stringify(network)}`);
  }
  const total = offset + prefix;
  for (let bit = total; bit < 128; bit++) {
    if (bitAt(bytes, bit) !== 0) throw new Error(`mmdb: ${network} has host bits set`);
  }
  return { bytes, prefix: total };
}

function bitAt(bytes: number[], index: number): 0 | 1 {
  return (((bytes[index >> 3] ?? 0) >> (7 - (index & 7))) & 1) as 0 | 1;
}

interface TreeNode {
  children: [TreeRecord, TreeRecord];
}
interface DataLeaf {
  dataOffset: number;
}
type TreeRecord = TreeNode | DataLeaf | null;

const isNode = (record: TreeRecord): record is TreeNode => record !== null && 'children' in record;

/** Builds a complete MMDB file holding `entries`. More specific networks win over wider ones. */
export function writeMmdb(entries: MmdbEntry[], options: MmdbWriterOptions): Buffer {
  const recordSize = options.recordSize ?? 24;
  if (recordSize !== 24) throw new Error('mmdb: only record size 24 is supported');

  // Data section: each distinct encoded record is stored once.
  const dataParts: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataLength = 0;
  const parsed = entries.map((entry) => {
    const encoded = encodeMmdbValue(entry.data);
    const key = encoded.toString('base64');
    let dataOffset = offsets.get(key);
    if (dataOffset === undefined) {
      dataOffset = dataLength;
      offsets.set(key, dataOffset);
      dataParts.push(encoded);
      dataLength += encoded.length;
    }
    return { ...parseNetwork(entry.network), leaf: { dataOffset } satisfies DataLeaf };
  });

  // Search tree: insert wider networks first so narrower ones split them (stable sort keeps
  // the later of two identical networks on top).
  const root: TreeNode = { children: [null, null] };
  for (const { bytes, prefix, leaf } of parsed.sort((a, b) => a.prefix - b.prefix)) {
    let node = root;
    for (let depth = 0; depth < prefix - 1; depth++) {
      const bit = bitAt(bytes, depth);
      const child = node.children[bit];
      if (isNode(child)) {
        node = child;
      } else {
        const split: TreeNode = { children: [child, child] };
        node.children[bit] = split;
        node = split;
      }
    }
    node.children[bitAt(bytes, prefix - 1)] = leaf;
  }

  // Number nodes breadth-first; the root must be node 0.
  const nodes: TreeNode[] = [root];
  const numbers = new Map<TreeNode, number>([[root, 0]]);
  for (let index = 0; index < nodes.length; index++) {
    for (const child of nodes[index]!.children) {
      if (isNode(child) && !numbers.has(child)) {
        numbers.set(child, nodes.length);
        nodes.push(child);
      }
    }
  }
  const nodeCount = nodes.length;
  if (nodeCount + DATA_SECTION_SEPARATOR.length + dataLength >= 2 ** 24) {
    throw new Error('mmdb: database too large for 24-bit records');
  }
  const recordValue = (record: TreeRecord): number => {
    if (record === null) return nodeCount;
    if (isNode(record)) return numbers.get(record)!;
    return nodeCount + DATA_SECTION_SEPARATOR.length + record.dataOffset;
  };
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((node, index) => {
    tree.writeUIntBE(recordValue(node.children[0]), index * 6, 3);
    tree.writeUIntBE(recordValue(node.children[1]), index * 6 + 3, 3);
  });

  const metadata = encodeMmdbValue({
    node_count: mmdbUint32(nodeCount),
    record_size: mmdbUint16(recordSize),
    ip_version: mmdbUint16(6),
    database_type: options.databaseType,
    languages: options.languages ?? ['en'],
    binary_format_major_version: mmdbUint16(2),
    binary_format_minor_version: mmdbUint16(0),
    build_epoch: mmdbUint64(options.buildEpoch ?? Math.floor(Date.now() / 1000)),
    description: options.description ?? { en: `${options.databaseType} test database` },
  });

  return Buffer.concat([tree, DATA_SECTION_SEPARATOR, ...dataParts, METADATA_MARKER, metadata]);
}
