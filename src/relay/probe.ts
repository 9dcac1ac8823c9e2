/**
 * Does this URL answer like a Nostr relay? Opens the WebSocket (through SOCKS5 for `.onion`) and sends
 * one REQ; EOSE, an EVENT, a CLOSED or a NOTICE within the time limit is an answer (a relay that
 * refuses our filter still speaks Nostr). Anything else (refused, not a WebSocket, silence, garbage)
 * is a failure with a reason.
 */
import type { RelayClientConfig } from '../config/schema.js';
import { RelayConnection } from './connection.js';
import { errorMessage } from '../error-message.js';

export type ProbeResult =
  { ok: true; answer: 'eose' | 'event' | 'closed' | 'notice'; openMs: number; readMs: number } | { ok: false; reason: string };

export async function probeRelay(
  url: string,
  relayConfig: RelayClientConfig,
  timeoutMs: number,
  addresses: string[] = [],
): Promise<ProbeResult> {
  const config = { ...relayConfig, connect_timeout_ms: timeoutMs, request_timeout_ms: timeoutMs, idle_timeout_ms: timeoutMs };
  const started = performance.now();
  let connection: RelayConnection;
  try {
    connection = await RelayConnection.open({ url, config, addresses });
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
  const opened = performance.now();
  try {
    let events = 0;
    const end = await connection.subscribe([{ limit: 1 }], { onEvent: () => (events += 1) }, { subIdPrefix: 'probe' });
    const readMs = Math.round(performance.now() - opened);
    const openMs = Math.round(opened - started);
    if (end.reason === 'eose') return { ok: true, answer: events > 0 ? 'event' : 'eose', openMs, readMs };
    if (end.reason === 'closed' || end.reason === 'notice') return { ok: true, answer: end.reason, openMs, readMs };
    if (events > 0) return { ok: true, answer: 'event', openMs, readMs };
    return {
      ok: false,
      reason: end.reason === 'disconnected' ? `connection lost: ${end.message}` : `no answer to REQ within ${timeoutMs} ms`,
    };
  } finally {
    connection.close();
  }
}
