/** Geohash encoding (https://en.wikipedia.org/wiki/Geohash) for relay locations. */
const BASE32 = '0123456789bcdefghjkmnpqrstuvwxyz';

/** Longest geohash we produce: 12 characters are 60 bits, a cell a few centimetres wide. */
export const MAX_GEOHASH_PRECISION = 12;

/**
 * Encodes a WGS84 coordinate as a geohash of `precision` characters.
 * Bits alternate between longitude (first) and latitude, each halving its current interval;
 * every five bits become one base32 character. Throws on a non-finite or out-of-range argument.
 */
export function encodeGeohash(latitude: number, longitude: number, precision = 9): string {
  if (typeof latitude !== 'number' || !Number.isFinite(latitude) || latitude < -90 || latitude > 90) {
    throw new Error(`latitude must be a finite number in [-90, 90], got ${String(latitude)}`);
  }
  if (typeof longitude !== 'number' || !Number.isFinite(longitude) || longitude < -180 || longitude > 180) {
    throw new Error(`longitude must be a finite number in [-180, 180], got ${String(longitude)}`);
  }
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_GEOHASH_PRECISION) {
    throw new Error(`precision must be an integer in [1, ${MAX_GEOHASH_PRECISION}], got ${String(precision)}`);
  }

  let latLow = -90;
  let latHigh = 90;
  let lonLow = -180;
  let lonHigh = 180;
  let useLongitude = true;
  let hash = '';
  for (let char = 0; char < precision; char++) {
    let index = 0;
    for (let bit = 0; bit < 5; bit++) {
      let upper: boolean;
      if (useLongitude) {
        const middle = (lonLow + lonHigh) / 2;
        upper = longitude >= middle;
        if (upper) lonLow = middle;
        else lonHigh = middle;
      } else {
        const middle = (latLow + latHigh) / 2;
        upper = latitude >= middle;
        if (upper) latLow = middle;
        else latHigh = middle;
      }
      index = (index << 1) | (upper ? 1 : 0);
      useLongitude = !useLongitude;
    }
    hash += BASE32.charAt(index);
  }
  return hash;
}
