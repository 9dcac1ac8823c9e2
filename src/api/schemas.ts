/** Response shapes of the REST API (for the OpenAPI document and response serialization). */
import { z } from 'zod';

export const nostrEventSchema = z
  .object({
    id: z.string().describe('32-byte event id, hex'),
    pubkey: z.string().describe('author, 32-byte x-only public key, hex'),
    created_at: z.number().int().describe('unix seconds, as signed'),
    kind: z.number().int(),
    tags: z.array(z.array(z.string())),
    content: z.string(),
    sig: z.string().describe('64-byte BIP-340 signature, hex'),
  })
  .meta({ id: 'NostrEvent', description: 'A Nostr event exactly as signed (id and signature verify).' });

export const errorSchema = z
  .object({
    error: z.string(),
    message: z.string(),
    parameter: z.string().optional().describe('the request parameter that was rejected'),
  })
  .meta({ id: 'Error' });

export const relaySummarySchema = z
  .object({
    id: z.number().int(),
    url: z.string(),
    network: z.string(),
    state: z.string(),
    discovered_from: z.string(),
    discovered_at: z.string(),
    last_checked_at: z.string().nullable(),
    up: z.boolean().nullable(),
    rtt_open_ms: z.number().nullable(),
    name: z.string().nullable(),
    software: z.string().nullable(),
    version: z.string().nullable(),
    country: z.string().nullable(),
  })
  .meta({ id: 'RelaySummary' });
