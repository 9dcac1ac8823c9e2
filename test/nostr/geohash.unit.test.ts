import { describe, expect, it } from 'vitest';
import { encodeGeohash } from '../../src/nostr/geohash.js';

describe('encodeGeohash', () => {
  const vectors: [number, number, number, string][] = [
    [57.64911, 10.40744, 11, 'u4pruydqqvj'],
    [42.6, -5.6, 5, 'ezs42'],
    [52.52, 13.405, 6, 'u33dc0'],
    [0, 0, 5, 's0000'],
    [-25.382708, -49.265506, 12, '6gkzwgjzn820'],
  ];
  for (const [latitude, longitude, precision, expected] of vectors) {
    it(`encodes ${latitude},${longitude} at precision ${precision}`, () => {
      expect(encodeGeohash(latitude, longitude, precision)).toBe(expected);
    });
  }

  it('defaults to nine characters', () => {
    const hash = encodeGeohash(57.64911, 10.40744);
    expect(hash).toHaveLength(9);
    expect(hash).toBe('u4pruydqq');
  });

  it('keeps shorter hashes as prefixes of longer ones', () => {
    const full = encodeGeohash(-33.8688, 151.2093, 12);
    for (let precision = 1; precision <= 12; precision++) {
      expect(encodeGeohash(-33.8688, 151.2093, precision)).toBe(full.slice(0, precision));
    }
  });

  it('accepts the corners of the coordinate range', () => {
    expect(encodeGeohash(-90, -180, 12)).toBe('000000000000');
    expect(encodeGeohash(90, 180, 12)).toBe('zzzzzzzzzzzz');
    expect(encodeGeohash(90, -180, 1)).toBe('b');
    expect(encodeGeohash(-90, 180, 1)).toBe('p');
  });

  it('rejects bad latitudes', () => {
    for (const latitude of [90.0001, -90.0001, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => encodeGeohash(latitude, 0)).toThrow(/latitude/);
    }
  });

  it('rejects bad longitudes', () => {
    for (const longitude of [180.0001, -180.0001, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(() => encodeGeohash(0, longitude)).toThrow(/longitude/);
    }
  });

  it('rejects bad precisions', () => {
    for (const precision of [0, 13, 1.5, -1, Number.NaN]) {
      expect(() => encodeGeohash(0, 0, precision)).toThrow(/precision/);
    }
  });
});
