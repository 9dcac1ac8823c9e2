/**
 * One relay of a pass: checked (./check-relay.ts) unless the relay_url lists or screening refuse it,
 * its checks stored and counted, the synchronizer's circuit breaker fed, and, when publishing, the
 * announcement (if due) and the relay's kind 30166 report sent.
 */
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/database.js';
import { liftMonitorBench, storeRelayChecks, type DueRelay } from '../../db/relay-checks.js';
import { recordRelayFailure } from '../../db/relay-health.js';
import { relayLogger } from '../../observability/logger.js';
import { checkRelay, type RelayCheckResult } from './check-relay.js';
import { monitorMetrics } from './metrics.js';
import type { MonitorPass } from './pass.js';
import { refuseUntilNextInterval } from './state.js';

export async function monitorRelay(pass: MonitorPass, relay: DueRelay): Promise<void> {
  const result = await checkAndStore(pass, relay);
  if (!result || !pass.publishing) return;
  await pass.publishing.publishAnnouncementIfDue();
  await pass.publishing.publishReport(relay.id, result.report);
}

/** The relay's checks, stored; undefined when it was refused (a refusal stores nothing). */
async function checkAndStore(pass: MonitorPass, relay: DueRelay): Promise<RelayCheckResult | undefined> {
  const { db, config, summary } = pass;
  const log = relayLogger(pass.logger, relay.url);
  const refusal = pass.filter.refusal(relay.url);
  if (refusal) {
    refuseUntilNextInterval(pass.state, relay.id, pass.now(), config.monitor.interval_seconds);
    summary.skipped.push({ url: relay.url, reason: refusal });
    log.debug({ refusal }, 'relay not checked: excluded by relay_url lists');
    return undefined;
  }
  const result = await checkRelay(relay, pass.checks);
  if (result.refused) {
    // A policy refusal, not the relay's health: no check rows, no circuit breaker; asked again next interval.
    refuseUntilNextInterval(pass.state, relay.id, pass.now(), config.monitor.interval_seconds);
    summary.skipped.push({ url: relay.url, reason: result.refused });
    log.info({ refusal: result.refused }, 'relay not checked: refused by screening');
    return undefined;
  }
  await storeRelayChecks(db, relay.id, result.records);
  countChecks(result);
  if (config.monitor.feed_circuit_breaker) await feedCircuitBreaker(db, config, relay.id, result);
  summary.checked += 1;
  if (result.up) summary.up += 1;
  else summary.down += 1;
  summary.relays.push({ url: relay.url, up: result.up, reason: result.reason, checks: result.records.length });
  log.debug({ up: result.up, reason: result.reason, checks: result.records.length }, 'relay checked');
  return result;
}

function countChecks(result: RelayCheckResult): void {
  const metrics = monitorMetrics();
  for (const record of result.records) {
    metrics.checks.inc({ check: record.type, outcome: record.ok ? 'ok' : 'failed' });
    if (record.rttMs !== undefined) metrics.checkDuration.observe({ check: record.type }, record.rttMs / 1000);
  }
  metrics.relaysChecked.inc({ status: result.up ? 'up' : 'down' });
}

/** A relay that does not open is benched like after a failed sync; one that opens has a monitor bench lifted. */
async function feedCircuitBreaker(db: Database, config: Config, relayId: number, result: RelayCheckResult): Promise<void> {
  if (result.up) await liftMonitorBench(db, relayId);
  else
    await recordRelayFailure(db, relayId, `monitor: ${result.reason ?? 'does not open'}`, {
      baseSeconds: config.sync.failure_backoff_seconds,
      maxSeconds: config.sync.failure_backoff_max_seconds,
    });
}
