/**
 * The integer schemas shared by the config file (src/config/schema.ts) and the REST API's
 * parameters (src/api/params.ts), so that "a positive integer", "a port" or "an integer from 1 to
 * 500" is checked the same way, with the same message, wherever a number comes in. Each failed
 * check (not a number, not whole, out of range) gives the schema's one message: a person fixing a
 * value wants to read what is expected, not which check ran first.
 */
import { z } from 'zod';

/** A fixed message, or one built from the rejected value. */
export type NumberMessage = string | ((issue: { readonly input?: unknown }) => string);

/** `expected …, got "abc"`: config errors quote the value, so a typo in a file or env var is easy to find. */
export function quotingInput(expected: string): (issue: { readonly input?: unknown }) => string {
  return (issue) => `${expected}, got ${JSON.stringify(issue.input)}`;
}

/** An integer from `min` to `max` (both included). */
export function intInRange(min: number, max: number, message: NumberMessage) {
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

/** An integer above 0 (a count, a size, a duration); `what` is its unit, named in the message. */
export function positiveInt(what: string) {
  const error = quotingInput(`expected a positive integer (${what})`);
  return z.number({ error }).int({ error }).positive({ error });
}

/** An integer of 0 or more (0 usually switching something off); `what` is its unit, named in the message. */
export function nonNegativeInt(what: string) {
  const error = quotingInput(`expected a non-negative integer (${what})`);
  return z.number({ error }).int({ error }).nonnegative({ error });
}

/** A TCP port; 0 lets the system choose one. */
export function port() {
  return intInRange(0, 65_535, quotingInput('expected a TCP port (0-65535)'));
}

/**
 * A decimal integer from `min` to `max`, written as digits only: no sign, no exponent, no hex, octal
 * or binary prefix, not empty (`until=` is an error, not 0). For query strings, where every value
 * arrives as text: `z.coerce.number()` would take all of those (and '' as 0).
 */
export function decimalInteger(min: number, max: number, message: string) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : typeof value === 'number' ? value : Number.NaN),
    intInRange(min, max, message),
  );
}
