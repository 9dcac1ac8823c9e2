/** What a relay claims against what was seen of it: the claims built from one relay's observations. */
import { describe, expect, it } from 'vitest';
import { claimsFromObservations, type Observations } from '../../src/db/nip-claims.js';

const AT = '2026-12-01T10:00:00.000Z';

function observations(overrides: Partial<Observations> = {}): Observations {
  return {
    nips: [],
    max_limit: null,
    limitation: null,
    nip11_at: AT,
    negentropy: null,
    negentropy_at: null,
    count_trust: null,
    count_at: null,
    largest_page: null,
    limits_at: null,
    challenged: null,
    requirements_at: null,
    findings: null,
    probed_at: null,
    ...overrides,
  };
}

const bySubject = (claims: ReturnType<typeof claimsFromObservations>) => Object.fromEntries(claims.map((claim) => [claim.subject, claim]));

describe('claimsFromObservations', () => {
  it('lists nothing for a relay that claims nothing and was seen doing nothing', () => {
    expect(claimsFromObservations(observations())).toEqual([]);
  });

  it('marks claims verified, refuted or untested from what the synchronizer and monitor saw', () => {
    const claims = bySubject(
      claimsFromObservations(
        observations({
          nips: [42, 45, 77, 50, 'eleven'],
          max_limit: 500,
          limitation: { auth_required: false, payment_required: true },
          negentropy: 'unsupported',
          negentropy_at: AT,
          count_trust: 'disagrees',
          count_at: AT,
          largest_page: 500,
          limits_at: AT,
          findings: [
            { subject: '50', status: 'refuted', evidence: 'search ignored' },
            { subject: 'limitation.auth_required', status: 'refuted', evidence: 'served without AUTH' },
            { subject: 'limitation.payment_required', status: 'untested', evidence: 'not probed' },
            { subject: 9, status: 'verified', evidence: 'malformed subject' },
            { subject: '1', status: 'maybe', evidence: 'malformed status' },
          ],
          probed_at: AT,
        }),
      ),
    );
    expect(Object.keys(claims).sort()).toEqual(['42', '45', '50', '77', 'limitation.max_limit', 'limitation.payment_required']);
    expect(claims['77']).toMatchObject({ claimed: true, status: 'refuted', observed_at: AT });
    expect(claims['45']).toMatchObject({
      claimed: true,
      status: 'refuted',
      evidence: 'COUNT differed from what REQ served for the same window',
    });
    expect(claims['42']).toMatchObject({ claimed: true, status: 'untested', observed_at: null });
    expect(claims['limitation.max_limit']).toMatchObject({ status: 'verified', evidence: 'answers were capped at exactly 500' });
    expect(claims['50']).toMatchObject({ claimed: true, status: 'refuted', evidence: 'search ignored', observed_at: AT });
    expect(claims['limitation.payment_required']).toMatchObject({ claimed: true, status: 'untested' });
  });

  it('lists what was seen working even when not claimed, and nothing refuted that was not claimed', () => {
    const claims = bySubject(
      claimsFromObservations(
        observations({ negentropy: 'supported', negentropy_at: AT, challenged: true, requirements_at: AT, count_trust: 'unanswered' }),
      ),
    );
    expect(Object.keys(claims).sort()).toEqual(['42', '77']);
    expect(claims['77']).toMatchObject({ claimed: false, status: 'verified' });
    expect(claims['42']).toMatchObject({ claimed: false, status: 'verified', observed_at: AT });
  });

  it('refutes a max_limit when a page exceeded it, and waits when no page was seen', () => {
    expect(
      bySubject(claimsFromObservations(observations({ max_limit: 100, largest_page: 250, limits_at: AT })))['limitation.max_limit'],
    ).toMatchObject({
      status: 'refuted',
      evidence: 'served 250 events in one answer, above its max_limit of 100',
    });
    expect(bySubject(claimsFromObservations(observations({ max_limit: 100 })))['limitation.max_limit']).toMatchObject({
      status: 'untested',
      observed_at: null,
    });
  });
});
