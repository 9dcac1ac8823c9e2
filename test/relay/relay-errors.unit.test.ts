/**
 * The relay error catalogue (src/relay/errors.ts): how a refusal's text is read, and the names a
 * failure is counted and retried under. The texts are the ones real relays send (strfry's `ERROR: `
 * lead-in, nostream's and nestjs' sentences, khatru's empty-filter refusal, eventstore's SQL back ends).
 */
import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/db/errors.js';
import {
  errorType,
  interpretRefusal,
  isRetryableRelayError,
  MACHINE_READABLE_PREFIXES,
  RelayNetworkError,
  RelayPolicyError,
  RelayProtocolError,
  RelayRefusedError,
  RelayTimeoutError,
  RelayUnansweredError,
  refusalPrefix,
  stripErrorLead,
} from '../../src/relay/errors.js';

const URL = 'wss://relay.example.com';

describe('stripErrorLead', () => {
  it("removes strfry's `ERROR: ` before a machine-readable prefix", () => {
    expect(stripErrorLead('  ERROR: auth-required: log in first ')).toBe('auth-required: log in first');
  });

  it('keeps a plain `error:` that is itself the prefix', () => {
    expect(stripErrorLead('error: something broke')).toBe('error: something broke');
  });
});

describe('refusalPrefix', () => {
  it.each([
    ['rate-limited: slow down', 'rate-limited'],
    ['ERROR: rate-limited: slow down', 'rate-limited'],
    ['blocked: you are banned', 'blocked'],
    ['error: something broke', 'error'],
    ['invalid: limitation.max_filters 10', 'invalid'],
  ])('%j has the prefix %j', (message, prefix) => {
    expect(refusalPrefix(message)).toBe(prefix);
  });

  it.each(['too many kinds', 'Subscription rejected', ''])('%j has no prefix', (message) => {
    expect(refusalPrefix(message)).toBeUndefined();
  });
});

describe('interpretRefusal', () => {
  it('reads a rate limit from the prefix or from the words', () => {
    expect(interpretRefusal('rate-limited: slow down')).toEqual({ kind: 'rate-limited' });
    expect(interpretRefusal('you are sending events too fast')).toEqual({ kind: 'rate-limited' });
    expect(interpretRefusal('Too many requests')).toEqual({ kind: 'rate-limited' });
  });

  it('reads auth-required behind strfry’s lead-in', () => {
    expect(interpretRefusal('ERROR: auth-required: this relay needs NIP-42 authentication')).toEqual({ kind: 'auth-required' });
  });

  it('does not take a complaint about the subscription id or concurrency for a size limit', () => {
    expect(interpretRefusal('restricted: too many concurrent subscriptions')).toEqual({ kind: 'other' });
    expect(interpretRefusal('invalid: subscription id too long')).toEqual({ kind: 'other' });
  });

  it('reads a refusal of an empty filter as asking for a narrower one', () => {
    expect(interpretRefusal("blocked: can't handle empty filters")).toEqual({ kind: 'needs-narrower' });
    expect(interpretRefusal('filter must include a kind')).toEqual({ kind: 'needs-narrower' });
  });

  it('finds the list that was too large and the limit the relay named', () => {
    expect(interpretRefusal('invalid: must be less than or equal to 10 kinds at "[0].kinds"')).toEqual({
      kind: 'too-large',
      field: 'kinds',
      max: 10,
    });
    expect(interpretRefusal('error: too many authors (max 500)')).toEqual({ kind: 'too-large', field: 'authors', max: 500 });
    expect(interpretRefusal('invalid: limit must be <= 5000')).toEqual({ kind: 'too-large', field: 'limit', max: 5000 });
  });

  it('reads the number of filters before the word "limit" it contains', () => {
    expect(interpretRefusal('invalid: limitation.max_filters 10')).toEqual({ kind: 'too-large', field: 'filters', max: 10 });
  });

  it('names the field without a limit when the relay gives no usable number', () => {
    expect(interpretRefusal('too many kinds')).toEqual({ kind: 'too-large', field: 'kinds' });
    expect(interpretRefusal('invalid: at most 0 ids')).toEqual({ kind: 'too-large', field: 'ids' });
  });

  it('knows a size refusal that names no field', () => {
    expect(interpretRefusal('message too big')).toEqual({ kind: 'too-large' });
  });

  it('leaves any other text as other', () => {
    expect(interpretRefusal('invalid: bad filter json')).toEqual({ kind: 'other' });
    expect(interpretRefusal('blocked: you are banned')).toEqual({ kind: 'other' });
  });
});

describe('RelayRefusedError', () => {
  it('carries the prefix and the interpretation of the text it was refused with', () => {
    const error = new RelayRefusedError(URL, 'ERROR: rate-limited: slow down', 'notice');
    expect(error.prefix).toBe('rate-limited');
    expect(error.refusal).toEqual({ kind: 'rate-limited' });
    expect(error.message).toBe(`${URL}: request refused by the relay (NOTICE): ERROR: rate-limited: slow down`);
  });
});

describe('errorType', () => {
  it('names a refusal by its machine-readable prefix, and an invented one as other', () => {
    expect(errorType(new RelayRefusedError(URL, 'rate-limited: slow down'))).toBe('refused:rate-limited');
    expect(errorType(new RelayRefusedError(URL, 'ERROR: blocked: go away'))).toBe('refused:blocked');
    expect(errorType(new RelayRefusedError(URL, 'banana: no'))).toBe('refused:other');
    expect(errorType(new RelayRefusedError(URL, 'too many kinds'))).toBe('refused:other');
  });

  it('knows every listed prefix', () => {
    for (const prefix of MACHINE_READABLE_PREFIXES) expect(errorType(new RelayRefusedError(URL, `${prefix}: x`))).toBe(`refused:${prefix}`);
  });

  it('names a subclass by itself, not by its parent', () => {
    expect(errorType(new RelayUnansweredError(URL, 'REQ', 1_000))).toBe('timeout');
    expect(errorType(new RelayTimeoutError(URL, 'EOSE', 1_000))).toBe('timeout');
    expect(errorType(new RelayNetworkError(URL, 'connection reset'))).toBe('network');
    expect(errorType(new RelayProtocolError(URL, 'not JSON'))).toBe('protocol');
    expect(errorType(new RelayPolicyError(URL, 'private-address', '10.0.0.1'))).toBe('policy');
  });

  it('names failures that are not the relay’s', () => {
    expect(errorType(new DatabaseError('connection refused'))).toBe('database');
    expect(errorType(new Error('boom'))).toBe('other');
    expect(errorType('a string')).toBe('other');
  });
});

describe('isRetryableRelayError', () => {
  it('retries network errors and timeouts only', () => {
    expect(isRetryableRelayError(new RelayNetworkError(URL, 'connection reset'))).toBe(true);
    expect(isRetryableRelayError(new RelayTimeoutError(URL, 'EOSE', 1_000))).toBe(true);
    expect(isRetryableRelayError(new RelayUnansweredError(URL, 'REQ', 1_000))).toBe(true);
    expect(isRetryableRelayError(new RelayProtocolError(URL, 'not JSON'))).toBe(false);
    expect(isRetryableRelayError(new RelayRefusedError(URL, 'rate-limited: slow down'))).toBe(false);
    expect(isRetryableRelayError(new RelayPolicyError(URL, 'private-address', '10.0.0.1'))).toBe(false);
    expect(isRetryableRelayError(new DatabaseError('connection refused'))).toBe(false);
  });
});
