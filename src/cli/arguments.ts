/** Command-line values shared by several commands, each refused with a UsageError naming its flag. */
import { UsageError } from './errors.js';

/** Unix seconds, or an ISO date. */
export function parseTime(value: string, flag: string): number {
  const asNumber = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(asNumber)) return asNumber;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new UsageError(`${flag}: expected unix seconds or an ISO date, got ${JSON.stringify(value)}`);
  return Math.floor(parsed / 1000);
}
