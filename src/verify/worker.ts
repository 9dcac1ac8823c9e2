/**
 * Verification worker thread: receives batches of events, answers with one verdict code per event
 * (0 ok/json, 1 ok/nip01, 2 bad id, 3 bad signature).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { NostrEvent } from '../nostr/event.js';
import { loadVerifier, type VerifierChoice } from '../nostr/schnorr.js';
import { verifyEvents } from '../nostr/verify-event.js';
import { encodeVerdicts, type VerifyRequest, type VerifyResponse } from './protocol.js';

const verifier = loadVerifier((workerData as { verifier?: VerifierChoice } | undefined)?.verifier ?? 'auto');

parentPort?.postMessage({ ready: true, verifier: verifier.name });
parentPort?.on('message', (request: VerifyRequest) => {
  const events = JSON.parse(request.eventsJson) as NostrEvent[];
  const codes = encodeVerdicts(verifyEvents(events, verifier, request.signatureKnown));
  const response: VerifyResponse = { id: request.id, codes };
  parentPort?.postMessage(response, [codes.buffer as ArrayBuffer]);
});
