import { describe, expect, it } from 'vitest';
import { parseNip11 } from '../../src/nostr/nip11.js';

describe('parseNip11', () => {
  it('keeps a well-formed document', () => {
    const result = parseNip11(
      JSON.stringify({
        name: 'Relay',
        description: 'desc',
        pubkey: 'a'.repeat(64),
        supported_nips: [1, 11, 42],
        software: 'git+https://example/x',
        version: '1.0',
        limitation: { max_limit: 500, auth_required: false, max_subid_length: 64 },
        relay_countries: ['DE'],
        fees: { admission: [{ amount: 1, unit: 'sats' }] },
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.document).toMatchObject({
      name: 'Relay',
      supported_nips: [1, 11, 42],
      limitation: { max_limit: 500, auth_required: false, max_subid_length: 64 },
      relay_countries: ['DE'],
    });
    expect(result.dropped).toEqual([]);
    expect(result.unknown).toEqual({});
  });

  it('drops wrong types field by field, converts unambiguous ones, and keeps unknown fields', () => {
    const result = parseNip11({
      name: 42,
      description: { html: true },
      supported_nips: [1, '11', 'nip-42', 2.5, 50],
      limitation: { max_limit: '1000', auth_required: 'true', payment_required: 'maybe', max_subscriptions: null },
      relay_countries: 'US',
      language_tags: ['en', 3],
      fees: 'free',
      software_extra: 'kept',
      'x-custom': [1, 2],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.document.name).toBe('42');
    expect(result.document.description).toBeUndefined();
    expect(result.document.supported_nips).toEqual([1, 11, 50]);
    expect(result.document.limitation).toEqual({ max_limit: 1000, auth_required: true });
    expect(result.document.relay_countries).toEqual(['US']);
    expect(result.document.language_tags).toEqual(['en']);
    expect(result.document.fees).toBeUndefined();
    expect(result.unknown).toEqual({ software_extra: 'kept', 'x-custom': [1, 2] });
    const droppedFields = result.dropped.map((entry) => entry.field).sort();
    expect(droppedFields).toEqual(
      ['description', 'fees', 'language_tags[]', 'limitation.max_subscriptions', 'limitation.payment_required', 'supported_nips[]'].sort(),
    );
  });

  it('reports HTML, invalid JSON, non-objects and oversized input as errors, never throws', () => {
    expect(parseNip11('<!DOCTYPE html><html>502 Bad Gateway</html>')).toMatchObject({
      ok: false,
      reason: 'not-json',
      message: 'HTML instead of a JSON document',
    });
    expect(parseNip11('{"name": ')).toMatchObject({ ok: false, reason: 'not-json' });
    expect(parseNip11('[1,2]')).toMatchObject({ ok: false, reason: 'not-object' });
    expect(parseNip11('null')).toMatchObject({ ok: false, reason: 'not-object' });
    expect(parseNip11(JSON.stringify({ description: 'x'.repeat(300_000) }))).toMatchObject({ ok: false, reason: 'too-large' });
    expect(parseNip11(JSON.stringify({ description: 'x'.repeat(300_000) }), { maxBytes: 1_000_000 }).ok).toBe(true);
  });
});
