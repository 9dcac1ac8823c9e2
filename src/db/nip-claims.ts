/**
 * What a relay claims against what bigbrotr has seen it do. Claims come from its latest NIP-11
 * document (`supported_nips`, `limitation.max_limit`); evidence from the services' own observations:
 * the synchronizer's NIP-77 probe (`sync_cursor.negentropy`), its test of COUNT against REQ
 * (`relay_limits.count_trust`), the largest page it was served (`relay_limits.largest_page`), and the
 * monitor's AUTH challenge (`requirements` check) and its claim probes (`claims` check: NIP-50, 40, 9, 70
 * and the `limitation` fields, src/services/monitor/checks/claims.ts). A claim is `verified` or `refuted` only by such an
 * observation, with its evidence; otherwise `untested`. A working feature the relay does not claim
 * is listed too (claimed: false).
 */
import type { Queryable } from './database.js';

export type ClaimStatus = 'verified' | 'refuted' | 'untested';

/** NIPs whose support is observed (by the services' own use, or by the monitor's claim probes). */
type ObservedNip = '9' | '40' | '42' | '45' | '50' | '70' | '77';

export interface NipClaim {
  /** A NIP number, or a NIP-11 limitation (`limitation.max_limit`). */
  subject: string;
  claimed: boolean;
  status: ClaimStatus;
  evidence: string;
  /** When the evidence was observed (ISO time), if known. */
  observed_at: string | null;
}

/**
 * The NIPs whose support bigbrotr can observe, with the SQL that says a relay (alias `r`) was seen
 * doing it, or seen not to: one table for the relay list filter and the stats.
 */
/** The latest claim probe of relay `r` found `subject` with `status`. */
const probed = (subject: string, status: 'verified' | 'refuted') =>
  `EXISTS (SELECT 1 FROM relay_metadata_latest q WHERE q.relay_id = r.id AND q.check_type = 'claims' AND q.ok
    AND q.detail -> 'findings' @> '[{"subject": "${subject}", "status": "${status}"}]'::jsonb)`;

const OBSERVED: Record<ObservedNip, { verified: string; refuted: string }> = {
  '9': { verified: probed('9', 'verified'), refuted: probed('9', 'refuted') },
  '40': { verified: probed('40', 'verified'), refuted: probed('40', 'refuted') },
  '50': { verified: probed('50', 'verified'), refuted: probed('50', 'refuted') },
  '70': { verified: probed('70', 'verified'), refuted: probed('70', 'refuted') },
  '42': {
    verified: `EXISTS (SELECT 1 FROM relay_metadata_latest q WHERE q.relay_id = r.id
          AND q.check_type = 'requirements' AND (q.detail ->> 'challenged')::boolean)`,
    refuted: 'false',
  },
  '45': {
    verified: `EXISTS (SELECT 1 FROM relay_limits l WHERE l.relay_id = r.id AND l.count_trust = 'agrees')`,
    refuted: `EXISTS (SELECT 1 FROM relay_limits l WHERE l.relay_id = r.id AND l.count_trust IN ('disagrees', 'unanswered'))`,
  },
  '77': {
    verified: `EXISTS (SELECT 1 FROM sync_cursor c WHERE c.relay_id = r.id AND c.scope = 'all' AND c.negentropy = 'supported')`,
    refuted: `EXISTS (SELECT 1 FROM sync_cursor c WHERE c.relay_id = r.id AND c.scope = 'all' AND c.negentropy = 'unsupported')`,
  },
};

export const VERIFIABLE_NIPS: Record<number, string> = Object.fromEntries(
  Object.entries(OBSERVED).map(([nip, sql]) => [nip, sql.verified]),
);

/** What the archive observed of one relay, as read by relayClaims. */
export interface Observations {
  nips: unknown;
  max_limit: unknown;
  limitation: unknown;
  nip11_at: string | null;
  negentropy: 'supported' | 'unsupported' | null;
  negentropy_at: string | null;
  count_trust: 'agrees' | 'disagrees' | 'unanswered' | null;
  count_at: string | null;
  largest_page: number | null;
  limits_at: string | null;
  challenged: boolean | null;
  requirements_at: string | null;
  findings: unknown;
  probed_at: string | null;
}

const iso = (value: string | Date | null): string | null => (value === null ? null : new Date(value).toISOString());

export async function relayClaims(db: Queryable, relayId: number): Promise<NipClaim[]> {
  const { rows } = await db.query<Observations>(
    `SELECT n.data -> 'supported_nips' AS nips, n.data -> 'limitation' -> 'max_limit' AS max_limit,
            n.data -> 'limitation' AS limitation, n.checked_at AS nip11_at,
            c.negentropy, c.negentropy_checked_at AS negentropy_at,
            l.count_trust, l.count_checked_at AS count_at, l.largest_page, l.updated_at AS limits_at,
            (q.detail ->> 'challenged')::boolean AS challenged, q.checked_at AS requirements_at,
            p.detail -> 'findings' AS findings, p.checked_at AS probed_at
     FROM relay r
     LEFT JOIN relay_metadata_latest n ON n.relay_id = r.id AND n.check_type = 'nip11' AND n.ok
     LEFT JOIN sync_cursor c ON c.relay_id = r.id AND c.scope = 'all'
     LEFT JOIN relay_limits l ON l.relay_id = r.id
     LEFT JOIN relay_metadata_latest q ON q.relay_id = r.id AND q.check_type = 'requirements'
     LEFT JOIN relay_metadata_latest p ON p.relay_id = r.id AND p.check_type = 'claims' AND p.ok
     WHERE r.id = $1`,
    [relayId],
  );
  const seen = rows[0];
  return seen ? claimsFromObservations(seen) : [];
}

type ClaimWithoutTime = Omit<NipClaim, 'observed_at'> & { at: string | Date | null };

/** What was observed of one relay, as claims: each NIP it claims, and each it was seen doing unclaimed. */
export function claimsFromObservations(seen: Observations): NipClaim[] {
  const claimedNips = new Set(Array.isArray(seen.nips) ? seen.nips.filter((nip): nip is number => typeof nip === 'number') : []);
  const found: ClaimWithoutTime[] = [
    negentropyClaim(seen, claimedNips),
    countClaim(seen, claimedNips),
    authClaim(seen, claimedNips),
    ...maxLimitClaim(seen),
    ...probedClaims(seen, claimedNips),
  ];
  return found
    .filter((claim) => claim.claimed || claim.status === 'verified')
    .map(({ at, ...claim }) => ({ ...claim, observed_at: iso(at) }));
}

function negentropyClaim(seen: Observations, claimedNips: Set<number>): ClaimWithoutTime {
  const neg = seen.negentropy;
  return {
    subject: '77',
    claimed: claimedNips.has(77),
    status: neg === 'supported' ? 'verified' : neg === 'unsupported' ? 'refuted' : 'untested',
    evidence:
      neg === 'supported'
        ? 'answered our NEG-OPEN (NIP-77 reconciliation used by the synchronizer)'
        : neg === 'unsupported'
          ? 'did not answer NEG-OPEN with NEG-MSG (silence, NOTICE, NEG-ERR or CLOSED)'
          : 'not probed yet',
    at: neg === null ? null : seen.negentropy_at,
  };
}

const COUNT_EVIDENCE: Record<string, string> = {
  agrees: 'COUNT matched a window the synchronizer proved by REQ',
  disagrees: 'COUNT differed from what REQ served for the same window',
  unanswered: 'COUNT got no answer',
};

function countClaim(seen: Observations, claimedNips: Set<number>): ClaimWithoutTime {
  const count = seen.count_trust;
  return {
    subject: '45',
    claimed: claimedNips.has(45),
    status: count === 'agrees' ? 'verified' : count === null ? 'untested' : 'refuted',
    evidence: (count === null ? undefined : COUNT_EVIDENCE[count]) ?? 'COUNT not tested yet',
    at: count === null ? null : seen.count_at,
  };
}

function authClaim(seen: Observations, claimedNips: Set<number>): ClaimWithoutTime {
  return {
    subject: '42',
    claimed: claimedNips.has(42),
    status: seen.challenged ? 'verified' : 'untested',
    evidence: seen.challenged
      ? 'sent us an AUTH challenge (NIP-42)'
      : 'no AUTH challenge seen (a relay may only challenge when it needs to)',
    at: seen.challenged ? seen.requirements_at : null,
  };
}

function maxLimitClaim(seen: Observations): ClaimWithoutTime[] {
  const maxLimit =
    typeof seen.max_limit === 'number' && Number.isSafeInteger(seen.max_limit) && seen.max_limit > 0 ? seen.max_limit : undefined;
  if (maxLimit === undefined) return [];
  const page = seen.largest_page;
  const status: ClaimStatus = page === null ? 'untested' : page > maxLimit ? 'refuted' : page === maxLimit ? 'verified' : 'untested';
  const evidence =
    page === null
      ? 'no REQ page observed yet (NIP-77 relays are read by ids)'
      : page > maxLimit
        ? `served ${page} events in one answer, above its max_limit of ${maxLimit}`
        : page === maxLimit
          ? `answers were capped at exactly ${maxLimit}`
          : `largest answer so far ${page} events, below the cap`;
  return [{ subject: 'limitation.max_limit', claimed: true, status, evidence, at: page === null ? null : seen.limits_at }];
}

/** The monitor probes what the relay claimed then; whether it still claims it is read from its latest NIP-11. */
function probedClaims(seen: Observations, claimedNips: Set<number>): ClaimWithoutTime[] {
  const findings = Array.isArray(seen.findings) ? (seen.findings as unknown[]) : [];
  const limitation = typeof seen.limitation === 'object' && seen.limitation !== null ? (seen.limitation as Record<string, unknown>) : {};
  const claims: ClaimWithoutTime[] = [];
  for (const finding of findings) {
    if (typeof finding !== 'object' || finding === null) continue;
    const { subject, status, evidence } = finding as Record<string, unknown>;
    if (typeof subject !== 'string' || typeof evidence !== 'string') continue;
    if (status !== 'verified' && status !== 'refuted' && status !== 'untested') continue;
    const limitationField = subject.startsWith('limitation.') ? subject.slice('limitation.'.length) : undefined;
    const claimedNow =
      limitationField === undefined
        ? claimedNips.has(Number(subject))
        : limitation[limitationField] !== undefined && limitation[limitationField] !== false;
    claims.push({ subject, claimed: claimedNow, status, evidence, at: seen.probed_at });
  }
  return claims;
}

/** Per checkable NIP: relays claiming it, and of those, how many were seen doing it and how many seen not to. */
export type ClaimCounts = Record<ObservedNip, { claimed: number; verified: number; refuted: number }>;

export async function claimCounts(db: Queryable): Promise<ClaimCounts> {
  const nips = Object.keys(OBSERVED) as (keyof ClaimCounts)[];
  const columns = nips.flatMap((nip) => {
    const claimed = `n.data -> 'supported_nips' @> '${nip}'`;
    return [
      `count(*) FILTER (WHERE ${claimed}) AS c${nip}`,
      `count(*) FILTER (WHERE ${claimed} AND ${OBSERVED[nip].verified}) AS v${nip}`,
      `count(*) FILTER (WHERE ${claimed} AND ${OBSERVED[nip].refuted}) AS r${nip}`,
    ];
  });
  const { rows } = await db.query<Record<string, string>>(
    `SELECT ${columns.join(', ')}
     FROM relay r LEFT JOIN relay_metadata_latest n ON n.relay_id = r.id AND n.check_type = 'nip11' AND n.ok
     WHERE r.state <> 'retired'`,
  );
  const row = rows[0] ?? {};
  const at = (key: string) => Number(row[key] ?? 0);
  return Object.fromEntries(
    nips.map((nip) => [nip, { claimed: at(`c${nip}`), verified: at(`v${nip}`), refuted: at(`r${nip}`) }]),
  ) as ClaimCounts;
}
